"""A monitor's `alert_notification` as event subscriptions the monitor keeps in step.

Its emails and webhooks are ordinary subscriptions to the monitor's alert, recovery and
stale-model events (filtered on `MonitorName`), so they are delivered as every event is: by the
delivery loop, with retries, dead letters, `redeliver`, Standard Webhooks signatures, and each
attempt listed by `mlyard event subscription deliveries`. One email subscription holds every
address (`monitor.<name>.email`); each webhook URL has its own (`monitor.<name>.webhook-<hash>`),
whose signing secret a receiver gets with `mlyard event subscription rotate-secret <that name>`.

They are marked as the monitor's (`created_by`), made and removed here only, and a user's own
subscription that happens to carry such a name is left alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from mlyard.entities.automation.event import MODEL_STALE, MONITOR_ALERT, MONITOR_RECOVERED
from mlyard.services.events.signing import new_secret
from mlyard.services.workspaces import audit
from mlyard.store import events as rows

TYPES = [MONITOR_ALERT, MONITOR_RECOVERED, MODEL_STALE]
MAX_NAME = 255


def owner_mark(monitor: str) -> str:
    """`created_by` of the subscriptions a monitor keeps (no person's name looks like it)."""
    return f"monitor:{monitor}"[:MAX_NAME]


def email_subscription(monitor: str) -> str:
    """The name of the subscription that mails the monitor's `alert_notification.emails`."""
    return _name(monitor, "email")


def subscription_names(monitor: str, webhooks: Sequence[str]) -> dict[str, str | None]:
    """The subscriptions `monitor` should have: name → webhook URL (None: the email one)."""
    wanted: dict[str, str | None] = {email_subscription(monitor): None}
    for url in webhooks:
        wanted[_name(monitor, "webhook-" + hashlib.sha256(url.encode()).hexdigest()[:12])] = url
    return wanted


def sync_subscriptions(
    session: Session, monitor: str, emails: Sequence[str], webhooks: Sequence[str]
) -> list[str]:
    """Make the monitor's subscriptions match `emails` and `webhooks` (checked by the caller), in
    the caller's transaction; returns the names of those that exist afterwards."""
    mark = owner_mark(monitor)
    wanted = subscription_names(monitor, webhooks)
    if not emails:
        wanted.pop(email_subscription(monitor))
    mine = {row.name: row for row in rows.list_subscriptions(session) if row.created_by == mark}
    for name in mine:
        if name not in wanted:
            rows.delete_subscription(session, name)
            summary = f"deleted subscription {name}: no longer in monitor {monitor}'s alert_notification"
            audit.record(session, "event.subscription.delete", "subscription", name, summary)
    kept = []
    now = datetime.now(UTC)
    for name, url in wanted.items():
        row = mine.get(name)
        if row is None:
            if rows.subscription_row(session, name) is not None:
                continue  # a user's own subscription by this name: not ours to change
            _create(session, monitor, name, url, emails, now)
        elif url is None and list(row.emails) != list(emails):
            row.emails, row.updated_at = list(emails), now
            summary = f"subscription {name}: alerts of monitor {monitor} → {', '.join(emails)}"
            audit.record(session, "event.subscription.update", "subscription", name, summary)
        kept.append(name)
    return kept


def delete_subscriptions(session: Session, monitor: str) -> None:
    """Remove every subscription the monitor keeps (when the monitor is deleted)."""
    sync_subscriptions(session, monitor, (), ())


def _create(
    session: Session, monitor: str, name: str, url: str | None, emails: Sequence[str], now: datetime
) -> None:
    target = url or ", ".join(emails)
    rows.insert_subscription(
        session,
        dict(
            name=name, description=f"alert_notification of monitor {monitor} (kept in step by its runs)",
            types=TYPES, filter={"MonitorName": monitor}, webhook_url=url,
            emails=[] if url else list(emails),
            secrets=[{"secret": new_secret(), "expires_at": None}] if url else [],
            enabled=True, created_at=now, updated_at=now, created_by=owner_mark(monitor),
        ),
    )  # fmt: skip
    audit.record(session, "event.subscription.create", "subscription", name,
                 f"subscription {name}: alerts of monitor {monitor} → {target}")  # fmt: skip


def _name(monitor: str, suffix: str) -> str:
    name = f"monitor.{monitor}.{suffix}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(monitor.encode()).hexdigest()[:12]  # a long name, shortened but still its own
    return f"monitor.{monitor[: MAX_NAME - len(suffix) - 23]}-{digest}.{suffix}"
