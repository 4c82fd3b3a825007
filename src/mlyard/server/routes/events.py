"""Events (reader), subscriptions (changes: operator; the secret only in create and rotate
answers), and schedules (changes: operator)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from mlyard.entities.automation.event import Event
from mlyard.entities.automation.schedule import Schedule, ScheduleDetails, ScheduleFiring
from mlyard.entities.automation.subscription import CreatedSubscription, Subscription
from mlyard.monitoring.monitor_checks import check_signals
from mlyard.server.auth import OperatorWorkspace, ReaderWorkspace
from mlyard.server.schemas.events import (
    DeliveryList,
    EventList,
    RedeliverRequest,
    RedeliverResult,
    RotateSecretRequest,
    ScheduleList,
    ScheduleRequest,
    SubscriptionCreate,
    SubscriptionList,
    SubscriptionUpdate,
)
from mlyard.server.uploads import kept_files
from mlyard.services.events import outbox, subscriptions
from mlyard.services.schedules import firing, schedules

router = APIRouter(prefix="/api/v1/workspaces/{ws}")
TRIGGER_WAIT_SECONDS = 30.0  # how long `schedule trigger` waits for a firing another loop claimed first


@router.get("/events", response_model=EventList, tags=["events"])
def list_events(
    workspace: ReaderWorkspace,
    type: Annotated[
        list[str] | None, Query(description="repeatable; ModelRegistered or the full name")
    ] = None,
    subject: Annotated[str | None, Query(description="a glob, e.g. models/diabetes*")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=outbox.MAX_LISTED)] = 100,
) -> EventList:
    return EventList(value=outbox.list_events(workspace, type or (), subject, since, until, limit))


@router.get("/events/{event_id}", response_model=Event, tags=["events"])
def get_event(workspace: ReaderWorkspace, event_id: str) -> Event:
    return outbox.get_event(workspace, event_id)


@router.post(
    "/subscriptions", response_model=CreatedSubscription, status_code=status.HTTP_201_CREATED, tags=["events"]
)
def create_subscription(workspace: OperatorWorkspace, body: SubscriptionCreate) -> CreatedSubscription:
    """A new subscription; a webhook's signing secret is in this answer only."""
    return subscriptions.create_subscription(
        workspace,
        body.name,
        body.types,
        body.filter,
        body.webhook,
        body.emails,
        body.description,
        body.enabled,
    )


@router.get("/subscriptions", response_model=SubscriptionList, tags=["events"])
def list_subscriptions(workspace: ReaderWorkspace) -> SubscriptionList:
    return SubscriptionList(value=subscriptions.list_subscriptions(workspace))


@router.get("/subscriptions/{name}", response_model=Subscription, tags=["events"])
def get_subscription(workspace: ReaderWorkspace, name: str) -> Subscription:
    return subscriptions.get_subscription(workspace, name)


@router.patch("/subscriptions/{name}", response_model=Subscription, tags=["events"])
def update_subscription(workspace: OperatorWorkspace, name: str, body: SubscriptionUpdate) -> Subscription:
    return subscriptions.update_subscription(
        workspace, name, body.types, body.filter, body.webhook, body.emails, body.description, body.enabled
    )


@router.delete(
    "/subscriptions/{name}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, tags=["events"]
)
def delete_subscription(workspace: OperatorWorkspace, name: str) -> Response:
    subscriptions.delete_subscription(workspace, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/subscriptions/{name}/deliveries", response_model=DeliveryList, tags=["events"])
def list_deliveries(
    workspace: ReaderWorkspace,
    name: str,
    state: Annotated[list[str] | None, Query(description="pending, delivering, succeeded, dead")] = None,
    event_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=subscriptions.MAX_LISTED)] = 100,
) -> DeliveryList:
    return DeliveryList(value=subscriptions.list_deliveries(workspace, name, state or (), event_id, limit))


@router.post("/subscriptions/{name}/redeliver", response_model=RedeliverResult, tags=["events"])
def redeliver(workspace: OperatorWorkspace, name: str, body: RedeliverRequest) -> RedeliverResult:
    return RedeliverResult(queued=subscriptions.redeliver(workspace, name, body.delivery_ids, body.dead))


@router.post("/subscriptions/{name}/rotate-secret", response_model=CreatedSubscription, tags=["events"])
def rotate_secret(workspace: OperatorWorkspace, name: str, body: RotateSecretRequest) -> CreatedSubscription:
    """A new signing secret, in this answer only; the old one signs for `overlap_hours` more."""
    return subscriptions.rotate_secret(workspace, name, body.overlap_hours)


# --- schedules ---------------------------------------------------------------------------------


@router.post("/schedules", response_model=Schedule, status_code=status.HTTP_201_CREATED, tags=["schedules"])
def create_schedule(
    ws: str, workspace: OperatorWorkspace, body: ScheduleRequest, request: Request
) -> Schedule:
    """Check and store a schedule; the files its job names (sent in `upload`) are kept with it."""
    with kept_files(request, ws, workspace.path, body.upload, body.base) as base:
        return schedules.create_schedule(
            workspace, body.spec, base, body.source, check_statistics=check_signals
        )


@router.put("/schedules/{name}", response_model=Schedule, tags=["schedules"])
def update_schedule(
    ws: str, workspace: OperatorWorkspace, name: str, body: ScheduleRequest, request: Request
) -> Schedule:
    schedules.get_schedule(workspace, name)  # NotFound before the files are kept
    with kept_files(request, ws, workspace.path, body.upload, body.base) as base:
        return schedules.update_schedule(workspace, {**body.spec, "name": name}, base, body.source)


@router.get("/schedules", response_model=ScheduleList, tags=["schedules"])
def list_schedules(workspace: ReaderWorkspace) -> ScheduleList:
    return ScheduleList(value=schedules.list_schedules(workspace))


@router.get("/schedules/{name}", response_model=ScheduleDetails, tags=["schedules"])
def show_schedule(workspace: ReaderWorkspace, name: str) -> ScheduleDetails:
    return schedules.show_schedule(workspace, name)


@router.post("/schedules/{name}/enable", response_model=Schedule, tags=["schedules"])
def enable_schedule(workspace: OperatorWorkspace, name: str) -> Schedule:
    return schedules.set_enabled(workspace, name, True)


@router.post("/schedules/{name}/disable", response_model=Schedule, tags=["schedules"])
def disable_schedule(workspace: OperatorWorkspace, name: str) -> Schedule:
    return schedules.set_enabled(workspace, name, False)


@router.delete(
    "/schedules/{name}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, tags=["schedules"]
)
def delete_schedule(workspace: OperatorWorkspace, name: str) -> Response:
    schedules.delete_schedule(workspace, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/schedules/{name}/trigger", response_model=ScheduleFiring, tags=["schedules"])
def trigger_schedule(workspace: OperatorWorkspace, name: str) -> ScheduleFiring:
    """Fire once now: the job is queued for this server's workers."""
    from mlyard.entities.jobs.job import QUEUE
    from mlyard.runtime.child_jobs import notify_queued

    firing_id = firing.trigger_now(workspace, name)
    fired = firing.run_pending(workspace, dispatch=QUEUE, only=firing_id)
    notify_queued()
    if fired:
        return fired[0].firing
    # The scheduler loop of this or another server claimed it first: answer once it has run it.
    deadline = time.monotonic() + TRIGGER_WAIT_SECONDS
    while True:
        found = next(f for f in schedules.show_schedule(workspace, name).firings if f.id == firing_id)
        if found.state != "pending" or time.monotonic() > deadline:
            return found
        time.sleep(0.1)
