"""Schedules: create (checked whole first, nothing stored on any error), show with the next five
firings and the jobs created (and the firings missed before each), list soonest first, update,
enable, disable, delete (the jobs it created stay).
Every change is audited."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from mlyard.entities.automation.monitor import Monitor
from mlyard.entities.automation.schedule import Schedule, ScheduleDetails, ScheduleFiring
from mlyard.entities.automation.schedule_spec import (
    CronTrigger,
    MonitorFile,
    RecurrenceTrigger,
    Trigger,
    monitor_file_from_dict,
)
from mlyard.entities.specs.spec_files import load_yaml
from mlyard.errors import AlreadyExists, Conflict, NotFound
from mlyard.services.monitors.monitors import create_monitor, delete_monitor_of_schedule, insert_monitor
from mlyard.services.monitors.specs import StatisticsCheck
from mlyard.services.schedules.specs import CheckedSchedule, check_schedule
from mlyard.services.schedules.timing import Timing, timing_of
from mlyard.services.workspaces import audit
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import schedules as rows
from mlyard.store.jobs import as_utc
from mlyard.store.tables import ScheduleRow

SHOWN_FIRINGS = 5
MISSED_COUNTED = 1000  # a minute schedule down for a day says "1000+", not a long walk
TIMER_REASONS = ("cron", "recurrence")
_TRIGGER = TypeAdapter(Trigger)


def create_schedule_file(
    workspace: Workspace,
    path: Path,
    now: datetime | None = None,
    check_statistics: StatisticsCheck | None = None,
) -> Schedule:
    path = Path(path)
    return create_schedule(
        workspace, load_yaml(path), path.resolve().parent, str(path), now, check_statistics
    )


def create_schedule(
    workspace: Workspace,
    data: dict[str, Any],
    base_dir: Path,
    source: str = "schedule",
    now: datetime | None = None,
    check_statistics: StatisticsCheck | None = None,
) -> Schedule:
    """Check the schedule YAML in `data` (relative paths from `base_dir`) and store it enabled.
    A `create_monitor` schedule stores its monitor (of the same name) in the same transaction."""
    now = now or datetime.now(UTC)
    checked = check_schedule(workspace, data, base_dir, source, now, check_statistics)
    name = checked.spec.name

    def work(session: Session) -> Schedule:
        if rows.schedule_row(session, name) is not None:
            raise AlreadyExists(f"schedule {name!r} already exists; change it with: mlyard schedule update")
        rows.insert_schedule(
            session, _values(checked, now) | {"created_at": now, "created_by": audit.current_actor().name}
        )
        if checked.monitor is not None:
            monitor_file = MonitorFile.model_validate(
                checked.spec.model_dump(include={"name", "display_name", "description", "tags", "is_enabled"})
                | {"create_monitor": checked.spec.create_monitor}
            )
            insert_monitor(session, monitor_file, checked.monitor, name, now)
        created = _entity(session, name)
        audit.record(session, "schedule.create", "schedule", name, f"schedule {name}: {_describe(checked)}",
                     after={"trigger": checked.trigger, "create_job": checked.create_job})  # fmt: skip
        return created

    return workspace.database.write(work)


def create_monitor_file(
    workspace: Workspace,
    path: Path,
    check_statistics: StatisticsCheck | None = None,
    now: datetime | None = None,
) -> Monitor:
    """`mlyard monitor create --file`: the YAML's monitor (see `create_monitor_spec`)."""
    path = Path(path)
    return create_monitor_spec(
        workspace,
        load_yaml(path),
        path.resolve().parent,
        str(path),
        check_statistics=check_statistics,
        now=now,
    )


