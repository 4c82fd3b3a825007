"""The audit trail: who changed what, when and from where — written with the change itself.

Every service that changes something calls `record(session, ...)` inside the same transaction as
the change, so an event exists exactly when the change does. The actor comes from the context:
the team server sets it per request from the API key (`acting_as`); a local process is the local
user, with full rights over a workspace whose files it holds. The table is append-only: the
database refuses UPDATE and DELETE on it (triggers from schema 0003).

Tracked-run data (params, metrics, tags) is not audited: it is the run's content, not a change of
the workspace, and it would drown the trail.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from mlyard.entities.governance.access import Actor, AuditEvent, Role
from mlyard.errors import InvalidArgument
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import access as rows

MAX_LISTED = 10_000
_SUMMARY_LIMIT = 2000

_actor: ContextVar[Actor | None] = ContextVar("mlyard_actor", default=None)


def local_actor() -> Actor:
    return Actor(name=current_user(), role=Role.ADMIN, via="local")


def current_actor() -> Actor:
    """Who the current change is attributed to (the local user outside a server request)."""
    return _actor.get() or local_actor()


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Attribute every change made inside the block to `actor`."""
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


def set_actor(actor: Actor | None) -> None:
    """Set the actor for the rest of this context (a server request's task); `acting_as` elsewhere."""
    _actor.set(actor)


def record(
    session: Session,
    action: str,
    entity_type: str,
    entity_id: str,
    summary: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append one event to the trail, in the caller's transaction."""
    actor = current_actor()
    rows.insert_event(
        session,
        dict(
            at=datetime.now(UTC),
            actor=actor.name,
            role=actor.role.value,
            address=actor.address,
            via=actor.via,
            request_id=actor.request_id,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id[:512],
            summary=summary[:_SUMMARY_LIMIT],
            before=before,
            after=after,
        ),
    )


def list_events(
    workspace: Workspace,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actions: Sequence[str] = (),
    limit: int = 100,
) -> list[AuditEvent]:
    """Events newest first, filtered by time, actor, entity and action."""
    if not 1 <= limit <= MAX_LISTED:
        raise InvalidArgument(f"limit must be between 1 and {MAX_LISTED}, got {limit}")
    with workspace.database.read() as session:
        return rows.list_events(
            session, _utc(since), _utc(until), actor, entity_type, entity_id, actions, limit
        )


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@lru_cache(maxsize=1)
def current_user() -> str:
    """Who runs this process: the name the audit trail and run records give a local caller."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return os.environ.get("USER", "unknown")
