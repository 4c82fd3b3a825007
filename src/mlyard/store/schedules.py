"""Rows of schedules and their firings. No rules here: see services/schedules/."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session

from mlyard.entities.automation.schedule import Schedule, ScheduleFiring
from mlyard.store.jobs import as_utc
from mlyard.store.tables import ScheduleFiringRow, ScheduleRow

PENDING, DONE, FAILED = "pending", "done", "failed"


def insert_schedule(session: Session, values: dict[str, Any]) -> None:
    session.execute(insert(ScheduleRow).values(**values))


def schedule_row(session: Session, name: str, lock: bool = False) -> ScheduleRow | None:
    query = select(ScheduleRow).where(ScheduleRow.name == name)
    if lock:
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()


def list_schedules(session: Session) -> list[ScheduleRow]:
    return list(session.execute(select(ScheduleRow).order_by(ScheduleRow.name)).scalars())


def delete_schedule(session: Session, name: str) -> bool:
    session.execute(
        delete(ScheduleFiringRow).where(
            ScheduleFiringRow.schedule == name, ScheduleFiringRow.state == PENDING
        )
    )
    done = session.execute(delete(ScheduleRow).where(ScheduleRow.name == name))
    return bool(done.rowcount)  # type: ignore[attr-defined]


def due_timers(session: Session, now: datetime) -> list[tuple[str, datetime]]:
    """(name, next firing) of enabled timer schedules whose next firing is due."""
    rows = session.execute(
        select(ScheduleRow.name, ScheduleRow.next_fire_at).where(
            ScheduleRow.enabled.is_(True),
            ScheduleRow.next_fire_at.is_not(None),
            ScheduleRow.next_fire_at <= now,
        )
    )
    return [(name, as_utc(due)) for name, due in rows if due is not None]


def advance(session: Session, name: str, due: datetime, next_fire_at: datetime | None, now: datetime) -> bool:
    """Move a schedule's next firing from `due` on, only if nobody did yet (compare and set):
    of several servers seeing the same due firing, exactly one gets True."""
    done = session.execute(
        update(ScheduleRow)
        .where(ScheduleRow.name == name, ScheduleRow.next_fire_at == due, ScheduleRow.enabled.is_(True))
        .values(next_fire_at=next_fire_at, last_fired_at=now)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def mark_fired(session: Session, name: str, now: datetime) -> None:
    """Record when an event trigger last fired (a time-based schedule's `advance` does it)."""
    session.execute(update(ScheduleRow).where(ScheduleRow.name == name).values(last_fired_at=now))


def event_triggers(session: Session, event_types: Sequence[str]) -> list[ScheduleRow]:
    return list(
        session.execute(
            select(ScheduleRow).where(
                ScheduleRow.enabled.is_(True),
                ScheduleRow.kind == "event",
                ScheduleRow.event_type.in_(list(event_types)),
            )
        ).scalars()
    )


def insert_firing(session: Session, values: dict[str, Any]) -> int:
    row = ScheduleFiringRow(**values)
    session.add(row)
    session.flush()
    return int(row.id)


def claimable_firings(session: Session, now: datetime, limit: int, skip_locked: bool) -> list[int]:
    query = (
        select(ScheduleFiringRow.id)
        .where(
            ScheduleFiringRow.state == PENDING,
            or_(ScheduleFiringRow.lease_until.is_(None), ScheduleFiringRow.lease_until < now),
        )
        .order_by(ScheduleFiringRow.id)
        .limit(limit)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return [firing_id for (firing_id,) in session.execute(query)]


def lease_firings(session: Session, ids: Sequence[int], until: datetime) -> None:
    session.execute(
        update(ScheduleFiringRow).where(ScheduleFiringRow.id.in_(list(ids))).values(lease_until=until)
    )


def firing_row(session: Session, firing_id: int) -> ScheduleFiringRow | None:
    return session.get(ScheduleFiringRow, firing_id)


def finish_firing(session: Session, firing_id: int, job_id: str | None, error: str | None) -> None:
    session.execute(
        update(ScheduleFiringRow)
        .where(ScheduleFiringRow.id == firing_id)
        .values(state=DONE if job_id else FAILED, job_id=job_id, error=error, lease_until=None)
    )


def list_firings(session: Session, name: str, limit: int) -> list[ScheduleFiringRow]:
    return list(
        session.execute(
            select(ScheduleFiringRow)
            .where(ScheduleFiringRow.schedule == name)
            .order_by(ScheduleFiringRow.id.desc())
            .limit(limit)
        ).scalars()
    )


def to_schedule(row: ScheduleRow) -> Schedule:
    return Schedule(
        name=row.name, display_name=row.display_name, description=row.description, tags=dict(row.tags),
        trigger=dict(row.trigger), create_job=dict(row.create_job), enabled=row.enabled,
        next_fire_at=as_utc(row.next_fire_at), last_fired_at=as_utc(row.last_fired_at),
        created_at=as_utc(row.created_at), updated_at=as_utc(row.updated_at), created_by=row.created_by,
    )  # fmt: skip


def to_firing(row: ScheduleFiringRow) -> ScheduleFiring:
    return ScheduleFiring(
        id=row.id, schedule=row.schedule, reason=row.reason, scheduled_for=as_utc(row.scheduled_for),
        fired_at=as_utc(row.fired_at), state=row.state, job_id=row.job_id, event_id=row.event_id,
        error=row.error,
    )  # fmt: skip
