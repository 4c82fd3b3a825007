"""The outbox: every change writes its event in its own transaction, so an event exists exactly
when the change does; the delivery loop sends it afterwards (at least once).

`emit` is one INSERT in the caller's session — a registration pays that and nothing else. After
the commit it wakes this process's delivery loop; other processes find it within a poll.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from mlyard.entities.automation.event import Event
from mlyard.errors import InvalidArgument, NotFound
from mlyard.services.events.catalog import resolve_types
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import events as rows

MAX_LISTED = 10_000
_EMITTED = "mlyard_events_emitted"
_wake = threading.Condition()


def emit(session: Session, type: str, subject: str | None, data: dict[str, Any], depth: int = 0) -> str:
    """Record one event in the caller's transaction; returns its id (also the webhook-id)."""
    event_id = str(uuid.uuid4())
    rows.insert_event(
        session,
        {"id": event_id, "type": type, "subject": subject, "time": datetime.now(UTC), "data": data,
         "depth": depth, "dispatched": False},
    )  # fmt: skip
    session.info[_EMITTED] = True
    return event_id


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_EMITTED, False):
        with _wake:
            _wake.notify_all()


@sa_event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_EMITTED, None)


def wait_for_events(seconds: float) -> None:
    """Block until this process commits an event, or `seconds` pass (the delivery loop's poll)."""
    with _wake:
        _wake.wait(seconds)


def source_of(workspace: Workspace) -> str:
    """CloudEvents `source`: which workspace the event happened in."""
    return f"/mlyard/workspaces/{workspace.name}"


def list_events(
    workspace: Workspace,
    types: Sequence[str] = (),
    subject: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> list[Event]:
    """Events newest first, by type (full or short names), subject (a glob) and time."""
    if not 1 <= limit <= MAX_LISTED:
        raise InvalidArgument(f"limit must be between 1 and {MAX_LISTED}, got {limit}")
    full_types = resolve_types(list(types), "--type")
    like = None if subject is None else _like(subject)
    source = source_of(workspace)
    with workspace.database.read() as session:
        found = rows.list_events(session, full_types, like, _utc(since), _utc(until), limit)
        return [rows.to_event(row, source) for row in found]


def get_event(workspace: Workspace, event_id: str) -> Event:
    with workspace.database.read() as session:
        row = rows.get_event(session, event_id)
        if row is None:
            raise NotFound(f"event {event_id!r} does not exist; list events with: mlyard event list")
        return rows.to_event(row, source_of(workspace))


def _like(glob: str) -> str:
    escaped = glob.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
