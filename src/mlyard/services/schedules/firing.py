"""Firing schedules: due timers, `trigger` now, and turning pending firings into jobs.

Rules that live here:
- A due timer fires once: the firing is claimed by moving the schedule's next firing time with a
  compare-and-set, so of several servers exactly one records it. After downtime the missed
  firings collapse into one, for the latest missed time — never a burst.
- A firing is recorded (pending, with its `ScheduleFired` event) before its job is created; the
  job is created under a lease, so a server that dies in between leaves it to another.
- A job a schedule created carries tags naming the schedule, the firing and its trigger depth.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from mlyard.entities.automation.event import SCHEDULE_FIRED
from mlyard.entities.automation.schedule import ScheduleFiring
from mlyard.entities.jobs.job import Job
from mlyard.errors import MlyardError, NotFound
from mlyard.services.events.job_events import DEPTH_TAG
from mlyard.services.events.outbox import emit
from mlyard.services.schedules.schedules import timing_of_row
from mlyard.services.schedules.specs import bind
from mlyard.services.workspaces import audit
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import schedules as rows
from mlyard.store.jobs import as_utc

LEASE_SECONDS = 120.0
BATCH = 16
SCHEDULE_TAG = "mlyard.schedule"
FIRING_TAG = "mlyard.schedule_firing"
EVENT_TAG = "mlyard.trigger_event"


def fire_due(workspace: Workspace, now: datetime | None = None) -> list[int]:
    """Record a firing for every timer schedule that is due; returns the firings' ids."""
    now = now or datetime.now(UTC)
    with workspace.database.read() as session:
        due = rows.due_timers(session, now)
    fired = []
    for name, due_at in due:
        claim = functools.partial(_claim_due, name=name, due=due_at, now=now)
        firing = workspace.database.write(claim)
        if firing is not None:
            fired.append(firing)
    return fired


def _claim_due(session: Session, name: str, due: datetime, now: datetime) -> int | None:
    row = rows.schedule_row(session, name)
    if row is None:
        return None
    timing = timing_of_row(row)
    if timing is None:
        return None
    latest = timing.latest_due(due, now)
    if not rows.advance(session, name, due, timing.next_after(now), now):
        return None  # another server fired it
    return record_firing(session, name, row.kind, latest, now)


def trigger_now(workspace: Workspace, name: str, now: datetime | None = None) -> int:
    """Fire a schedule once now (`schedule trigger`), whatever its trigger; returns the firing id."""
    now = now or datetime.now(UTC)

    def work(session: Session) -> int:
        if rows.schedule_row(session, name) is None:
            raise NotFound(f"schedule {name!r} does not exist; list them with: mlyard schedule list")
        firing = record_firing(session, name, "manual", now, now)
        audit.record(session, "schedule.trigger", "schedule", name, f"schedule {name} triggered by hand")
        return firing

    return workspace.database.write(work)


def record_firing(
    session: Session,
    name: str,
    reason: str,
    scheduled_for: datetime,
    now: datetime,
    event: dict[str, Any] | None = None,
    depth: int = 0,
) -> int:
    """A pending firing and its `ScheduleFired` event, in the caller's transaction."""
    event_id = event["id"] if event else None
    firing = rows.insert_firing(
        session,
        dict(schedule=name, reason=reason, scheduled_for=scheduled_for, fired_at=now, state=rows.PENDING,
             lease_until=None, event_id=event_id, event=event, depth=depth, job_id=None, error=None),
    )  # fmt: skip
    emit(
        session, SCHEDULE_FIRED, f"schedules/{name}",
        {"ScheduleName": name, "Reason": reason, "ScheduledFor": scheduled_for.isoformat(),
         "TriggerEventId": event_id},
        depth,
    )  # fmt: skip
    return firing


@dataclass(frozen=True)
class Fired:
    firing: ScheduleFiring
    job: Job | None


def run_pending(
    workspace: Workspace, dispatch: str | None, now: datetime | None = None, only: int | None = None
) -> list[Fired]:
    """Create the job of each pending firing (or of firing `only`), claimed under a lease."""
    now = now or datetime.now(UTC)

    def claim(session: Session) -> list[int]:
        ids = rows.claimable_firings(session, now, BATCH, skip_locked=not workspace.database.is_sqlite)
        if only is not None:
            ids = [only] if only in ids or _claimable(session, only, now) else []
        if ids:
            rows.lease_firings(session, ids, now + timedelta(seconds=LEASE_SECONDS))
        return ids

    if only is None:
        with workspace.database.read() as session:
            if not rows.claimable_firings(session, now, 1, skip_locked=False):
                return []
    return [_run(workspace, firing_id, dispatch) for firing_id in workspace.database.write(claim)]


def _claimable(session: Session, firing_id: int, now: datetime) -> bool:
    row = rows.firing_row(session, firing_id)
    lease = as_utc(row.lease_until) if row is not None else None
    return row is not None and row.state == rows.PENDING and (lease is None or lease < now)


def _run(workspace: Workspace, firing_id: int, dispatch: str | None) -> Fired:
    with workspace.database.read() as session:
        firing = rows.firing_row(session, firing_id)
        assert firing is not None
        schedule = rows.schedule_row(session, firing.schedule)
        details = (firing.schedule, firing.scheduled_for, firing.event, firing.depth, firing.event_id)
        stored = (dict(schedule.create_job), schedule.base_dir) if schedule is not None else None
    job, error = None, None
    if stored is None:
        error = f"schedule {details[0]!r} was deleted before its job was created"
    else:
        try:
            job = _create_job(workspace, firing_id, details, stored[0], Path(stored[1]), dispatch)
        except MlyardError as exc:
            error = exc.message
    workspace.database.write(
        lambda session: rows.finish_firing(session, firing_id, job.id if job else None, error)
    )
    with workspace.database.read() as session:
        row = rows.firing_row(session, firing_id)
        assert row is not None
        return Fired(rows.to_firing(row), job)


def _create_job(
    workspace: Workspace,
    firing_id: int,
    details: tuple[str, datetime, dict[str, Any] | None, int, str | None],
    create_job: dict[str, Any],
    base_dir: Path,
    dispatch: str | None,
) -> Job:
    from mlyard.services.submission.dispatch import submit_job_dict
    from mlyard.services.submission.references import Submission, queue_submission

    name, scheduled_for, event, depth, event_id = details
    job_name = f"{name}-{as_utc(scheduled_for).strftime('%Y%m%d%H%M%S')}"
    tags = {SCHEDULE_TAG: name, FIRING_TAG: str(firing_id), DEPTH_TAG: str(depth)}
    if event_id:
        tags[EVENT_TAG] = event_id
    if create_job["kind"] == "monitor":
        from mlyard.services.monitors.runs import submit_monitor_run

        return submit_monitor_run(
            workspace, create_job["monitor"], dispatch, tags, as_of=as_utc(scheduled_for)
        )
    if create_job["kind"] == "job":
        from mlyard.services.execution.job_runs import get_spec
        from mlyard.services.tracking.jobs import get_job

        original = get_job(workspace, create_job["job_id"])
        submission = Submission(
            original.type, get_spec(workspace, original.id), original.experiment, job_name,
            {**original.tags, **create_job.get("tags", {}), **tags},
        )  # fmt: skip
        return queue_submission(workspace, submission, dispatch=dispatch)
    data = bind(create_job["spec"], job_name, event)
    data.setdefault("display_name", job_name)
    data["tags"] = {**(data.get("tags") or {}), **tags}
    return submit_job_dict(workspace, data, base_dir, f"schedule {name}: create_job", dispatch=dispatch)
