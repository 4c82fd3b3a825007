"""Event triggers: a committed event that matches a schedule's `trigger: {type: event}` records a
firing whose job gets the event bound (`${{event.data.ModelName}}`, `${{event.subject}}`).

Loops are refused twice: at create time when the trigger would fire on its own job's events
(`specs`), and here when a chain of triggers grows deeper than the workspace's
`trigger_max_depth` — each event carries how many triggers led to it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from mlyard.services.events.dispatch import fan_out
from mlyard.services.events.matching import matches
from mlyard.services.schedules.firing import record_firing
from mlyard.services.workspaces.settings import WorkspaceSettings
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import access as settings_rows
from mlyard.store import schedules as rows
from mlyard.store.jobs import as_utc
from mlyard.store.tables import EventRow

logger = logging.getLogger("mlyard.schedules")


def dispatch_events(workspace: Workspace, now: datetime | None = None) -> int:
    """Fan new events out to subscriptions and to event triggers, once each."""
    return fan_out(workspace, (fire_event_triggers,), now)


def fire_event_triggers(session: Session, events: Sequence[EventRow], now: datetime) -> None:
    """Record a firing for every enabled event trigger each event matches (in the fan-out's
    transaction, so an event fires each trigger once)."""
    types = sorted({event.type for event in events})
    triggers = rows.event_triggers(session, types)
    if not triggers:
        return
    max_depth = WorkspaceSettings.model_validate(settings_rows.get_settings(session)).trigger_max_depth
    for event in events:
        for schedule in triggers:
            if schedule.event_type != event.type:
                continue
            if not matches(dict(schedule.trigger.get("filter") or {}), event.subject, event.data):
                continue
            payload = {"id": event.id, "type": event.type, "subject": event.subject,
                       "time": as_utc(event.time).isoformat(), "data": event.data}  # fmt: skip
            if event.depth >= max_depth:
                logger.warning(
                    "schedule %s: event %s is %d triggers deep (trigger_max_depth %d): not fired, a loop",
                    schedule.name,
                    event.id,
                    event.depth,
                    max_depth,
                )
                refusal = (
                    f"refused: {event.depth} chained triggers reached trigger_max_depth {max_depth} (a loop?)"
                )
                rows.insert_firing(
                    session,
                    dict(schedule=schedule.name, reason="event", scheduled_for=now, fired_at=now,
                         state=rows.FAILED, lease_until=None, event_id=event.id, event=payload,
                         depth=event.depth + 1, job_id=None, error=refusal),
                )  # fmt: skip
                continue
            record_firing(session, schedule.name, "event", now, now, payload, event.depth + 1)
            rows.mark_fired(session, schedule.name, now)  # `schedule list` shows when it last fired
