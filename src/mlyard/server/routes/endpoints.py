"""Online endpoints and deployments over REST (the scoring itself is the gateway's, at /endpoints/…).

  POST   …/online-endpoints                        {spec}                   create (operator)
  GET    …/online-endpoints · …/online-endpoints/{name}                     read (reader)
  PATCH  …/online-endpoints/{name}                 {traffic, mirror_traffic, description, tags}
  DELETE …/online-endpoints/{name}                                          with its deployments
  POST   …/online-endpoints/{name}/credentials     {token_lifetime_seconds} keys or a token (operator)
  POST   …/online-endpoints/{name}/regenerate-keys {key_type}
  GET    …/online-endpoints/{name}/metrics?window=60                        the gateway's rolling window
  GET    …/online-endpoints/{name}/metrics?since=24h[&deployment=D]         persisted minutes + unflushed
  POST   …/online-endpoints/{name}/deployments     {spec, upload, base}     create (files staged first)
  GET    …/online-endpoints/{name}/deployments · …/deployments/{dep}
  PATCH  …/online-endpoints/{name}/deployments/{dep}  {spec | set, upload, base}   a rolling update
  DELETE …/online-endpoints/{name}/deployments/{dep}
  GET    …/online-endpoints/{name}/deployments/{dep}/logs?lines=N           text
  POST   …/online-endpoints/sync                   after a change made elsewhere (a local client)

Every change waits for the supervisor's next pass before answering, so a request sent after the
answer already follows the new traffic split or key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from mlyard.entities.endpoints.endpoint import (
    EndpointCredentials,
    EndpointMetrics,
    OnlineDeployment,
    OnlineEndpoint,
)
from mlyard.entities.endpoints.endpoint_spec import endpoint_spec_from_dict
from mlyard.server.auth import OperatorWorkspace, ReaderWorkspace
from mlyard.server.schemas.common import Request as RequestBody
from mlyard.server.uploads import Uploads, staged_files
from mlyard.services.online import endpoint_deployments as deployments
from mlyard.services.online import endpoint_metrics_history as history
from mlyard.services.online import endpoints
from mlyard.serving.gateway_metrics import MAX_WINDOW_SECONDS
from mlyard.serving.metrics_flush import persisted_and_live

router = APIRouter(prefix="/api/v1/workspaces/{ws}/online-endpoints", tags=["online endpoints"])


class EndpointCreate(RequestBody):
    spec: dict[str, Any]
    source: str = "endpoint"


class EndpointUpdate(RequestBody):
    traffic: dict[str, int] | None = None
    mirror_traffic: dict[str, int] | None = None
    description: str | None = None
    tags: dict[str, str] | None = None


class CredentialsRequest(RequestBody):
    token_lifetime_seconds: float | None = Field(default=None, gt=0)


class RegenerateKeys(RequestBody):
    key_type: Literal["primary", "secondary"] = "primary"


class DeploymentCreate(RequestBody):
    spec: dict[str, Any]
    upload: str | None = None
    base: str = ""
    source: str = "deployment"


class DeploymentUpdate(RequestBody):
    spec: dict[str, Any] | None = None
    set: dict[str, str] | None = None
    upload: str | None = None
    base: str = ""
    source: str = "deployment"


class EndpointList(BaseModel):
    value: list[OnlineEndpoint]


class DeploymentList(BaseModel):
    value: list[OnlineDeployment]


def _with_uris(request: Request, ws: str, endpoint: OnlineEndpoint) -> OnlineEndpoint:
    from mlyard.server.mlflow import default_workspace

    default = default_workspace(request.app.state.workspaces.locations)
    prefix = "/endpoints" if ws == default else f"/workspaces/{ws}/endpoints"
    base = str(request.base_url).rstrip("/") + prefix + f"/{endpoint.name}"
    return endpoint.model_copy(update={"scoring_uri": f"{base}/score", "openapi_uri": f"{base}/swagger.json"})


def refresh_gateway(request: Request) -> None:
    """Wait until the gateway follows the change just made (when this server runs the gateway)."""
    background = getattr(request.app.state, "background", None)
    supervisor = getattr(background, "supervisor", None)
    if supervisor is not None:
        supervisor.refresh()


def _upload_root(request: Request, ws: str, upload: str | None, base: Path) -> Path:
    """The folder holding every file of the upload (the spec's own folder may be below it)."""
    if upload is None:
        return base
    uploads: Uploads = request.app.state.uploads
    return uploads.files_folder(ws, upload, str(request.state.actor.name))


@router.post("", response_model=OnlineEndpoint, status_code=status.HTTP_201_CREATED)
def create_endpoint(
    ws: str, workspace: OperatorWorkspace, body: EndpointCreate, request: Request
) -> OnlineEndpoint:
    created = endpoints.create_endpoint(workspace, endpoint_spec_from_dict(body.spec, body.source))
    refresh_gateway(request)
    return _with_uris(request, ws, created)


@router.post("/sync", status_code=status.HTTP_204_NO_CONTENT)
def sync(workspace: OperatorWorkspace, request: Request) -> Response:
    """Return once the gateway follows the database (a local client changed it directly)."""
    refresh_gateway(request)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("", response_model=EndpointList)
def list_endpoints(ws: str, workspace: ReaderWorkspace, request: Request) -> EndpointList:
    return EndpointList(value=[_with_uris(request, ws, e) for e in endpoints.list_endpoints(workspace)])


@router.get("/{name}", response_model=OnlineEndpoint)
def get_endpoint(ws: str, workspace: ReaderWorkspace, name: str, request: Request) -> OnlineEndpoint:
    return _with_uris(request, ws, endpoints.get_endpoint(workspace, name))


@router.patch("/{name}", response_model=OnlineEndpoint)
def update_endpoint(
    ws: str, workspace: OperatorWorkspace, name: str, body: EndpointUpdate, request: Request
) -> OnlineEndpoint:
    updated = endpoints.update_endpoint(
        workspace, name, body.traffic, body.mirror_traffic, body.description, body.tags
    )
    refresh_gateway(request)
    return _with_uris(request, ws, updated)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_endpoint(workspace: OperatorWorkspace, name: str, request: Request) -> Response:
    endpoints.delete_endpoint(workspace, name)
    refresh_gateway(request)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{name}/credentials", response_model=EndpointCredentials)
def get_credentials(workspace: OperatorWorkspace, name: str, body: CredentialsRequest) -> EndpointCredentials:
    return endpoints.get_credentials(workspace, name, body.token_lifetime_seconds)


@router.post("/{name}/regenerate-keys", response_model=EndpointCredentials)
def regenerate_keys(
    workspace: OperatorWorkspace, name: str, body: RegenerateKeys, request: Request
) -> EndpointCredentials:
    credentials = endpoints.regenerate_keys(workspace, name, body.key_type)
    refresh_gateway(request)
    return credentials


@router.get("/{name}/metrics", response_model=EndpointMetrics)
async def endpoint_metrics(
    ws: str,
    workspace: ReaderWorkspace,
    name: str,
    request: Request,
    window: Annotated[int, Query(ge=1, le=MAX_WINDOW_SECONDS, description="seconds")] = 60,
    since: Annotated[
        str | None, Query(description="persisted minutes from: 90m, 24h, 7d or an ISO date/time")
    ] = None,
    deployment: Annotated[str | None, Query(description="only this deployment")] = None,
) -> EndpointMetrics:
    """Requests/s, errors by status and P50/P95/P99 latency per deployment over the last `window` s
    of this server, or (`since`) from the persisted minutes, which outlive restarts."""
    metrics = request.app.state.gateway.metrics
    if since is not None:
        start = history.parse_since(since)
        return await persisted_and_live(metrics, workspace, ws, name, start, deployment)
    await run_in_threadpool(endpoints.get_endpoint, workspace, name)  # NotFound for an unknown name
    summary: EndpointMetrics = metrics.summary(ws, name, window, deployment)
    return summary


@router.post("/{name}/deployments", response_model=OnlineDeployment, status_code=status.HTTP_201_CREATED)
def create_deployment(
    ws: str, workspace: OperatorWorkspace, name: str, body: DeploymentCreate, request: Request
) -> OnlineDeployment:
    with staged_files(request, ws, body.upload, body.base) as base:
        spec = deployments.spec_from_dict(body.spec, body.source)
        created = deployments.create_deployment(
            workspace, spec, base, body.source, name, confined=_upload_root(request, ws, body.upload, base)
        )
    refresh_gateway(request)
    return created


@router.get("/{name}/deployments", response_model=DeploymentList)
def list_deployments(workspace: ReaderWorkspace, name: str) -> DeploymentList:
    return DeploymentList(value=deployments.list_deployments(workspace, name))


@router.get("/{name}/deployments/{deployment}", response_model=OnlineDeployment)
def get_deployment(workspace: ReaderWorkspace, name: str, deployment: str) -> OnlineDeployment:
    return deployments.get_deployment(workspace, name, deployment)


@router.patch("/{name}/deployments/{deployment}", response_model=OnlineDeployment)
def update_deployment(
    ws: str,
    workspace: OperatorWorkspace,
    name: str,
    deployment: str,
    body: DeploymentUpdate,
    request: Request,
) -> OnlineDeployment:
    with staged_files(request, ws, body.upload, body.base) as base:
        spec = deployments.spec_from_dict(body.spec, body.source) if body.spec is not None else None
        updated = deployments.update_deployment(
            workspace, name, deployment, spec, base, body.source, body.set
        )
    refresh_gateway(request)
    return updated


@router.delete("/{name}/deployments/{deployment}", status_code=status.HTTP_204_NO_CONTENT)
def delete_deployment(workspace: OperatorWorkspace, name: str, deployment: str, request: Request) -> Response:
    deployments.delete_deployment(workspace, name, deployment)
    refresh_gateway(request)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{name}/deployments/{deployment}/logs", response_class=PlainTextResponse)
def deployment_logs(
    workspace: ReaderWorkspace,
    name: str,
    deployment: str,
    lines: Annotated[int | None, Query(ge=1, le=deployments.MAX_LOG_LINES)] = None,
) -> PlainTextResponse:
    return PlainTextResponse(deployments.get_logs(workspace, name, deployment, lines))
