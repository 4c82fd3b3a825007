"""Endpoints: online endpoints with their deployments, traffic and mirror traffic (operators change
them after a confirmation page), the gateway's live request rate, errors and P50/P95/P99 latency
per deployment, a test-invoke form whose sample body comes from the model's signature, and each
deployment's log; batch endpoints with their deployments, jobs and where predictions.csv is.

Changes go through `services/online/endpoints.update_endpoint`, the same call and role
(operator) as `PATCH …/online-endpoints/{name}`; test-invoke sends the body through the gateway
itself, with the endpoint's own credentials, so it is exactly what a client would get."""

from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from mlyard.entities.endpoints.endpoint import OnlineDeployment
from mlyard.errors import InvalidArgument, NotFound
from mlyard.server.routes.endpoints import refresh_gateway
from mlyard.server.studio.context import Studio, StudioContext, StudioRoute
from mlyard.services.batch import batch_endpoints, batch_jobs
from mlyard.services.execution import job_runs
from mlyard.services.model_registry import models
from mlyard.services.online import endpoint_deployments, endpoints
from mlyard.serving.gateway_metrics import MAX_WINDOW_SECONDS
from mlyard.serving.schema import example_request

router = APIRouter(route_class=StudioRoute, include_in_schema=False)
LOG_LINES = 200
INVOKE_TIMEOUT_SECONDS = 30.0


@router.get("/w/{ws}/endpoints")
def endpoint_list(studio: StudioContext) -> Response:
    workspace = studio.workspace
    online = [
        (e, endpoint_deployments.list_deployments(workspace, e.name))
        for e in endpoints.list_endpoints(workspace)
    ]
    batch = [
        (e, batch_endpoints.list_deployments(workspace, e.name))
        for e in batch_endpoints.list_endpoints(workspace)
    ]
    return studio.render("endpoints.html", online=online, batch=batch)


def _sample_body(studio: Studio, deployment: OnlineDeployment) -> str:
    signature = None
    if deployment.model is not None:
        try:
            version = models.get_model_version(
                studio.workspace, f"{deployment.model.name}:{deployment.model.version}"
            )
            signature = version.signature
        except NotFound:
            signature = None
    return json.dumps(example_request(signature), indent=2)


@router.get("/w/{ws}/endpoints/online/{name}")
def online_endpoint(studio: StudioContext, name: str) -> Response:
    workspace = studio.workspace
    endpoint = endpoints.get_endpoint(workspace, name)
    deployments = endpoint_deployments.list_deployments(workspace, name)
    return studio.render(
        "endpoint.html",
        endpoint=endpoint,
        deployments=deployments,
        samples={d.name: _sample_body(studio, d) for d in deployments},
        logs={d.name: endpoint_deployments.get_logs(workspace, name, d.name, LOG_LINES) for d in deployments},
        invoked=None,
    )


@router.get("/w/{ws}/endpoints/online/{name}/metrics")
def online_metrics(
    studio: StudioContext,
    name: str,
    window: Annotated[int, Query(ge=1, le=MAX_WINDOW_SECONDS)] = 60,
) -> Response:
    """The live numbers as an HTML fragment the page polls (htmx)."""
    endpoints.get_endpoint(studio.workspace, name)  # NotFound for an unknown name
    summary = studio.request.app.state.gateway.metrics.summary(studio.ws, name, window)
    return studio.render("_endpoint_metrics.html", metrics=summary, window=window)


def _split(form: dict[str, str], prefix: str, names: list[str], what: str) -> dict[str, int]:
    """`traffic.blue=90` form fields as {"blue": 90}; a field that is not a whole number is named."""
    split: dict[str, int] = {}
    for deployment in names:
        text = form.get(f"{prefix}.{deployment}", "0").strip() or "0"
        try:
            split[deployment] = int(text)
        except ValueError:
            raise InvalidArgument(
                f"{what} for {deployment} must be a whole percentage, got {text!r}"
            ) from None
    return split


@router.post("/w/{ws}/endpoints/online/{name}/traffic")
def change_traffic(studio: StudioContext, name: str) -> Response:
    """First a confirmation page showing the split before and after; the change on `confirm`."""
    studio.require("operator")
    workspace = studio.workspace
    endpoint = endpoints.get_endpoint(workspace, name)
    names = [d.name for d in endpoint_deployments.list_deployments(workspace, name)]
    traffic = _split(studio.form, "traffic", names, "traffic")
    mirror = _split(studio.form, "mirror", names, "mirror traffic")
    traffic = {k: v for k, v in traffic.items() if v}
    mirror = {k: v for k, v in mirror.items() if v}
    if studio.form.get("confirm") != "yes":
        endpoints.check_traffic(name, traffic, mirror, set(names))  # a change that would be refused: said now
        return studio.render(
            "endpoint_traffic.html", endpoint=endpoint, names=names, traffic=traffic, mirror=mirror
        )
    endpoints.update_endpoint(workspace, name, traffic, mirror)
    refresh_gateway(studio.request)
    return RedirectResponse(studio.url(f"/endpoints/online/{quote(name, safe='')}"), status_code=303)


@router.post("/w/{ws}/endpoints/online/{name}/invoke")
async def invoke(studio: StudioContext, name: str) -> Response:
    """Send the form's body through the gateway to one deployment, as a client with the key would."""
    import httpx

    studio.require("operator")  # the endpoint's credentials are an operator's to use
    workspace = studio.workspace
    deployment = studio.form.get("deployment", "")
    body = studio.form.get("body", "")
    await run_in_threadpool(endpoint_deployments.get_deployment, workspace, name, deployment)
    credentials = await run_in_threadpool(endpoints.get_credentials, workspace, name)
    secret = credentials.primary_key or credentials.access_token or ""
    transport = httpx.ASGITransport(app=studio.request.app.state.gateway)
    async with httpx.AsyncClient(transport=transport, base_url="http://studio") as client:
        answer = await client.post(
            f"/workspaces/{quote(studio.ws, safe='')}/endpoints/{quote(name, safe='')}/score",
            content=body.encode(),
            headers={"content-type": "application/json", "authorization": f"Bearer {secret}",
                     "azureml-model-deployment": deployment},
            timeout=INVOKE_TIMEOUT_SECONDS,
        )  # fmt: skip
    endpoint = endpoints.get_endpoint(workspace, name)
    deployments = endpoint_deployments.list_deployments(workspace, name)
    samples = {d.name: _sample_body(studio, d) for d in deployments}
    samples[deployment] = body
    return studio.render(
        "endpoint.html",
        endpoint=endpoint,
        deployments=deployments,
        samples=samples,
        logs={d.name: endpoint_deployments.get_logs(workspace, name, d.name, LOG_LINES) for d in deployments},
        invoked={"deployment": deployment, "status": answer.status_code, "text": answer.text},
    )


@router.get("/w/{ws}/endpoints/batch/{name}")
def batch_endpoint(studio: StudioContext, name: str) -> Response:
    workspace = studio.workspace
    endpoint = batch_endpoints.get_endpoint(workspace, name)
    deployments = batch_endpoints.list_deployments(workspace, name)
    found = batch_jobs.list_batch_jobs(workspace, name)[:100]
    outputs = {job.id: job_runs.job_outputs(workspace, job.id) for job in found}
    return studio.render(
        "batch_endpoint.html", endpoint=endpoint, deployments=deployments, jobs=found, outputs=outputs
    )
