"""Bodies of the events, subscriptions and schedules routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from mlyard.entities.automation.event import Event
from mlyard.entities.automation.schedule import Schedule
from mlyard.entities.automation.subscription import Delivery, Subscription
from mlyard.server.schemas.common import Request


class EventList(BaseModel):
    value: list[Event]


class SubscriptionCreate(Request):
    name: str = Field(max_length=255)
    description: str | None = Field(default=None, max_length=4000)
    types: list[str] = Field(default_factory=list, description="event types (full or short); empty: all")
    filter: dict[str, str] = Field(default_factory=dict, description="subject or data field → value or glob")
    webhook: str | None = Field(default=None, max_length=4000)
    emails: list[str] = Field(default_factory=list)
    enabled: bool = True


class SubscriptionUpdate(Request):
    description: str | None = Field(default=None, max_length=4000)
    types: list[str] | None = None
    filter: dict[str, str] | None = None
    webhook: str | None = Field(default=None, max_length=4000)
    emails: list[str] | None = None
    enabled: bool | None = None


class SubscriptionList(BaseModel):
    value: list[Subscription]


class DeliveryList(BaseModel):
    value: list[Delivery]


class RedeliverRequest(Request):
    delivery_ids: list[int] = Field(default_factory=list)
    dead: bool = Field(default=False, description="every dead letter of the subscription")


class RedeliverResult(BaseModel):
    queued: int


class RotateSecretRequest(Request):
    overlap_hours: float = Field(default=24.0, ge=0, le=720)


class ScheduleRequest(Request):
    """A schedule YAML's mapping, with the files its job names in an upload (see `uploads`)."""

    spec: dict[str, Any] = Field(description="what the schedule YAML holds: name, trigger, create_job, …")
    upload: str | None = Field(default=None, description="the upload holding the files the spec names")
    base: str = Field(default="", description="the YAML's folder inside the upload")
    source: str = Field(default="schedule", description="the file name errors are reported against")


class ScheduleList(BaseModel):
    value: list[Schedule]
