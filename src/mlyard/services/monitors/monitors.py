"""Monitors: create (checked whole first, nothing stored on any error), get, list, show with the
latest verdicts and a short history, a signal's series, delete (the runs and their results stay,
as Azure's schedule delete keeps its jobs). Every change is audited.

A monitor made with a trigger is also a schedule of the same name (services/schedules creates
both in one transaction through `insert_monitor`); deleting the monitor deletes that schedule.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from mlyard.entities.automation.monitor import (
    MONITOR_JOB_TYPE,
    MONITOR_TAG,
    Monitor,
    MonitorDetails,
    MonitorResult,
    MonitorRunSummary,
)
from mlyard.entities.automation.schedule_spec import MonitorFile
from mlyard.entities.specs.names import validate_name
from mlyard.entities.specs.spec_files import did_you_mean
from mlyard.errors import AlreadyExists, InvalidArgument, InvalidSpec, NotFound
from mlyard.services.monitors import alerts
from mlyard.services.monitors.specs import CheckedMonitor, StatisticsCheck, check_monitor
from mlyard.services.workspaces import audit
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import monitors as rows
from mlyard.store import schedules as schedule_rows
from mlyard.store.tables import MonitorRow

SHOWN_RUNS = 5
HISTORY_LIMIT = 200


def check_monitor_file(
    workspace: Workspace,
    spec: MonitorFile,
    base_dir: Path,
    source: str,
    lookback: str | None,
    check_statistics: StatisticsCheck | None,
) -> CheckedMonitor:
    try:
        validate_name(spec.name, "monitor name")
    except InvalidArgument as exc:
        raise InvalidSpec(f"{source}: name: {exc.message}") from None
    return check_monitor(workspace, spec.create_monitor, base_dir, source, lookback, check_statistics)


def create_monitor(
    workspace: Workspace,
    spec: MonitorFile,
    base_dir: Path,
    source: str = "monitor",
    check_statistics: StatisticsCheck | None = None,
    now: datetime | None = None,
) -> Monitor:
    """A monitor without a trigger (run with `mlyard monitor run`); see services/schedules for one
    with a trigger."""
    now = now or datetime.now(UTC)
    checked = check_monitor_file(workspace, spec, base_dir, source, None, check_statistics)
    return workspace.database.write(lambda session: insert_monitor(session, spec, checked, None, now))


def insert_monitor(
    session: Session, spec: MonitorFile, checked: CheckedMonitor, schedule: str | None, now: datetime
) -> Monitor:
    """Store a checked monitor in the caller's transaction (a schedule's, when it has a trigger)."""
    if rows.monitor_row(session, spec.name) is not None:
        raise AlreadyExists(f"monitor {spec.name!r} already exists; delete it first: mlyard monitor delete")
    target = checked.target
    rows.insert_monitor(
        session,
        dict(name=spec.name, display_name=spec.display_name, description=spec.description,
             tags=dict(spec.tags), spec=checked.spec, target_kind=target.kind, endpoint=target.endpoint,
             deployment=target.deployment, model=target.model, lookback=checked.lookback, schedule=schedule,
             base_dir=checked.base_dir, enabled=spec.is_enabled, created_at=now, updated_at=now,
             created_by=audit.current_actor().name),
    )  # fmt: skip
    signals = ", ".join(f"{n} ({s['type']})" for n, s in checked.spec["monitoring_signals"].items())
    watched = f"{target.endpoint}:{target.deployment}" if target.endpoint else "two data sets"
    summary = f"monitor {spec.name} of {watched}: {signals}"
    audit.record(session, "monitor.create", "monitor", spec.name, summary, after={"spec": checked.spec})
    row = rows.monitor_row(session, spec.name)
    assert row is not None
    return rows.to_monitor(row)


def get_monitor(workspace: Workspace, name: str) -> Monitor:
    with workspace.database.read() as session:
        return rows.to_monitor(_row(session, name))


def list_monitors(workspace: Workspace) -> list[Monitor]:
    with workspace.database.read() as session:
        return [rows.to_monitor(row) for row in rows.list_monitors(session)]


def delete_monitor(workspace: Workspace, name: str) -> None:
    """Remove the monitor and the schedule that runs it; its runs and their results stay."""

    def work(session: Session) -> None:
        row = _row(session, name, lock=True)
        before = {"spec": row.spec, "schedule": row.schedule}
        if row.schedule is not None:
            schedule_rows.delete_schedule(session, row.schedule)
        rows.delete_monitor(session, name)
        alerts.forget_monitor(session, name)
        audit.record(session, "monitor.delete", "monitor", name, f"deleted monitor {name}", before=before)

    workspace.database.write(work)


def delete_monitor_of_schedule(session: Session, schedule: str) -> None:
    """A monitor schedule deleted (`schedule delete`): its monitor goes with it, in that transaction."""
    row = rows.monitor_row(session, schedule, lock=True)
    if row is not None and row.schedule == schedule:
        rows.delete_monitor(session, schedule)
        alerts.forget_monitor(session, schedule)
        audit.record(
            session, "monitor.delete", "monitor", schedule, f"deleted monitor {schedule} with its schedule"
        )


def record_results(
    workspace: Workspace, monitor: str, job_id: str, results: Sequence[dict[str, Any]]
) -> None:
    """Store one run's results (each a `MonitorResult`'s fields less monitor, job and time)."""
    now = datetime.now(UTC)
    values = [{**result, "monitor": monitor, "job_id": job_id, "created_at": now} for result in results]
    workspace.database.write(lambda session: rows.insert_results(session, values))


def job_results(workspace: Workspace, job_id: str) -> list[MonitorResult]:
    with workspace.database.read() as session:
        return [rows.to_result(row) for row in rows.results_of_job(session, job_id)]


def show_monitor(workspace: Workspace, name: str, runs: int = SHOWN_RUNS) -> MonitorDetails:
    """The monitor, its latest run's verdicts (one per signal, feature and metric) and its last runs."""
    from mlyard.services.tracking.jobs import search_jobs

    with workspace.database.read() as session:
        monitor = rows.to_monitor(_row(session, name))
        latest = rows.latest_job(session, name)
        verdicts = [rows.to_result(r) for r in rows.results_of_job(session, latest)] if latest else []
        counts = {job: (b, e) for job, b, e in rows.job_counts(session, name, runs)}
    quoted = name.replace("'", "''")
    jobs = search_jobs(workspace, f"tags.`{MONITOR_TAG}` = '{quoted}'", max_results=runs)
    summaries = [
        MonitorRunSummary(job_id=job.id, status=str(job.status.value), created_at=job.created_at,
                          breached=counts.get(job.id, (0, 0))[0], errors=counts.get(job.id, (0, 0))[1])
        for job in jobs if job.type == MONITOR_JOB_TYPE
    ]  # fmt: skip
    return MonitorDetails(monitor=monitor, latest_job=latest, verdicts=verdicts, runs=summaries)


