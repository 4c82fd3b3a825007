"""Batch endpoints and deployments, and invoking them (each invoke queues a batch job).

GET    …/batch-endpoints                               reader
POST   …/batch-endpoints                               operator     {spec, source}
GET    …/batch-endpoints/{name}                        reader
PATCH  …/batch-endpoints/{name}                        operator     {set: {defaults.deployment_name: …}}
DELETE …/batch-endpoints/{name}                        operator     its deployments too
GET    …/batch-endpoints/{name}/deployments            reader
POST   …/batch-endpoints/{name}/deployments            operator     {spec, upload, base, set_default, replace}
GET|PATCH|DELETE …/batch-endpoints/{name}/deployments/{deployment}
POST   …/batch-endpoints/{name}/jobs                   contributor  invoke: {input, deployment_name, …}
GET    …/batch-endpoints/{name}/jobs?deployment_name=  reader
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from mlyard.entities.endpoints.batch_endpoint import (
    BatchDeployment,
    BatchEndpoint,
    batch_deployment_from_dict,
    batch_endpoint_from_dict,
)
from mlyard.entities.jobs.job import QUEUE, Job
from mlyard.errors import InvalidArgument
from mlyard.runtime.child_jobs import notify_queued
from mlyard.server.auth import ContributorWorkspace, OperatorWorkspace, ReaderWorkspace
from mlyard.server.schemas.batch_endpoints import (
    BatchJobList,
    DeploymentCreate,
    DeploymentList,
    EndpointCreate,
    EndpointList,
    InvokeRequest,
    SetFields,
)
from mlyard.server.uploads import staged_files, staged_path
from mlyard.services.batch import batch_endpoints as service
from mlyard.services.batch import batch_jobs

router = APIRouter(prefix="/api/v1/workspaces/{ws}/batch-endpoints", tags=["batch endpoints"])


@router.get("", response_model=EndpointList)
def list_endpoints(workspace: ReaderWorkspace) -> EndpointList:
    return EndpointList(value=service.list_endpoints(workspace))


@router.post("", response_model=BatchEndpoint, status_code=status.HTTP_201_CREATED)
def create_endpoint(workspace: OperatorWorkspace, body: EndpointCreate) -> BatchEndpoint:
    return service.create_endpoint(workspace, batch_endpoint_from_dict(body.spec, body.source))


@router.get("/{name}", response_model=BatchEndpoint)
def get_endpoint(workspace: ReaderWorkspace, name: str) -> BatchEndpoint:
    return service.get_endpoint(workspace, name)


@router.patch("/{name}", response_model=BatchEndpoint)
def update_endpoint(workspace: OperatorWorkspace, name: str, body: SetFields) -> BatchEndpoint:
    return service.update_endpoint(workspace, name, body.set)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def delete_endpoint(workspace: OperatorWorkspace, name: str) -> Response:
    service.delete_endpoint(workspace, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{name}/deployments", response_model=DeploymentList)
def list_deployments(workspace: ReaderWorkspace, name: str) -> DeploymentList:
    return DeploymentList(value=service.list_deployments(workspace, name))


@router.post("/{name}/deployments", response_model=BatchDeployment, status_code=status.HTTP_201_CREATED)
def create_deployment(
    ws: str, workspace: OperatorWorkspace, name: str, body: DeploymentCreate, request: Request
) -> BatchDeployment:
    """Resolve and store a deployment; its code comes in `upload` and is stored with it."""
    spec = batch_deployment_from_dict(body.spec, body.source)
    if spec.endpoint_name != name:
        raise InvalidArgument(
            f"{body.source}: endpoint_name: {spec.endpoint_name!r} is not endpoint {name!r}"
        )
    with staged_files(request, ws, body.upload, body.base) as base:
        # Paths outside the upload are refused by `confine` (staged_files), as for every spec.
        return service.create_deployment(workspace, spec, base, body.source, body.set_default, body.replace)


@router.get("/{name}/deployments/{deployment}", response_model=BatchDeployment)
def get_deployment(workspace: ReaderWorkspace, name: str, deployment: str) -> BatchDeployment:
    return service.get_deployment(workspace, name, deployment)


@router.patch("/{name}/deployments/{deployment}", response_model=BatchDeployment)
def update_deployment(
    workspace: OperatorWorkspace, name: str, deployment: str, body: SetFields
) -> BatchDeployment:
    return service.update_deployment(workspace, name, deployment, body.set)


@router.delete(
    "/{name}/deployments/{deployment}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response
)
def delete_deployment(workspace: OperatorWorkspace, name: str, deployment: str) -> Response:
    service.delete_deployment(workspace, name, deployment)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{name}/jobs", response_model=Job, status_code=status.HTTP_201_CREATED)
def invoke(ws: str, workspace: ContributorWorkspace, name: str, body: InvokeRequest, request: Request) -> Job:
    """Queue a batch job scoring `input` (a staged local file or folder is stored with the job)."""
    with staged_files(request, ws, body.upload) as base:
        given = body.input
        if given is not None and body.upload is not None:
            given = str(staged_path(base, given))  # the uploaded file or folder, nothing beside it
        elif given is not None and not _is_reference(given):
            raise InvalidArgument(
                f"--input: {given} is a path on the server; upload a local file or folder with the request "
                "(the SDK and CLI do), or name a data asset (name:version, name@latest)"
            )
        job = batch_jobs.submit_batch_job(
            workspace, name, given, base, body.deployment_name, body.input_type, body.resume, QUEUE
        )
    notify_queued()  # the server's dispatcher runs it at once
    return job


def _is_reference(text: str) -> bool:
    """A data asset or job output reference (`name:1`, `name@latest`, `name`, `azureml:…`), not a
    path: a bare name resolves against the request's empty staging folder, never the server's files."""
    text = text.strip()
    if text.startswith("azureml:"):
        return True
    return not ("/" in text or "\\" in text or text.startswith((".", "~")))


@router.get("/{name}/jobs", response_model=BatchJobList)
def list_jobs(
    workspace: ReaderWorkspace,
    name: str,
    deployment_name: Annotated[str | None, Query(description="only this deployment's jobs")] = None,
) -> BatchJobList:
    return BatchJobList(value=batch_jobs.list_batch_jobs(workspace, name, deployment_name))
