"""Authentication and roles for `/api/v1/workspaces/{ws}/...`: API keys sent as `Authorization: Bearer`.

Each route declares the least role it needs by the workspace type it takes:

    def list_models(workspace: ReaderWorkspace) ...        reader and up
    def register_model(workspace: ContributorWorkspace) ... contributor and up
    def set_alias(workspace: OperatorWorkspace) ...         operator and up
    def create_key(workspace: AdminWorkspace) ...           admin

401 means no usable key (missing, malformed, unknown, revoked, expired); 403 means a valid key
whose role is too low — or a key of another workspace, which never sees this one's data. With
authentication off (a loopback-only server without keys) every caller is `anonymous` with the
admin role — except for making keys (`services.keys`). By default authentication is on for a
workspace once it has a key, and a key made while the server runs (`mlyard key create` on the
workspace's machine writes the database directly) turns it on within `KEYLESS_RECHECK_SECONDS`,
at once for a request that brings a key. The caller becomes the audit actor of whatever the
request changes.
"""

from __future__ import annotations

import base64
import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from mlyard.entities.governance.access import ANONYMOUS, Actor, ApiKey, Role
from mlyard.errors import PermissionDenied, Unauthenticated
from mlyard.server.workspaces import REGISTRY_MARK, ServedWorkspaces, describe_scope, served_workspace
from mlyard.services.workspaces import audit, keys
from mlyard.services.workspaces.server_file import local_token
from mlyard.services.workspaces.workspace import Workspace

CACHE_SECONDS = 5.0  # a revoked key stops working within this long
KEYLESS_RECHECK_SECONDS = 1.0  # a key made beside a running server closes its workspace within this long
LAST_USED_EVERY = 60.0


class Authenticator:
    """Turns a request's credentials into the actor it acts as, for one served workspace."""

    def __init__(self, workspaces: ServedWorkspaces, enabled: bool | None) -> None:
        self._workspaces = workspaces
        # None: per workspace, on once it has a key. "On" is for the server's life (revoking every
        # key does not reopen it); "off" is looked at again, as keys are made beside the server.
        self._enabled = enabled
        self._decided: dict[str, bool] = {}
        self._keyless_since: dict[str, float] = {}  # when auto mode last found no key
        self._cache: dict[tuple[str, str], tuple[ApiKey, float]] = {}
        self._noted: dict[str, float] = {}

    def decided(self, ws: str) -> bool | None:
        """Whether workspace `ws` needs keys, or None when auto mode must look (again)."""
        if self._enabled is not None:
            return self._enabled
        decided = self._decided.get(ws)
        if decided is False and time.monotonic() - self._keyless_since[ws] >= KEYLESS_RECHECK_SECONDS:
            return None
        return decided

    def is_enabled(self, ws: str, recheck: bool = False) -> bool:
        """Blocking when auto mode must look for a key in the workspace's database: the first
        time, once a keyless answer is stale, or with `recheck` (a request brought a key)."""
        decided = self.decided(ws)
        if decided is None or (recheck and decided is False and self._enabled is None):
            decided = keys.has_keys(self._workspaces.open(ws))
            self._keyless_since[ws] = time.monotonic()
            self._decided[ws] = decided
        return decided

    def cached(self, ws: str, token: str) -> ApiKey | None:
        entry = self._cache.get((ws, token))
        if entry is not None and time.monotonic() - entry[1] < CACHE_SECONDS:
            return entry[0]
        return None

    def verify(self, ws: str, workspace: Workspace, token: str) -> ApiKey:
        """The key behind `token` in workspace `ws` (blocking: reads the database)."""
        key = keys.verify_key(workspace, token)
        if key is None:
            self._refuse_foreign_key(ws, token)
            raise Unauthenticated(
                f"the API key is not valid for {describe_scope(ws)} (unknown, revoked or expired); "
                "ask an admin for a key: mlyard key create --owner YOU --role contributor"
            )
        now = time.monotonic()
        self._cache[(ws, token)] = (key, now)
        if now - self._noted.get(key.id, -LAST_USED_EVERY) >= LAST_USED_EVERY:
            self._noted[key.id] = now
            keys.note_use(workspace, key.id)
        return key

    def _refuse_foreign_key(self, ws: str, token: str) -> None:
        """A valid key of another served workspace is 403, not 401: it is known, just not here."""
        if keys.key_id_of(token) is None:
            return
        for other in self._workspaces.names():
            if other == ws:
                continue
            if keys.verify_key(self._workspaces.open(other), token) is not None:
                hint = (
                    f"; a registry admin gives it a role there: mlyard key create --registry-name {ws[1:]} "
                    "--owner NAME --role reader --token KEY"
                    if ws.startswith(REGISTRY_MARK)
                    else ""
                )
                raise PermissionDenied(
                    f"this API key belongs to workspace {other!r}; it cannot reach {describe_scope(ws)}{hint}"
                )


