"""Rows of monitors and of their runs' results. No rules here: see services/monitors/."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, delete, func, insert, select
from sqlalchemy.orm import Session

from mlyard.entities.automation.monitor import Monitor, MonitorResult
from mlyard.store.jobs import as_utc
from mlyard.store.tables import MonitorResultRow, MonitorRow


def insert_monitor(session: Session, values: dict[str, Any]) -> None:
    session.execute(insert(MonitorRow).values(**values))


def monitor_row(session: Session, name: str, lock: bool = False) -> MonitorRow | None:
    query = select(MonitorRow).where(MonitorRow.name == name)
    if lock:
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()


def list_monitors(session: Session) -> list[MonitorRow]:
    return list(session.execute(select(MonitorRow).order_by(MonitorRow.name)).scalars())


def delete_monitor(session: Session, name: str) -> bool:
    done = session.execute(delete(MonitorRow).where(MonitorRow.name == name))
    return bool(done.rowcount)  # type: ignore[attr-defined]


def insert_results(session: Session, values: Sequence[dict[str, Any]]) -> None:
    if values:
        session.execute(insert(MonitorResultRow), list(values))


def results_of_job(session: Session, job_id: str) -> list[MonitorResultRow]:
    query = select(MonitorResultRow).where(MonitorResultRow.job_id == job_id).order_by(MonitorResultRow.id)
    return list(session.execute(query).scalars())


def latest_job(session: Session, monitor: str) -> str | None:
    """The job of the monitor's newest stored results."""
    query = (
        select(MonitorResultRow.job_id)
        .where(MonitorResultRow.monitor == monitor)
        .order_by(MonitorResultRow.id.desc())
        .limit(1)
    )
    return session.execute(query).scalar_one_or_none()


def job_counts(session: Session, monitor: str, limit: int) -> list[tuple[str, int, int]]:
    """(job id, breached results, signal errors) of the monitor's newest `limit` runs, newest first."""
    breached = func.sum(func.cast(MonitorResultRow.breached, Integer))
    errors = func.count(MonitorResultRow.error)
    query = (
        select(MonitorResultRow.job_id, breached, errors, func.max(MonitorResultRow.id).label("last"))
        .where(MonitorResultRow.monitor == monitor)
        .group_by(MonitorResultRow.job_id)
        .order_by(func.max(MonitorResultRow.id).desc())
        .limit(limit)
    )
    return [(job, int(b or 0), int(e or 0)) for job, b, e, _ in session.execute(query)]


def series(
    session: Session, monitor: str, signal: str, feature: str, metric: str | None, limit: int
) -> list[MonitorResultRow]:
    """One signal's results for one feature (and metric), oldest first, the newest `limit`."""
    query = select(MonitorResultRow).where(
        MonitorResultRow.monitor == monitor,
        MonitorResultRow.signal == signal,
        MonitorResultRow.feature == feature,
    )
    if metric is not None:
        query = query.where(MonitorResultRow.metric == metric)
    rows = list(session.execute(query.order_by(MonitorResultRow.id.desc()).limit(limit)).scalars())
    return rows[::-1]


def signal_series(session: Session, monitor: str, signal: str, runs: int) -> list[MonitorResultRow]:
    """Every feature's and metric's results of one signal in its newest `runs` runs, oldest first."""
    newest = (
        select(MonitorResultRow.job_id)
        .where(MonitorResultRow.monitor == monitor, MonitorResultRow.signal == signal)
        .group_by(MonitorResultRow.job_id)
        .order_by(func.max(MonitorResultRow.id).desc())
        .limit(runs)
    )
    query = select(MonitorResultRow).where(
        MonitorResultRow.monitor == monitor,
        MonitorResultRow.signal == signal,
        MonitorResultRow.job_id.in_(newest.scalar_subquery()),
    )
    return list(session.execute(query.order_by(MonitorResultRow.id)).scalars())


def recorded_series(session: Session, monitor: str) -> list[tuple[str, str, str]]:
    """Every (signal, feature, metric) the monitor's runs recorded."""
    query = select(MonitorResultRow.signal, MonitorResultRow.feature, MonitorResultRow.metric).where(
        MonitorResultRow.monitor == monitor
    )
    return [(signal, feature, metric) for signal, feature, metric in session.execute(query.distinct())]


def to_monitor(row: MonitorRow) -> Monitor:
    return Monitor(
        name=row.name, display_name=row.display_name, description=row.description, tags=dict(row.tags),
        spec=dict(row.spec), target_kind=row.target_kind, endpoint=row.endpoint, deployment=row.deployment,
        model=row.model, lookback=row.lookback, schedule=row.schedule, created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at), created_by=row.created_by,
    )  # fmt: skip


def to_result(row: MonitorResultRow) -> MonitorResult:
    return MonitorResult(
        monitor=row.monitor, job_id=row.job_id, signal=row.signal, signal_type=row.signal_type,
        feature=row.feature, metric=row.metric, value=row.value, threshold=row.threshold,
        breached=row.breached, error=row.error, reference_histogram=row.reference_histogram,
        production_histogram=row.production_histogram,
        window_start=as_utc(row.window_start), window_end=as_utc(row.window_end),
        reference=row.reference, created_at=as_utc(row.created_at),
    )  # fmt: skip
