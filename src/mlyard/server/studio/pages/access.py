"""The audit trail (filters as `mlyard audit list`: since, actor, entity, action) and the API keys of
a workspace (admins only: a new key's secret is shown once, a revoke asks for confirmation) — by the
same service calls and roles as the REST API (`routes/access.py`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import RedirectResponse

from mlyard.entities.governance.access import parse_since
from mlyard.errors import InvalidArgument
from mlyard.server.studio.context import StudioContext, StudioRoute
from mlyard.services.workspaces import audit, keys

router = APIRouter(route_class=StudioRoute, include_in_schema=False)
AUDIT_PAGE = 200


@router.get("/w/{ws}/audit")
def audit_trail(
    studio: StudioContext,
    since: Annotated[str | None, Query(max_length=100)] = None,
    actor: Annotated[str | None, Query(max_length=255)] = None,
    entity: Annotated[str | None, Query(max_length=500)] = None,
    action: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Changes newest first; `entity` is TYPE or TYPE:ID as in `mlyard audit list --entity`."""
    entity_type, _, entity_id = (entity or "").partition(":")
    events = audit.list_events(
        studio.workspace, parse_since(since), None, actor or None, entity_type or None, entity_id or None,
        [action] if action else (), AUDIT_PAGE,
    )  # fmt: skip
    view = {"since": since, "actor": actor, "entity": entity, "action": action}
    return studio.render("audit.html", events=events, view=view, shown=AUDIT_PAGE)


@router.get("/w/{ws}/keys")
def key_list(studio: StudioContext) -> Response:
    studio.require("admin")
    return studio.render("keys.html", keys=keys.list_keys(studio.workspace), created=None)


@router.post("/w/{ws}/keys")
def create_key(studio: StudioContext) -> Response:
    """The new key's secret is in this page only (never stored, never cached)."""
    studio.require("admin")
    form = studio.form
    expires = form.get("expires_in_days") or None
    try:
        days = float(expires) if expires else None
    except ValueError:
        raise InvalidArgument(f"expires_in_days must be a number of days, got {expires!r}") from None
    created = keys.create_key(
        studio.workspace, form.get("owner", ""), form.get("role", ""), form.get("description") or None, days
    )
    page = studio.render("keys.html", status_code=201, keys=keys.list_keys(studio.workspace), created=created)
    page.headers["cache-control"] = "no-store"
    return page


@router.post("/w/{ws}/keys/{key_id}/revoke")
def revoke_key(studio: StudioContext, key_id: str) -> Response:
    """First a confirmation page naming the key; the form it posts back revokes it."""
    studio.require("admin")
    if studio.form.get("confirm") != "yes":
        found = [key for key in keys.list_keys(studio.workspace) if key.id == key_id]
        if not found:
            keys.revoke_key(studio.workspace, key_id)  # the service's NotFound, in its words
        return studio.render("key_revoke.html", key=found[0])
    keys.revoke_key(studio.workspace, key_id)
    return RedirectResponse(studio.url("/keys"), status_code=303)
