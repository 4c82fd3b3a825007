"""The overview: recent jobs, models at @production, endpoints and their health, pending promotions,
schedules due next (the schedules page's own list, soonest first)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from mlyard.server.studio.context import StudioContext, StudioRoute
from mlyard.services.model_registry import models, promotions
from mlyard.services.online import endpoint_deployments, endpoints
from mlyard.services.schedules import schedules
from mlyard.services.tracking import jobs

router = APIRouter(route_class=StudioRoute, include_in_schema=False)
RECENT_JOBS = 10
DUE_NEXT = 5


@router.get("/w/{ws}/")
def overview(studio: StudioContext) -> Response:
    workspace = studio.workspace
    production = [
        (model, model.aliases["production"])
        for model in models.list_models(workspace)
        if "production" in model.aliases
    ]
    online = [
        (endpoint, endpoint_deployments.list_deployments(workspace, endpoint.name))
        for endpoint in endpoints.list_endpoints(workspace)
    ]
    return studio.render(
        "overview.html",
        recent=jobs.search_jobs(workspace, max_results=RECENT_JOBS, parent=""),
        production=production,
        online=online,
        pending=promotions.list_promotions(workspace, state="pending", limit=20),
        due=[details for details in schedules.due_next(workspace) if details.next_firings][:DUE_NEXT],
    )
