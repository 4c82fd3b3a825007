"""Subscriptions: which events go where (a webhook or email addresses), and their deliveries.

Rules that live here: a subscription has a webhook URL or email addresses, not both; its types
are known event types and its filter names their fields; a webhook URL is http(s) and not a
link-local / metadata address (`targets`); the signing secret is returned only by `create` and
`rotate_secret`, and after a rotation the old one keeps signing for `overlap_hours` so receivers
can switch without losing a delivery. Every change is audited.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from mlyard.entities.automation.event import short_name
from mlyard.entities.automation.subscription import (
    CreatedSubscription,
    Delivery,
    DeliveryState,
    Subscription,
    SubscriptionSpec,
)
from mlyard.entities.specs.names import validate_name
from mlyard.errors import AlreadyExists, InvalidArgument, NotFound
from mlyard.services.events.catalog import resolve_types
from mlyard.services.events.matching import check_filter
from mlyard.services.events.signing import new_secret
from mlyard.services.events.targets import check_target
from mlyard.services.workspaces import audit
from mlyard.services.workspaces.settings import get_settings
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import events as rows
from mlyard.store.tables import SubscriptionRow

DEFAULT_OVERLAP_HOURS = 24.0
MAX_LISTED = 10_000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def create_subscription(
    workspace: Workspace,
    name: str,
    types: Sequence[str] = (),
    filter: dict[str, str] | None = None,
    webhook_url: str | None = None,
    emails: Sequence[str] = (),
    description: str | None = None,
    enabled: bool = True,
) -> CreatedSubscription:
    """A new subscription; for a webhook, `secret` in the answer is the only copy of its secret."""
    validate_name(name, "subscription name")
    full_types, clean_filter, url, addresses = _checked(workspace, types, filter or {}, webhook_url, emails)
    secret = new_secret() if url else None
    now = datetime.now(UTC)

    def work(session: Session) -> Subscription:
        if rows.subscription_row(session, name) is not None:
            raise AlreadyExists(
                f"subscription {name!r} already exists; change it with: mlyard event subscription update"
            )
        rows.insert_subscription(
            session,
            dict(
                name=name, description=description, types=full_types, filter=clean_filter, webhook_url=url,
                emails=addresses, secrets=[{"secret": secret, "expires_at": None}] if secret else [],
                enabled=enabled, created_at=now, updated_at=now, created_by=audit.current_actor().name,
            ),
        )  # fmt: skip
        row = rows.subscription_row(session, name)
        assert row is not None
        shown = rows.to_subscription(row)
        audit.record(
            session, "event.subscription.create", "subscription", name,
            f"subscription {name}: {_describe(shown)}", after=_public(shown),
        )  # fmt: skip
        return shown

    return CreatedSubscription(subscription=workspace.database.write(work), secret=secret)


def create_from_spec(workspace: Workspace, spec: SubscriptionSpec) -> CreatedSubscription:
    return create_subscription(
        workspace, spec.name, spec.types, dict(spec.filter), spec.webhook, spec.emails(), spec.description,
        spec.enabled,
    )  # fmt: skip


def get_subscription(workspace: Workspace, name: str) -> Subscription:
    with workspace.database.read() as session:
        return rows.to_subscription(_row(session, name))


def list_subscriptions(workspace: Workspace) -> list[Subscription]:
    with workspace.database.read() as session:
        return [rows.to_subscription(row) for row in rows.list_subscriptions(session)]


def update_subscription(
    workspace: Workspace,
    name: str,
    types: Sequence[str] | None = None,
    filter: dict[str, str] | None = None,
    webhook_url: str | None = None,
    emails: Sequence[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> Subscription:
    """Change what is given; the rest stays. A webhook stays a webhook, email stays email."""
    current = get_subscription(workspace, name)
    if webhook_url is not None and not current.webhook_url:
        raise InvalidArgument(f"subscription {name!r} sends email; delete it and create a webhook one")
    if emails is not None and current.webhook_url:
        raise InvalidArgument(f"subscription {name!r} is a webhook; delete it and create an email one")
    full_types, clean_filter, url, addresses = _checked(
        workspace,
        current.types if types is None else types,
        current.filter if filter is None else filter,
        current.webhook_url if webhook_url is None else webhook_url,
        current.emails if emails is None else emails,
    )

    def work(session: Session) -> Subscription:
        row = _row(session, name, lock=True)
        before = _public(rows.to_subscription(row))
        row.types, row.filter, row.webhook_url, row.emails = full_types, clean_filter, url, addresses
        if description is not None:
            row.description = description
        if enabled is not None:
            row.enabled = enabled
        row.updated_at = datetime.now(UTC)
        shown = rows.to_subscription(row)
        audit.record(
            session, "event.subscription.update", "subscription", name,
            f"subscription {name}: {_describe(shown)}", before=before, after=_public(shown),
        )  # fmt: skip
        return shown

    return workspace.database.write(work)


def delete_subscription(workspace: Workspace, name: str) -> None:
    """Remove the subscription and its deliveries (the events themselves stay)."""

    def work(session: Session) -> None:
        row = _row(session, name, lock=True)
        before = _public(rows.to_subscription(row))
        rows.delete_subscription(session, name)
        audit.record(session, "event.subscription.delete", "subscription", name,
                     f"deleted subscription {name}", before=before)  # fmt: skip

    workspace.database.write(work)


def rotate_secret(
    workspace: Workspace, name: str, overlap_hours: float = DEFAULT_OVERLAP_HOURS
) -> CreatedSubscription:
    """A new signing secret (returned this once); the old ones keep signing for `overlap_hours`."""
    if not 0 <= overlap_hours <= 24 * 30:
        raise InvalidArgument(f"--overlap-hours must be between 0 and 720, got {overlap_hours}")
    secret = new_secret()
    now = datetime.now(UTC)
    until = (now + timedelta(hours=overlap_hours)).isoformat()

    def work(session: Session) -> Subscription:
        row = _row(session, name, lock=True)
        if not row.webhook_url:
            raise InvalidArgument(f"subscription {name!r} sends email: it has no signing secret")
        kept = [
            {"secret": entry["secret"], "expires_at": entry["expires_at"] or until}
            for entry in live_secrets_of(row.secrets, now)
        ]
        row.secrets = [{"secret": secret, "expires_at": None}] + (kept if overlap_hours > 0 else [])
        row.updated_at = now
        summary = f"signing secret of {name} rotated; the old one signs for {overlap_hours:g} h"
        audit.record(session, "event.subscription.rotate_secret", "subscription", name, summary)
        return rows.to_subscription(row)

    return CreatedSubscription(subscription=workspace.database.write(work), secret=secret)


def live_secrets_of(stored: list[Any], now: datetime) -> list[dict[str, Any]]:
    """The secrets that still sign: the newest, and rotated ones until their overlap ends."""
    live = []
    for entry in stored:
        expires = entry.get("expires_at")
        if expires is None or datetime.fromisoformat(expires) > now:
            live.append(entry)
    return live


def list_deliveries(
    workspace: Workspace,
    subscription: str | None = None,
    states: Sequence[str] = (),
    event_id: str | None = None,
    limit: int = 100,
) -> list[Delivery]:
    """Deliveries newest first, each with its attempts (status code, latency, error)."""
    if not 1 <= limit <= MAX_LISTED:
        raise InvalidArgument(f"limit must be between 1 and {MAX_LISTED}, got {limit}")
    wanted = [_state(state) for state in states]
    with workspace.database.read() as session:
        if subscription is not None:
            _row(session, subscription)
        found = rows.list_deliveries(session, subscription, wanted, event_id, limit)
        return [rows.to_delivery(row, eid, etype) for row, eid, etype in found]


def redeliver(
    workspace: Workspace,
    subscription: str,
    delivery_ids: Sequence[int] = (),
    dead: bool = False,
) -> int:
    """Send deliveries again from their first attempt (by id, or every dead letter with `dead`);
    returns how many were queued. The event keeps its id, so receivers can deduplicate."""
    if not delivery_ids and not dead:
        raise InvalidArgument(
            "name the deliveries to send again (--delivery-id), or --dead for every dead letter"
        )
    now = datetime.now(UTC)

    def work(session: Session) -> int:
        _row(session, subscription)
        if dead:
            targets = [
                row for row, _, _ in rows.list_deliveries(session, subscription, ["dead"], None, MAX_LISTED)
            ]
        else:
            targets = []
            for delivery_id in delivery_ids:
                row = rows.delivery_row(session, delivery_id)
                if row is None or row.subscription != subscription:
                    raise NotFound(f"subscription {subscription!r} has no delivery {delivery_id}")
                targets.append(row)
        for row in targets:
            row.state, row.attempts, row.next_attempt_at, row.lease_until = "pending", 0, now, None
        audit.record(session, "event.subscription.redeliver", "subscription", subscription,
                     f"{len(targets)} deliveries of {subscription} queued again",
                     after={"deliveries": [row.id for row in targets]})  # fmt: skip
        return len(targets)

    return workspace.database.write(work)


def _checked(
    workspace: Workspace,
    types: Sequence[str],
    filter: dict[str, str],
    webhook_url: str | None,
    emails: Sequence[str],
) -> tuple[list[str], dict[str, str], str | None, list[str]]:
    full_types = resolve_types(list(types), "types")
    clean_filter = check_filter({str(k): str(v) for k, v in filter.items()}, full_types, "filter")
    addresses = [address.strip() for address in emails if address.strip()]
    if bool(webhook_url) == bool(addresses):
        raise InvalidArgument(
            "a subscription needs a webhook URL (--webhook) or email addresses (--email), one of them"
        )
    for address in addresses:
        check_email(address, "email")
    settings = get_settings(workspace)
    if webhook_url:
        check_target(webhook_url, settings.webhook_allow_link_local)
    elif not settings.smtp_host:
        raise InvalidArgument(
            "email: this workspace has no SMTP server; an admin sets one with: "
            "mlyard workspace settings set smtp_host=HOST smtp_port=25 smtp_from=mlyard@example.com"
        )
    return full_types, clean_filter, webhook_url or None, addresses


def check_email(address: str, where: str) -> str:
    """`address` if it looks like an email address; `InvalidArgument` naming `where` if not."""
    if not isinstance(address, str) or not _EMAIL.match(address):
        raise InvalidArgument(f"{where}: {address!r} is not an email address")
    return address


def _row(session: Session, name: str, lock: bool = False) -> SubscriptionRow:
    row = rows.subscription_row(session, name, lock=lock)
    if row is None:
        raise NotFound(
            f"subscription {name!r} does not exist; list them with: mlyard event subscription list"
        )
    return row


def _state(text: str) -> str:
    try:
        return DeliveryState(text).value
    except ValueError:
        known = ", ".join(state.value for state in DeliveryState)
        raise InvalidArgument(f"delivery state {text!r} is not one of {known}") from None


def _public(subscription: Subscription) -> dict[str, Any]:
    return subscription.model_dump(mode="json", exclude={"created_at", "updated_at", "created_by"})


def _describe(subscription: Subscription) -> str:
    what = ", ".join(short_name(t) for t in subscription.types) or "every event"
    where = subscription.webhook_url or ", ".join(subscription.emails)
    return f"{what} → {where}" + (f" where {subscription.filter}" if subscription.filter else "")