def create_monitor_spec(
    workspace: Workspace,
    data: dict[str, Any],
    base_dir: Path,
    source: str = "monitor",
    *,
    check_statistics: StatisticsCheck | None = None,
    now: datetime | None = None,
) -> Monitor:
    """A monitor YAML's mapping (relative paths from `base_dir`): with a trigger, the monitor and its
    schedule; without, the monitor alone (run with `mlyard monitor run`). The CLI, SDK and server
    all come here, each passing the statistics layer's check as `check_statistics`."""
    from mlyard.services.monitors.monitors import get_monitor

    spec = monitor_file_from_dict(data, source)
    if spec.trigger is not None:
        create_schedule(workspace, data, base_dir, source, now, check_statistics)
        return get_monitor(workspace, spec.name)
    return create_monitor(workspace, spec, base_dir, source, check_statistics, now)


def update_schedule_file(workspace: Workspace, path: Path, now: datetime | None = None) -> Schedule:
    path = Path(path)
    return update_schedule(workspace, load_yaml(path), path.resolve().parent, str(path), now)


def update_schedule(
    workspace: Workspace,
    data: dict[str, Any],
    base_dir: Path,
    source: str = "schedule",
    now: datetime | None = None,
) -> Schedule:
    """Replace a schedule's trigger, job and descriptions with those of a new YAML of the same name."""
    now = now or datetime.now(UTC)
    checked = check_schedule(workspace, data, base_dir, source, now)
    name = checked.spec.name

    def work(session: Session) -> Schedule:
        row = _row(session, name, lock=True)
        if checked.monitor is not None or row.create_job.get("kind") == "monitor":
            raise Conflict(
                f"schedule {name!r}: a monitor's schedule is replaced by deleting it and creating it again "
                "(its past runs and results stay)"
            )
        before = {"trigger": row.trigger, "create_job": row.create_job, "enabled": row.enabled}
        for key, value in _values(checked, now).items():
            setattr(row, key, value)
        audit.record(session, "schedule.update", "schedule", name, f"schedule {name}: {_describe(checked)}",
                     before=before,
                     after={"trigger": checked.trigger, "create_job": checked.create_job})  # fmt: skip
        return rows.to_schedule(row)

    return workspace.database.write(work)


def set_enabled(workspace: Workspace, name: str, enabled: bool, now: datetime | None = None) -> Schedule:
    """Enable (the next firing is the next one from now: none of those missed while disabled) or
    disable a schedule."""
    now = now or datetime.now(UTC)

    def work(session: Session) -> Schedule:
        row = _row(session, name, lock=True)
        if row.enabled != enabled:
            row.enabled, row.updated_at = enabled, now
            timing = timing_of_row(row)
            if enabled and timing is not None:
                never_fired = row.last_fired_at is None and timing.immediate
                row.next_fire_at = timing.first_firing() if never_fired else timing.next_after(now)
            verb = "enable" if enabled else "disable"
            audit.record(session, f"schedule.{verb}", "schedule", name, f"schedule {name} {verb}d")
        return rows.to_schedule(row)

    return workspace.database.write(work)


def delete_schedule(workspace: Workspace, name: str) -> None:
    """Remove the schedule; the jobs it created stay, as in Azure ML."""

    def work(session: Session) -> None:
        row = _row(session, name, lock=True)
        before = {"trigger": row.trigger, "create_job": row.create_job}
        rows.delete_schedule(session, name)
        if row.create_job.get("kind") == "monitor":
            delete_monitor_of_schedule(session, name)
        audit.record(session, "schedule.delete", "schedule", name, f"deleted schedule {name}", before=before)

    workspace.database.write(work)


def get_schedule(workspace: Workspace, name: str) -> Schedule:
    with workspace.database.read() as session:
        return rows.to_schedule(_row(session, name))


def list_schedules(workspace: Workspace) -> list[Schedule]:
    with workspace.database.read() as session:
        return [rows.to_schedule(row) for row in rows.list_schedules(session)]


def show_schedule(
    workspace: Workspace, name: str, now: datetime | None = None, firings: int = 20
) -> ScheduleDetails:
    """The schedule, its next five firing times (none while disabled) and its latest firings."""
    now = now or datetime.now(UTC)
    with workspace.database.read() as session:
        return _details(session, _row(session, name), now, firings)


