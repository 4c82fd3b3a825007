"""API keys: created with a role, shown once, stored as a hash, revocable, optionally expiring.

A key reads `mly_<id>_<secret>`. The id finds the row; only a SHA-256 of the secret is stored
(keys are 192 random bits, so a fast hash is enough — slow hashes are for guessable passwords).
Keys belong to one workspace: they live in its database.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from mlyard.entities.governance.access import ApiKey, Role
from mlyard.errors import AlreadyExists, InvalidArgument, NotFound, Unauthenticated
from mlyard.services.workspaces import audit
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import access as rows

PREFIX = "mly"
# The key a server request came with: a registry reached from a workspace request checks the
# caller's role in the registry with the same key (services/registries/access.py).
_presented: ContextVar[str | None] = ContextVar("mlyard_presented_key", default=None)
_TOKEN = re.compile(r"^mly_([0-9a-f]{12})_([A-Za-z0-9_\-]{20,128})$")
_OWNER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@\-:]{0,254}$")


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    token: str  # the full secret; shown once, never stored


def parse_role(value: str | Role) -> Role:
    try:
        return Role(str(value).lower())
    except ValueError:
        valid = ", ".join(role.value for role in Role)
        raise InvalidArgument(f"unknown role {value!r}; roles are: {valid}") from None


def create_key(
    workspace: Workspace,
    owner: str,
    role: str | Role,
    description: str | None = None,
    expires_in_days: float | None = None,
    token: str | None = None,
) -> CreatedKey:
    """A new key acting as `owner` with `role`; the returned token is the only copy of its secret.

    `token`: an existing key (of a workspace or a registry) given a role in this store too, so one
    key carries a role per store — how a workspace's key gets its role in a shared registry.

    Never for an anonymous caller: a keyless server is open to every process on its machine, and
    a key made that way would give any of them lasting admin rights. The first key is made where
    the workspace's files are, by whoever can read them (and so owns the workspace anyway)."""
    by = audit.current_actor()
    if by.is_anonymous:
        raise Unauthenticated(
            "an API key is made by an admin: send an admin's key, or make the first one on the "
            "workspace's machine without --url / MLYARD_URL: mlyard key create --owner YOU --role admin"
        )
    if not isinstance(owner, str) or not _OWNER.match(owner):
        raise InvalidArgument(
            f"invalid key owner {owner!r}: a user or service name of letters, digits, '.', '_', '-', "
            "'@' or ':' (at most 255)"
        )
    chosen = parse_role(role)
    if expires_in_days is not None and not 0 < expires_in_days <= 3650:
        raise InvalidArgument(f"expires_in_days must be between 0 and 3650, got {expires_in_days}")
    now = datetime.now(UTC)
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(24)
    if token is not None:
        match = _TOKEN.match(token.strip())
        if match is None:
            raise InvalidArgument("--token must be an mlyard API key (mly_<id>_<secret>)")
        key_id, secret = match.groups()
        with workspace.database.read() as session:
            if rows.key_with_hash(session, key_id) is not None:
                raise AlreadyExists(f"key {key_id} already has a role here; revoke it first to change it")
    expires_at = now + timedelta(days=expires_in_days) if expires_in_days else None

    def work(session: Session) -> None:
        rows.insert_key(
            session,
            dict(
                id=key_id, owner=owner, role=chosen.value, secret_hash=_hash(secret),
                description=description, created_at=now, created_by=by.name, expires_at=expires_at,
            ),
        )  # fmt: skip
        audit.record(
            session, "key.create", "api_key", key_id, f"key {key_id} for {owner} with role {chosen.value}",
            after={"owner": owner, "role": chosen.value, "expires_at": _iso(expires_at)},
        )  # fmt: skip

    workspace.database.write(work)
    key = ApiKey(
        id=key_id, owner=owner, role=chosen, description=description, created_at=now, created_by=by.name,
        expires_at=expires_at,
    )  # fmt: skip
    return CreatedKey(key, f"{PREFIX}_{key_id}_{secret}")


def list_keys(workspace: Workspace) -> list[ApiKey]:
    with workspace.database.read() as session:
        return rows.list_keys(session)


def revoke_key(workspace: Workspace, key_id: str) -> None:
    """Revoke a key at once; revoking twice, or an unknown key, is NotFound."""

    def work(session: Session) -> None:
        if not rows.revoke_key(session, key_id, datetime.now(UTC)):
            raise NotFound(f"no active API key {key_id!r} in this workspace; list them with: mlyard key list")
        audit.record(session, "key.revoke", "api_key", key_id, f"key {key_id} revoked")

    workspace.database.write(work)


def key_id_of(token: str) -> str | None:
    """The key id a token names, or None when it is not shaped like one of our keys."""
    match = _TOKEN.match(token)
    return match.group(1) if match else None


def verify_key(workspace: Workspace, token: str, *, now: datetime | None = None) -> ApiKey | None:
    """The active key `token` is, or None (unknown, wrong secret, revoked or expired).

    `now` (default: the real time) is when expiry is judged, so tests need not wait for it.
    """
    match = _TOKEN.match(token)
    if match is None:
        return None
    key_id, secret = match.groups()
    with workspace.database.read() as session:
        found = rows.key_with_hash(session, key_id)
    if found is None:
        return None
    key, stored_hash = found
    if not hmac.compare_digest(stored_hash, _hash(secret)):
        return None
    if key.state(now or datetime.now(UTC)) != "active":
        return None
    return key


def note_use(workspace: Workspace, key_id: str) -> None:
    """Record when a key was last used (callers throttle this)."""
    workspace.database.write(lambda session: rows.touch_key(session, key_id, datetime.now(UTC)))


def has_keys(workspace: Workspace, role: Role | None = None) -> bool:
    with workspace.database.read() as session:
        return rows.count_keys(session, role) > 0


def _hash(secret: str) -> str:
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def set_presented_key(token: str | None) -> None:
    """The API key of the current server request (for the rest of its context)."""
    _presented.set(token)


def presented_key() -> str | None:
    return _presented.get()
