"""The delivery loop's steps, each safe with several server processes on one database.

fan_out       claims undispatched events (PostgreSQL `FOR UPDATE SKIP LOCKED`; on SQLite one
              write transaction), creates one delivery per matching subscription — and lets
              other matchers (event triggers) act on the same events — and marks them dispatched,
              all in one transaction: each event is fanned out once.
deliver_due   claims due deliveries under a lease, sends them outside any transaction, records
              each attempt. A server that dies mid-send leaves its claim to expire: the delivery
              is sent again, with the same event id (at least once, never lost).
purge         removes events (and deliveries) older than the retention setting.

Failed attempts are retried after `event_retry_base_seconds` × 2^(attempt − 1), at most an
hour, until `event_delivery_attempts`; then the delivery is dead until `redeliver`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlyard.entities.automation.event import Event
from mlyard.entities.automation.subscription import DeliveryState
from mlyard.services.events.matching import matches
from mlyard.services.events.outbox import source_of
from mlyard.services.events.senders import Outcome, Senders
from mlyard.services.events.subscriptions import live_secrets_of
from mlyard.services.workspaces.settings import WorkspaceSettings, get_settings
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import events as rows
from mlyard.store.tables import EventDeliveryRow, EventRow

FAN_OUT_BATCH = 500
DELIVERY_BATCH = 64
LEASE_SECONDS = 60.0  # longer than one attempt can take (connect + read timeouts)
MAX_BACKOFF_SECONDS = 3600.0
HISTORY_KEPT = 50

# Something else that acts on each event as it is fanned out, in the same transaction.
EventMatcher = Callable[[Session, Sequence[EventRow], datetime], None]


def fan_out(workspace: Workspace, matchers: Sequence[EventMatcher] = (), now: datetime | None = None) -> int:
    """Turn undispatched events into deliveries (and whatever `matchers` do); returns how many."""
    with workspace.database.read() as session:  # a cheap look first: no write lock while idle
        if (
            session.execute(select(EventRow.seq).where(EventRow.dispatched.is_(False)).limit(1)).first()
            is None
        ):
            return 0
    now = now or datetime.now(UTC)

    def work(session: Session) -> int:
        events = rows.undispatched(session, FAN_OUT_BATCH, skip_locked=not workspace.database.is_sqlite)
        if not events:
            return 0
        subscriptions = rows.list_subscriptions(session, enabled_only=True)
        deliveries: list[dict[str, Any]] = [
            dict(event_seq=event.seq, subscription=sub.name, state=DeliveryState.PENDING.value, attempts=0,
                 next_attempt_at=now, lease_until=None, history=[], created_at=now)
            for event in events
            for sub in subscriptions
            if (not sub.types or event.type in sub.types) and matches(sub.filter, event.subject, event.data)
        ]  # fmt: skip
        rows.insert_deliveries(session, deliveries)
        for matcher in matchers:
            matcher(session, events, now)
        rows.mark_dispatched(session, [event.seq for event in events])
        return len(events)

    return workspace.database.write(work)


@dataclass(frozen=True)
class _Attempt:
    delivery_id: int
    attempts: int
    event: Event
    webhook_url: str | None
    emails: list[str]
    secrets: list[str]


def deliver_due(
    workspace: Workspace,
    senders: Senders,
    pool: ThreadPoolExecutor | None = None,
    now: datetime | None = None,
) -> int:
    """Send every delivery that is due now (in `pool`'s threads when given); returns how many."""
    now = now or datetime.now(UTC)
    with workspace.database.read() as session:
        if not rows.due_deliveries(session, now, 1, skip_locked=False):
            return 0

    def claim(session: Session) -> list[int]:
        ids = rows.due_deliveries(session, now, DELIVERY_BATCH, skip_locked=not workspace.database.is_sqlite)
        if ids:
            rows.claim_deliveries(session, ids, now + timedelta(seconds=LEASE_SECONDS))
        return ids

    ids = workspace.database.write(claim)
    if not ids:
        return 0
    settings = get_settings(workspace)
    attempts = _attempts(workspace, ids, now)
    send = _sender(senders, settings)
    outcomes = list(pool.map(send, attempts)) if pool is not None else [send(a) for a in attempts]
    _record(workspace, list(zip(attempts, outcomes, strict=True)), settings)
    return len(attempts)


def _attempts(workspace: Workspace, ids: list[int], now: datetime) -> list[_Attempt]:
    source = source_of(workspace)
    found = []
    with workspace.database.read() as session:
        for delivery, event in rows.claimed_work(session, ids):
            sub = rows.subscription_row(session, delivery.subscription)
            if sub is None:
                continue  # deleted meanwhile: its deliveries went with it
            found.append(
                _Attempt(
                    delivery.id, delivery.attempts, rows.to_event(event, source), sub.webhook_url,
                    list(sub.emails), [entry["secret"] for entry in live_secrets_of(sub.secrets, now)],
                )
            )  # fmt: skip
    return found


def _sender(senders: Senders, settings: WorkspaceSettings) -> Callable[[_Attempt], Outcome]:
    def send(attempt: _Attempt) -> Outcome:
        if attempt.webhook_url:
            return senders.webhook(
                attempt.webhook_url, attempt.event, attempt.secrets, settings.webhook_allow_link_local
            )
        return senders.email(settings, attempt.emails, attempt.event)

    return send


def _record(
    workspace: Workspace, results: list[tuple[_Attempt, Outcome]], settings: WorkspaceSettings
) -> None:
    def work(session: Session) -> None:
        now = datetime.now(UTC)
        for attempt, outcome in results:
            row = session.get(EventDeliveryRow, attempt.delivery_id)
            if row is None or row.state != DeliveryState.DELIVERING.value:
                continue  # deleted, or redelivered meanwhile
            number = row.attempts + 1
            entry: dict[str, Any] = {"attempt": number, "at": now.isoformat(),
                                     "status_code": outcome.status_code,
                                     "latency_ms": outcome.latency_ms, "error": outcome.error}  # fmt: skip
            row.history = [*row.history, entry][-HISTORY_KEPT:]
            row.attempts, row.last_status_code, row.last_error = number, outcome.status_code, outcome.error
            row.lease_until = None
            if outcome.ok:
                row.state, row.delivered_at, row.next_attempt_at = DeliveryState.SUCCEEDED.value, now, None
            elif outcome.retry and number < settings.event_delivery_attempts:
                row.state = DeliveryState.PENDING.value
                row.next_attempt_at = now + timedelta(
                    seconds=backoff(number, settings.event_retry_base_seconds)
                )
            else:
                row.state, row.next_attempt_at = DeliveryState.DEAD.value, None

    workspace.database.write(work)


def backoff(attempts: int, base_seconds: float) -> float:
    """Seconds to wait after `attempts` failed attempts: base × 2^(attempts − 1), at most an hour."""
    return float(min(MAX_BACKOFF_SECONDS, base_seconds * 2 ** (attempts - 1)))


def purge(workspace: Workspace, now: datetime | None = None) -> int:
    """Remove events older than `event_retention_days`, with their deliveries."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=get_settings(workspace).event_retention_days)
    return workspace.database.write(lambda session: rows.purge_events(session, cutoff))
