"""Events: the workspace's recent events (type, subject, time, data) filtered by type and subject;
subscriptions with their filters, target and status; a subscription's delivery log (attempts,
status codes, next retry, dead letters) with redeliver for operators — by the same service calls
and roles as the REST API (`routes/events.py`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import RedirectResponse

from mlyard.entities.automation.event import EVENT_TYPES, short_name
from mlyard.errors import InvalidArgument
from mlyard.server.studio.context import StudioContext, StudioRoute
from mlyard.services.events import outbox, subscriptions

router = APIRouter(route_class=StudioRoute, include_in_schema=False)
EVENTS_SHOWN = 200
DELIVERIES_SHOWN = 200
STATES = ("pending", "delivering", "succeeded", "dead")


@router.get("/w/{ws}/events")
def event_list(
    studio: StudioContext,
    type: Annotated[str | None, Query(max_length=200)] = None,
    subject: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """Newest first; `type` a full or short name (`ModelRegistered`), `subject` a glob."""
    workspace = studio.workspace
    found = outbox.list_events(workspace, [type] if type else (), subject or None, limit=EVENTS_SHOWN)
    return studio.render(
        "events.html", events=found, shown=EVENTS_SHOWN, view={"type": type, "subject": subject},
        types=sorted(short_name(name) for name in EVENT_TYPES),
        subscriptions=subscriptions.list_subscriptions(workspace),
    )  # fmt: skip


@router.get("/w/{ws}/events/subscriptions/{name}")
def subscription_page(
    studio: StudioContext, name: str, state: Annotated[str | None, Query(max_length=20)] = None
) -> Response:
    workspace = studio.workspace
    subscription = subscriptions.get_subscription(workspace, name)
    states = [state] if state else []
    deliveries = subscriptions.list_deliveries(workspace, name, states, None, DELIVERIES_SHOWN)
    return studio.render(
        "subscription.html", subscription=subscription, deliveries=deliveries, state=state, states=STATES,
        shown=DELIVERIES_SHOWN,
    )  # fmt: skip


@router.post("/w/{ws}/events/subscriptions/{name}/redeliver")
def redeliver(studio: StudioContext, name: str) -> Response:
    """One delivery (`delivery_id`) or every dead letter (`dead=yes`), sent again from its first attempt."""
    studio.require("operator")
    given = studio.form.get("delivery_id", "")
    if given and not given.isdigit():
        raise InvalidArgument(f"delivery_id must be a delivery's number, got {given!r}")
    ids = [int(given)] if given else []
    subscriptions.redeliver(studio.workspace, name, ids, dead=studio.form.get("dead") == "yes")
    return RedirectResponse(studio.url(f"/events/subscriptions/{name}"), status_code=303)
