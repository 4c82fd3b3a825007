"""Rows of the event outbox, subscriptions and deliveries. No rules here: see services/events/."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session

from mlyard.entities.automation.event import Event
from mlyard.entities.automation.subscription import Delivery, DeliveryAttempt, DeliveryState, Subscription
from mlyard.store.jobs import as_utc
from mlyard.store.tables import EventDeliveryRow, EventRow, SubscriptionRow

PENDING, DELIVERING = DeliveryState.PENDING.value, DeliveryState.DELIVERING.value

# --- events ------------------------------------------------------------------------------------


_INSERT_EVENT = insert(EventRow)


def insert_event(session: Session, values: dict[str, Any]) -> None:
    """One outbox row on the session's connection: a statement built once and cached compiled
    (every change pays for this call, so it skips the ORM's per-call statement building)."""
    session.connection().execute(_INSERT_EVENT, values)


def to_event(row: Any, source: str) -> Event:
    return Event(
        id=row.id, source=source, type=row.type, subject=row.subject, time=as_utc(row.time), data=row.data
    )


def list_events(
    session: Session,
    types: Sequence[str],
    subject_like: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> list[EventRow]:
    """Events newest first; `subject_like` is a SQL LIKE pattern."""
    query = select(EventRow).order_by(EventRow.seq.desc()).limit(limit)
    if types:
        query = query.where(EventRow.type.in_(list(types)))
    if subject_like is not None:
        query = query.where(EventRow.subject.like(subject_like, escape="\\"))
    if since is not None:
        query = query.where(EventRow.time >= since)
    if until is not None:
        query = query.where(EventRow.time < until)
    return list(session.execute(query).scalars())


def get_event(session: Session, event_id: str) -> EventRow | None:
    return session.execute(select(EventRow).where(EventRow.id == event_id)).scalar_one_or_none()


def undispatched(session: Session, limit: int, skip_locked: bool) -> list[EventRow]:
    """The oldest events not yet matched to subscriptions, locked for this transaction on
    PostgreSQL (another server's batch is skipped, not waited for)."""
    query = select(EventRow).where(EventRow.dispatched.is_(False)).order_by(EventRow.seq).limit(limit)
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return list(session.execute(query).scalars())


def mark_dispatched(session: Session, seqs: Sequence[int]) -> None:
    session.execute(update(EventRow).where(EventRow.seq.in_(list(seqs))).values(dispatched=True))


def purge_events(session: Session, before: datetime) -> int:
    """Delete events older than `before` with their deliveries (retention); returns how many."""
    old = select(EventRow.seq).where(EventRow.time < before, EventRow.dispatched.is_(True))
    session.execute(delete(EventDeliveryRow).where(EventDeliveryRow.event_seq.in_(old)))
    done = session.execute(delete(EventRow).where(EventRow.time < before, EventRow.dispatched.is_(True)))
    return int(done.rowcount)  # type: ignore[attr-defined]


# --- subscriptions -----------------------------------------------------------------------------


def insert_subscription(session: Session, values: dict[str, Any]) -> None:
    session.execute(insert(SubscriptionRow).values(**values))


def subscription_row(session: Session, name: str, lock: bool = False) -> SubscriptionRow | None:
    query = select(SubscriptionRow).where(SubscriptionRow.name == name)
    if lock:
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()


def list_subscriptions(session: Session, enabled_only: bool = False) -> list[SubscriptionRow]:
    query = select(SubscriptionRow).order_by(SubscriptionRow.name)
    if enabled_only:
        query = query.where(SubscriptionRow.enabled.is_(True))
    return list(session.execute(query).scalars())


def delete_subscription(session: Session, name: str) -> bool:
    session.execute(delete(EventDeliveryRow).where(EventDeliveryRow.subscription == name))
    done = session.execute(delete(SubscriptionRow).where(SubscriptionRow.name == name))
    return bool(done.rowcount)  # type: ignore[attr-defined]


def to_subscription(row: SubscriptionRow) -> Subscription:
    return Subscription(
        name=row.name, description=row.description, types=list(row.types), filter=dict(row.filter),
        webhook_url=row.webhook_url, emails=list(row.emails), enabled=row.enabled,
        created_at=as_utc(row.created_at), updated_at=as_utc(row.updated_at), created_by=row.created_by,
    )  # fmt: skip


# --- deliveries --------------------------------------------------------------------------------


def insert_deliveries(session: Session, values: Sequence[dict[str, Any]]) -> None:
    if values:
        session.execute(insert(EventDeliveryRow), list(values))


def due_deliveries(session: Session, now: datetime, limit: int, skip_locked: bool) -> list[int]:
    """Ids of deliveries to attempt now: pending and due, or claimed by a server whose lease ran
    out (it died between claiming and recording the outcome)."""
    query = (
        select(EventDeliveryRow.id)
        .where(
            or_(
                (EventDeliveryRow.state == PENDING) & (EventDeliveryRow.next_attempt_at <= now),
                (EventDeliveryRow.state == DELIVERING) & (EventDeliveryRow.lease_until < now),
            )
        )
        .order_by(EventDeliveryRow.next_attempt_at, EventDeliveryRow.id)
        .limit(limit)
    )  # fmt: skip
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return [delivery_id for (delivery_id,) in session.execute(query)]


def claim_deliveries(session: Session, ids: Sequence[int], lease_until: datetime) -> None:
    session.execute(
        update(EventDeliveryRow)
        .where(EventDeliveryRow.id.in_(list(ids)))
        .values(state=DeliveryState.DELIVERING.value, lease_until=lease_until)
    )


def claimed_work(session: Session, ids: Sequence[int]) -> list[tuple[EventDeliveryRow, EventRow]]:
    """Each claimed delivery with its event."""
    rows = session.execute(
        select(EventDeliveryRow, EventRow)
        .join(EventRow, EventRow.seq == EventDeliveryRow.event_seq)
        .where(EventDeliveryRow.id.in_(list(ids)))
        .order_by(EventDeliveryRow.id)
    )
    return [(delivery, event) for delivery, event in rows]


def delivery_row(session: Session, delivery_id: int) -> EventDeliveryRow | None:
    return session.get(EventDeliveryRow, delivery_id)


def list_deliveries(
    session: Session, subscription: str | None, states: Sequence[str], event_id: str | None, limit: int
) -> list[tuple[EventDeliveryRow, str, str]]:
    """(delivery, event id, event type), newest first."""
    query = (
        select(EventDeliveryRow, EventRow.id, EventRow.type)
        .join(EventRow, EventRow.seq == EventDeliveryRow.event_seq)
        .order_by(EventDeliveryRow.id.desc())
        .limit(limit)
    )
    if subscription is not None:
        query = query.where(EventDeliveryRow.subscription == subscription)
    if states:
        query = query.where(EventDeliveryRow.state.in_(list(states)))
    if event_id is not None:
        query = query.where(EventRow.id == event_id)
    return [(row, event_id_, event_type) for row, event_id_, event_type in session.execute(query)]


def to_delivery(row: EventDeliveryRow, event_id: str, event_type: str) -> Delivery:
    return Delivery(
        id=row.id, event_id=event_id, event_type=event_type, subscription=row.subscription,
        state=DeliveryState(row.state), attempts=row.attempts, next_attempt_at=as_utc(row.next_attempt_at),
        last_status_code=row.last_status_code, last_error=row.last_error, created_at=as_utc(row.created_at),
        delivered_at=as_utc(row.delivered_at),
        history=[DeliveryAttempt.model_validate(item) for item in row.history],
    )  # fmt: skip