def due_next(workspace: Workspace, now: datetime | None = None, firings: int = 1) -> list[ScheduleDetails]:
    """Every schedule as `show_schedule` shows it (with its latest `firings`), the soonest to fire
    first; disabled, ended and event-triggered ones last, by name (the studio's list and overview)."""
    now = now or datetime.now(UTC)
    with workspace.database.read() as session:
        found = [_details(session, row, now, firings) for row in rows.list_schedules(session)]
    never = datetime.max.replace(tzinfo=UTC)
    return sorted(found, key=lambda d: (d.next_firings[0] if d.next_firings else never, d.schedule.name))


def missed_firings(workspace: Workspace, name: str, firings: list[ScheduleFiring]) -> dict[int, int]:
    """Firing id → how many timer firings the schedule skipped just before it (the server was down,
    or the schedule disabled: missed firings collapse into one). `firings` newest first, as
    `show_schedule` lists them; counted up to MISSED_COUNTED each."""
    with workspace.database.read() as session:
        timing = timing_of_row(_row(session, name))
    if timing is None:
        return {}
    timed = [firing for firing in firings if firing.reason in TIMER_REASONS]
    missed = {}
    for later, earlier in itertools.pairwise(timed):
        skipped = timing.upcoming(as_utc(earlier.scheduled_for), MISSED_COUNTED + 1)
        count = min(MISSED_COUNTED, sum(1 for moment in skipped if moment < as_utc(later.scheduled_for)))
        if count:
            missed[later.id] = count
    return missed


def _details(session: Session, row: ScheduleRow, now: datetime, firings: int) -> ScheduleDetails:
    timing = timing_of_row(row)
    upcoming: list[datetime] = []
    first = as_utc(row.next_fire_at)
    if timing is not None and row.enabled and first is not None:
        upcoming = [first, *timing.upcoming(max(first, now), SHOWN_FIRINGS - 1)]
    return ScheduleDetails(
        schedule=rows.to_schedule(row),
        next_firings=upcoming[:SHOWN_FIRINGS],
        firings=[rows.to_firing(f) for f in rows.list_firings(session, row.name, firings)],
    )


def timing_of_row(row: ScheduleRow) -> Timing | None:
    """The timing of a stored timer schedule (None for an event trigger)."""
    trigger = _TRIGGER.validate_python(row.trigger)
    if not isinstance(trigger, CronTrigger | RecurrenceTrigger):
        return None
    return timing_of(trigger, as_utc(row.created_at))


def _values(checked: CheckedSchedule, now: datetime) -> dict[str, Any]:
    spec = checked.spec
    return dict(
        name=spec.name, display_name=spec.display_name, description=spec.description, tags=dict(spec.tags),
        trigger=checked.trigger, create_job=checked.create_job, base_dir=checked.base_dir, kind=checked.kind,
        event_type=checked.event_type, enabled=spec.is_enabled,
        next_fire_at=checked.first_firing() if spec.is_enabled else None, updated_at=now,
    )  # fmt: skip


def _entity(session: Session, name: str) -> Schedule:
    return rows.to_schedule(_row(session, name))


def _row(session: Session, name: str, lock: bool = False) -> ScheduleRow:
    row = rows.schedule_row(session, name, lock=lock)
    if row is None:
        raise NotFound(f"schedule {name!r} does not exist; list them with: mlyard schedule list")
    return row


def _describe(checked: CheckedSchedule) -> str:
    trigger = checked.trigger
    if checked.kind == "cron":
        when = f"cron {trigger['expression']!r} ({trigger.get('time_zone', 'UTC')})"
    elif checked.kind == "recurrence":
        zone = trigger.get("time_zone", "UTC")
        when = f"every {trigger.get('interval', 1)} {trigger['frequency']}(s) ({zone})"
    else:
        when = f"on {checked.event_type}" + (f" where {trigger['filter']}" if trigger.get("filter") else "")
    job = checked.create_job
    if job["kind"] == "monitor":
        what = f"monitor {job['monitor']}"
    elif job["kind"] == "job":
        what = f"job {job['job_id']}"
    else:
        what = f"a {job['spec'].get('type', 'command')} job"
    return f"{when} → {what}"
