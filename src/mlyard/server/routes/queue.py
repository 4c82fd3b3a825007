"""The job queue for workers on any machine (`mlyard worker start --server URL`); operator role.

    POST queue/claim                      {worker_id, computes, wait_seconds} → a job, or 204 after
                                          waiting; the job is the worker's under a lease
    POST queue/jobs/{id}/lease            renew it → {status}; 409 LEASE_LOST once it was given away
    PUT  queue/jobs/{id}/log?offset=N     the job's log from byte N on (raw body)
    POST queue/jobs/{id}/code             where the code came from (git commit, hash)
    POST queue/jobs/{id}/outputs          an output, staged in an upload: stored, hashed, registered
    POST queue/jobs/{id}/finish           {status, error}: the outcome

Every call names the worker; a worker that lost its lease is refused, so it never overwrites
what the job's new worker records.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from mlyard.entities.jobs.job import JobOutputInfo, JobStatus, RunSummary
from mlyard.entities.jobs.job_spec import JobOutput
from mlyard.errors import InvalidArgument, NotFound
from mlyard.runtime.child_jobs import wait_for_queued
from mlyard.server.auth import OperatorWorkspace
from mlyard.server.schemas.common import Request as Body
from mlyard.server.schemas.jobs import MetricPoint
from mlyard.server.uploads import staged_files
from mlyard.services.execution import job_runs, queue
from mlyard.services.tracking.jobs import make_metric
from mlyard.services.workspaces.workspace import Workspace

router = APIRouter(prefix="/api/v1/workspaces/{ws}/queue", tags=["queue"])
MAX_WAIT_SECONDS = 30.0
MAX_LOG_PIECE = 64 * 2**20


class ClaimRequest(Body):
    worker_id: str = Field(min_length=1, max_length=128)
    computes: list[Literal["local", "ray"]] = Field(default=["local"])
    wait_seconds: float = Field(default=10.0, ge=0, le=MAX_WAIT_SECONDS)


class ClaimedJobBody(BaseModel):
    job_id: str
    job_type: str
    spec: dict[str, Any]
    attempt: int
    lease_seconds: float
    compute_kind: str


class WorkerCall(Body):
    worker_id: str = Field(min_length=1, max_length=128)


class LeaseStatus(BaseModel):
    status: JobStatus


class CodeRecord(WorkerCall):
    code: dict[str, Any]


class OutputUpload(WorkerCall):
    name: str
    upload: str | None = Field(default=None, description="None when the job wrote nothing to it")
    path: str = ""


class Finish(WorkerCall):
    status: Literal["Completed", "Failed", "Canceled"]
    error: str | None = None
    params: dict[str, str] = Field(default_factory=dict)
    metrics: list[MetricPoint] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)


def _lease(request: Request) -> float:
    return float(request.app.state.config.lease_seconds)


@router.post("/claim", response_model=ClaimedJobBody, responses={204: {"description": "no job came"}})
def claim(workspace: OperatorWorkspace, body: ClaimRequest, request: Request) -> Any:
    """The oldest queued command job of these computes, now the worker's; 204 if none came in time."""
    deadline = time.monotonic() + body.wait_seconds
    host = request.client.host if request.client else "unknown"
    while True:
        claimed = queue.claim_next(
            workspace, body.worker_id, host, queue.COMMAND_TYPES, body.computes, _lease(request)
        )
        if claimed is not None:
            return ClaimedJobBody(
                job_id=claimed.job_id, job_type=claimed.job_type, spec=claimed.spec, attempt=claimed.attempt,
                lease_seconds=claimed.lease_seconds, compute_kind=claimed.compute_kind,
            )  # fmt: skip
        left = deadline - time.monotonic()
        if left <= 0:
            return Response(status_code=status.HTTP_204_NO_CONTENT)
        wait_for_queued(min(left, 1.0))


@router.post("/jobs/{job_id}/lease", response_model=LeaseStatus)
def renew(workspace: OperatorWorkspace, job_id: str, body: WorkerCall, request: Request) -> LeaseStatus:
    return LeaseStatus(status=queue.renew_lease(workspace, job_id, body.worker_id, _lease(request)))


@router.put("/jobs/{job_id}/log", response_model=dict[str, int])
async def write_log(
    workspace: OperatorWorkspace,
    job_id: str,
    request: Request,
    worker_id: str = Query(min_length=1),
    offset: int = Query(ge=0),
) -> dict[str, int]:
    """Bytes of the job's log from `offset` on (what the worker has that the store has not)."""
    data = await request.body()
    if len(data) > MAX_LOG_PIECE:
        raise InvalidArgument(f"send the log in pieces of at most {MAX_LOG_PIECE:,} bytes")
    size = await run_in_threadpool(_write_log, workspace, job_id, worker_id, offset, data)
    return {"size": size}


def _write_log(workspace: Workspace, job_id: str, worker_id: str, offset: int, data: bytes) -> int:
    queue.check_holder(workspace, job_id, worker_id)
    return workspace.artifacts.write_at(job_runs.log_path(job_id), offset, data)


@router.post("/jobs/{job_id}/code", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def record_code(workspace: OperatorWorkspace, job_id: str, body: CodeRecord) -> Response:
    queue.check_holder(workspace, job_id, body.worker_id)
    job_runs.set_code(workspace, job_id, body.code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/jobs/{job_id}/outputs", response_model=JobOutputInfo)
def store_output(
    ws: str, workspace: OperatorWorkspace, job_id: str, body: OutputUpload, request: Request
) -> JobOutputInfo:
    """Store (and register, when the output names an asset) what the job wrote for an output."""
    from mlyard.services.execution.job_outputs import store_output as store

    queue.check_holder(workspace, job_id, body.worker_id)
    declared = job_runs.get_spec(workspace, job_id).get("outputs", {})
    if body.name not in declared:
        raise NotFound(
            f"job {job_id} declares no output {body.name!r} (outputs: {', '.join(declared) or 'none'})"
        )
    output = JobOutput.model_validate(declared[body.name])
    with staged_files(request, ws, body.upload, body.path) as folder:
        folder.mkdir(parents=True, exist_ok=True)
        written = folder / body.name if output.type == "uri_file" else folder
        return store(workspace, job_id, body.name, output, written)


@router.post("/jobs/{job_id}/finish", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def finish(workspace: OperatorWorkspace, job_id: str, body: Finish) -> Response:
    metrics = tuple(make_metric(p.key, p.value, p.step, p.timestamp) for p in body.metrics)
    summary = RunSummary(body.params, metrics, body.tags)
    queue.finish(workspace, job_id, body.worker_id, JobStatus(body.status), body.error, summary)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
