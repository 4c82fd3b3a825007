"""Event subscriptions (who hears about which events, and how) and the record of each delivery."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from mlyard.entities.specs.spec_values import TextMap


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for its first or next attempt
    DELIVERING = "delivering"  # claimed by a server, being sent now
    SUCCEEDED = "succeeded"
    DEAD = "dead"  # every attempt failed: a dead letter, until `redeliver`


class Subscription(BaseModel):
    """A subscription as listed: never its signing secret, which is shown once at creation."""

    name: str
    description: str | None = None
    types: list[str] = Field(default_factory=list, description="event types; empty: every type")
    filter: dict[str, str] = Field(
        default_factory=dict, description="`subject` or a data field → a value or a glob (`diabetes*`)"
    )
    webhook_url: str | None = None
    emails: list[str] = Field(default_factory=list)
    enabled: bool = True
    created_at: datetime
    updated_at: datetime
    created_by: str | None = None


class CreatedSubscription(BaseModel):
    subscription: Subscription
    secret: str | None = Field(
        default=None, description="the webhook signing secret (whsec_…): shown this once, keep it"
    )


class DeliveryAttempt(BaseModel):
    attempt: int
    at: datetime
    status_code: int | None = None
    latency_ms: float | None = None
    error: str | None = None


class Delivery(BaseModel):
    """One event on its way to one subscription, with every attempt so far."""

    id: int
    event_id: str
    event_type: str
    subscription: str
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    created_at: datetime
    delivered_at: datetime | None = None
    history: list[DeliveryAttempt] = Field(default_factory=list)


class SubscriptionSpec(BaseModel):
    """The YAML form of `mlyard event subscription create --file sub.yml`."""

    model_config = {"extra": "forbid"}

    name: str
    description: str | None = None
    types: list[str] = Field(default_factory=list)
    filter: TextMap = Field(default_factory=dict)
    webhook: str | None = None
    email: list[str] | str | None = None
    enabled: bool = True

    def emails(self) -> list[str]:
        if self.email is None:
            return []
        return [self.email] if isinstance(self.email, str) else list(self.email)


def subscription_from_dict(data: dict[str, Any], source: str) -> SubscriptionSpec:
    from mlyard.entities.specs.spec_files import validate_spec

    return validate_spec(SubscriptionSpec, data, source)
