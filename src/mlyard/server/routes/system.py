"""`/healthz`, `/metrics` and the workspace listing: the server itself rather than one workspace."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from mlyard.errors import MlyardError
from mlyard.server.auth import ReaderWorkspace
from mlyard.server.schemas.common import Health, WorkspaceInfo, WorkspaceList, WorkspaceSummary
from mlyard.server.workspaces import ServedWorkspaces
from mlyard.services.workspaces.stats import workspace_overview
from mlyard.services.workspaces.workspace import check_database

logger = logging.getLogger("mlyard.server")
router = APIRouter()


@router.get("/healthz", response_model=Health, tags=["server"], responses={503: {"model": Health}})
def healthz(request: Request) -> JSONResponse:
    """200 when every served workspace's database answers; 503 naming the ones that do not."""
    workspaces: ServedWorkspaces = request.app.state.workspaces
    report: dict[str, str] = {}
    for name in workspaces.names():
        try:
            check_database(workspaces.open(name))
            report[name] = "ok"
        except MlyardError as exc:
            report[name] = exc.message
        except Exception as exc:  # a health check reports; it never fails itself
            logger.exception("health check of workspace %r failed", name)
            report[name] = f"unusable ({type(exc).__name__}; see the server log)"
    healthy = all(state == "ok" for state in report.values())
    body = Health(status="ok" if healthy else "unavailable", workspaces=report)
    return JSONResponse(body.model_dump(), status_code=200 if healthy else 503)


@router.get("/metrics", tags=["server"], response_class=Response)
async def metrics(request: Request) -> Response:
    """Prometheus text format: request counts and latencies by route template and status."""
    return Response(generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/v1/workspaces", response_model=WorkspaceList, tags=["workspaces"])
async def list_workspaces(request: Request) -> WorkspaceList:
    workspaces: ServedWorkspaces = request.app.state.workspaces
    return WorkspaceList(value=[WorkspaceSummary(name=name) for name in workspaces.names()])


@router.get("/api/v1/workspaces/{ws}", response_model=WorkspaceInfo, tags=["workspaces"])
def show_workspace(ws: str, workspace: ReaderWorkspace) -> WorkspaceInfo:
    """Where the workspace keeps its records and artifacts (database password hidden), and what
    it holds."""
    return WorkspaceInfo(**{**workspace_overview(workspace), "name": ws})