def _bearer_or_none(request: Request) -> str | None:
    try:
        return bearer_token(request)
    except Unauthenticated:
        return None


def bearer_token(request: Request) -> str | None:
    """The key from `Authorization: Bearer <key>` (or Basic with the key as password, as MLflow sends)."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return value
    if scheme.lower() == "basic" and value:
        try:
            return base64.b64decode(value, validate=True).decode().partition(":")[2] or None
        except (ValueError, UnicodeDecodeError):
            return None
    raise Unauthenticated("the Authorization header must be 'Bearer <API key>'")


async def authenticate(request: Request, ws: str, workspace: Workspace, via: str = "api") -> Actor:
    """The actor of this request in workspace `ws`; Unauthenticated without a valid key."""
    address = request.client.host if request.client else None
    request_id = request.scope.get("state", {}).get("request_id")
    local = _local_actor(request, ws, address, via, request_id)
    if local is not None:
        return local
    return await authenticate_key(request, ws, workspace, bearer_token(request), via)


async def authenticate_key(
    request: Request, ws: str, workspace: Workspace, token: str | None, via: str = "api"
) -> Actor:
    """The actor `token` makes of this request in `ws` (the studio's key comes from its session
    cookie, the API's from the Authorization header); anonymous admin when keys are not required."""
    authenticator: Authenticator = request.app.state.authenticator
    address = request.client.host if request.client else None
    request_id = request.scope.get("state", {}).get("request_id")
    brings_key = token is not None
    enabled = authenticator.decided(ws)
    if enabled is None or (enabled is False and brings_key):
        # A key sent to a keyless workspace may be its first one, made a moment ago: look now.
        enabled = await run_in_threadpool(authenticator.is_enabled, ws, brings_key)
    if not enabled:
        return Actor(name=ANONYMOUS, role=Role.ADMIN, address=address, via=via, request_id=request_id)
    if token is None:
        raise Unauthenticated(
            f"{describe_scope(ws)} needs an API key: send 'Authorization: Bearer <key>' (the SDK and CLI "
            "read it from MLYARD_KEY)"
        )
    key = authenticator.cached(ws, token)
    if key is None:
        key = await run_in_threadpool(authenticator.verify, ws, workspace, token)
    return Actor(
        name=key.owner, role=key.role, address=address, via=via, key_id=key.id, request_id=request_id
    )


def _local_actor(
    request: Request, ws: str, address: str | None, via: str, request_id: str | None
) -> Actor | None:
    """A client on this machine with the workspace's local token (from `server.json` in the
    workspace folder, readable only by whoever can read the workspace itself) acts as its owner."""
    secret: bytes | None = getattr(request.app.state, "local_secret", None)
    header = request.headers.get("authorization", "")
    if not secret or not header.lower().startswith("bearer local_"):
        return None
    if not hmac.compare_digest(header[7:].strip().encode(), local_token(secret, ws).encode()):
        return None
    from mlyard.services.workspaces.audit import current_user

    return Actor(name=current_user(), role=Role.ADMIN, address=address, via=via, request_id=request_id)


def require(role: Role, via: str = "api") -> Callable[[str, Request], Awaitable[Workspace]]:
    """A dependency giving the served workspace `{ws}` once the caller is known to hold `role`."""

    async def dependency(ws: str, request: Request) -> Workspace:
        workspace = await served_workspace(ws, request)
        actor = await authenticate(request, ws, workspace, via)
        if not actor.role.allows(role):
            raise PermissionDenied(
                f"{actor.name} has role {actor.role.value} in {describe_scope(ws)}; this needs "
                f"{role.value} or above"
            )
        # An async dependency runs in the request's own context, which the threadpool running a
        # sync route copies: every change the route makes is attributed to this actor.
        audit.set_actor(actor)
        # A registry reached from this request checks the same key's role there.
        keys.set_presented_key(_bearer_or_none(request))
        request.state.actor = actor
        return workspace

    return dependency


ReaderWorkspace = Annotated[Workspace, Depends(require(Role.READER))]
ContributorWorkspace = Annotated[Workspace, Depends(require(Role.CONTRIBUTOR))]
OperatorWorkspace = Annotated[Workspace, Depends(require(Role.OPERATOR))]
AdminWorkspace = Annotated[Workspace, Depends(require(Role.ADMIN))]
