"""Who may do what: roles, API keys, the actor behind a change, and audit events.

Roles are ordered; each includes the rights of those before it:

    reader       read everything in the workspace
    contributor  + create runs, data assets, environments, components, jobs; register models
    operator     + move model aliases, decide promotions, manage endpoints, schedules, workers
    admin        + API keys and workspace settings
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from mlyard.errors import InvalidArgument


class Role(StrEnum):
    READER = "reader"
    CONTRIBUTOR = "contributor"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


_RANKS = {Role.READER: 0, Role.CONTRIBUTOR: 1, Role.OPERATOR: 2, Role.ADMIN: 3}

ANONYMOUS = "anonymous"  # a server's caller without a key, in a workspace that needs none


class Actor(BaseModel):
    """Whoever a change is attributed to: a key's owner over HTTP, or the local user."""

    model_config = {"frozen": True}

    name: str
    role: Role
    address: str | None = None  # the client's IP address; None for a local process
    via: str = "local"  # local | api | mlflow | worker
    key_id: str | None = None
    request_id: str | None = None

    @property
    def is_local(self) -> bool:
        """A process working on the workspace's own files, not a client of a server."""
        return self.via == "local"

    @property
    def is_anonymous(self) -> bool:
        """A server's caller that showed no key (nor the local token): admin of a keyless
        workspace, yet nobody in particular."""
        return self.name == ANONYMOUS and self.key_id is None and not self.is_local


class ApiKey(BaseModel):
    """An API key as listed: never its secret, which is shown once when it is created."""

    id: str
    owner: str
    role: Role
    description: str | None = None
    created_at: datetime
    created_by: str | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


class AuditEvent(BaseModel):
    id: int
    at: datetime
    actor: str
    role: str | None = None
    address: str | None = None
    via: str | None = None
    request_id: str | None = None
    action: str = Field(description="e.g. model.alias.set, data.create, key.revoke")
    entity_type: str
    entity_id: str
    summary: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


def parse_since(text: str | None) -> datetime | None:
    """The start of an audit query, as `mlyard audit list --since` and the studio take it:
    `2026-11-30`, `2026-11-30T08:00`, or a span back from now: `30m`, `12h`, `7d`."""
    if not text:
        return None
    units = {"m": "minutes", "h": "hours", "d": "days"}
    if text[-1:] in units and text[:-1].isdigit():
        try:
            return datetime.now(UTC) - timedelta(**{units[text[-1]]: int(text[:-1])})
        except OverflowError:  # further back than datetime goes
            raise InvalidArgument(f"since {text!r}: that is before the year 1") from None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(
            f"since {text!r}: expected a date/time (2026-11-30T08:00) or 30m, 12h, 7d"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
