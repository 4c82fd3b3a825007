"""Rows of the gateway's per-minute counts (`endpoint_traffic_minutes`): merge, read, purge.

A merge adds to what the minute's row holds, so two flushes of one minute, or flushes of several
server processes, add up. Each merge first inserts the missing rows as zeros (`ON CONFLICT DO
NOTHING`), then locks the rows in key order (`FOR UPDATE` on PostgreSQL; SQLite's write
transaction holds its one lock already), so concurrent merges of the same minutes wait for each
other instead of losing counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from mlyard.entities.endpoints.endpoint import TrafficMinute, added_counts
from mlyard.store.jobs import as_utc
from mlyard.store.tables import EndpointTrafficMinuteRow as Row
from mlyard.store.upsert import insert_for

Key = tuple[str, str, datetime]


def merge_minutes(session: Session, minutes: Sequence[TrafficMinute]) -> None:
    """Add each minute's counts to its row (created when missing)."""
    by_key: dict[Key, TrafficMinute] = {}
    for minute in minutes:
        key = (minute.endpoint, minute.deployment, minute.minute)
        found = by_key.get(key)
        by_key[key] = minute if found is None else found.plus(minute)
    keys = sorted(by_key)
    if not keys:
        return
    zeros = [
        {"endpoint": e, "deployment": d, "minute": m, "requests": 0, "errors": 0,
         "status_counts": {}, "latency_buckets": {}, "mirror_outcomes": {}}
        for e, d, m in keys
    ]  # fmt: skip
    session.execute(insert_for(session, Row).values(zeros).on_conflict_do_nothing())
    stmt = (
        select(Row)
        .where(tuple_(Row.endpoint, Row.deployment, Row.minute).in_(keys))
        .order_by(Row.endpoint, Row.deployment, Row.minute)
        .with_for_update()
    )
    for row in session.scalars(stmt):
        delta = by_key[(row.endpoint, row.deployment, as_utc(row.minute))]
        row.requests += delta.requests
        row.errors += delta.errors
        row.status_counts = added_counts(row.status_counts, delta.status_counts)
        row.latency_buckets = added_counts(
            row.latency_buckets, {str(k): v for k, v in delta.latency_buckets.items()}
        )
        row.mirror_outcomes = added_counts(row.mirror_outcomes, delta.mirror_outcomes)
    session.flush()


def read_minutes(
    session: Session, endpoint: str, start: datetime, end: datetime, deployment: str | None = None
) -> list[TrafficMinute]:
    """The endpoint's minutes that begin in [start, end), oldest first; one deployment's if named."""
    stmt = select(Row).where(Row.endpoint == endpoint, Row.minute >= start, Row.minute < end)
    if deployment is not None:
        stmt = stmt.where(Row.deployment == deployment)
    return [_entity(row) for row in session.scalars(stmt.order_by(Row.minute, Row.deployment))]


def purge_before(session: Session, cutoff: datetime) -> int:
    """Remove every minute that began before `cutoff`; how many rows went."""
    result: Any = session.execute(delete(Row).where(Row.minute < cutoff))
    return int(result.rowcount or 0)


def _entity(row: Row) -> TrafficMinute:
    return TrafficMinute(
        endpoint=row.endpoint,
        deployment=row.deployment,
        minute=as_utc(row.minute),
        requests=row.requests,
        errors=row.errors,
        status_counts=_counts(row.status_counts.items()),
        latency_buckets={int(k): v for k, v in _counts(row.latency_buckets.items()).items()},
        mirror_outcomes=_counts(row.mirror_outcomes.items()),
    )


def _counts(items: Iterable[tuple[str, Any]]) -> dict[str, int]:
    return {str(key): int(value) for key, value in items if value}