def monitor_history(
    workspace: Workspace, name: str, signal: str, feature: str, metric: str | None = None,
    limit: int = HISTORY_LIMIT,
) -> list[MonitorResult]:  # fmt: skip
    """One signal's results for one feature (and metric) across runs, oldest first. Works for a
    deleted monitor too: its results stay."""
    with workspace.database.read() as session:
        found = rows.series(session, name, signal, feature, metric, limit)
        if not found and rows.monitor_row(session, name) is None and rows.latest_job(session, name) is None:
            raise NotFound(f"monitor {name!r} does not exist; list them with: mlyard monitor list")
        if not found:
            _check_series_names(rows.recorded_series(session, name), name, signal, feature, metric)
        return [rows.to_result(row) for row in found]


def signal_histories(
    workspace: Workspace, name: str, signal: str, limit: int = HISTORY_LIMIT
) -> dict[tuple[str, str], list[MonitorResult]]:
    """`monitor_history` of every (feature, metric) of one signal at once, over the signal's newest
    `limit` runs, oldest first; {} for a signal the monitor's runs never recorded."""
    found: dict[tuple[str, str], list[MonitorResult]] = {}
    with workspace.database.read() as session:
        for row in rows.signal_series(session, name, signal, limit):
            found.setdefault((row.feature, row.metric), []).append(rows.to_result(row))
    return found


def _check_series_names(
    recorded: list[tuple[str, str, str]], name: str, signal: str, feature: str, metric: str | None
) -> None:
    """A misspelt signal, feature or metric is an error naming what the runs recorded (with a
    did-you-mean), not an empty history; a monitor that has not run yet has no history at all."""
    if not recorded:
        return
    asked = (("signal", signal), ("feature", feature)) + ((("metric", metric),) if metric is not None else ())
    for depth, (what, value) in enumerate(asked):
        known = sorted({series[depth] for series in recorded})
        if value not in known:
            raise NotFound(
                f"monitor {name!r} has recorded no {what} {value!r}{did_you_mean(value, known)}"
                + (f" for signal {signal!r}" if depth else "")
                + f"; its runs recorded: {', '.join(known)}"
            )
        recorded = [series for series in recorded if series[depth] == value]


def _row(session: Session, name: str, lock: bool = False) -> MonitorRow:
    row = rows.monitor_row(session, name, lock=lock)
    if row is None:
        raise NotFound(f"monitor {name!r} does not exist; list them with: mlyard monitor list")
    return row
