"""Jobs: tracked runs (start, log, end, cancel), submitted jobs (submit, follow the log), reading.

Route functions are plain `def`: the services are synchronous, so FastAPI runs them in its
threadpool. Every write is one service call, hence one transaction.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from mlyard.entities.jobs.job import QUEUE, DataInput, Job, JobStatus, Metric
from mlyard.errors import InvalidArgument
from mlyard.runtime.child_jobs import notify_queued
from mlyard.server.auth import AdminWorkspace, ContributorWorkspace, ReaderWorkspace
from mlyard.server.routes.files import ArtifactListing, infos
from mlyard.server.schemas.jobs import (
    CancelResult,
    DeleteResult,
    EndJobRequest,
    Experiment,
    ExperimentList,
    InputEdge,
    JobList,
    LogBatchRequest,
    MetricHistory,
    MetricPoint,
    OutputList,
    StartJobRequest,
    SubmitJobRequest,
)
from mlyard.server.uploads import staged_files
from mlyard.services.execution import job_runs
from mlyard.services.submission.dispatch import submit_job_dict
from mlyard.services.tracking import job_artifacts, job_deletion, jobs
from mlyard.services.workspaces.workspace import Workspace

router = APIRouter(prefix="/api/v1/workspaces/{ws}", tags=["jobs"])
MAX_LOG_CHUNK = 4 * 2**20


@router.post("/jobs", response_model=Job, status_code=status.HTTP_201_CREATED)
def start_job(workspace: ContributorWorkspace, body: StartJobRequest) -> Job:
    """Start a tracked run (status Running); log to it with log-batch and finish it with end."""
    return jobs.start_job(
        workspace,
        experiment=body.experiment,
        display_name=body.display_name,
        tags=jobs.check_tags(body.tags),
        parent_job_id=body.parent_job_id,
        code=body.code,
        runtime=body.runtime,
    )


@router.post("/jobs/submit", response_model=Job, status_code=status.HTTP_201_CREATED)
def submit_job(ws: str, workspace: ContributorWorkspace, body: SubmitJobRequest, request: Request) -> Job:
    """Check and queue a job YAML (command, pipeline, sweep, parallel) for the server's workers.

    The files the spec names come in `upload`; they are stored with the job (content-addressed),
    so any worker can run it, and the upload is removed.
    """
    with staged_files(request, ws, body.upload, body.base) as base:
        job = submit_job_dict(
            workspace, body.spec, base, body.source, dispatch=QUEUE, submitted_from=body.submitted_from
        )
    notify_queued()  # this server's workers and dispatcher look at once
    return job


@router.get("/jobs", response_model=JobList)
def search_jobs(
    workspace: ReaderWorkspace,
    filter: Annotated[str | None, Query(description="e.g. metrics.mse < 3000 and params.alpha > 0.1")] = None,
    order_by: Annotated[list[str] | None, Query(description="repeatable, e.g. metrics.mse ASC")] = None,
    experiment: Annotated[list[str] | None, Query(description="repeatable; default every experiment")] = None,
    max_results: Annotated[int, Query(description=f"1 to {jobs.MAX_SEARCH_RESULTS}")] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
    parent_job_name: Annotated[
        str | None,
        Query(description="a job id for its child jobs; empty for top-level jobs only; omitted for all"),
    ] = None,
) -> JobList:
    """Jobs matching every clause of `filter`, newest first unless `order_by` says otherwise.

    Results carry params, latest metrics, tags and inputs; the code snapshot and the runtime record
    come with `GET .../jobs/{id}`.
    """
    found = jobs.search_jobs(
        workspace, filter, order_by, experiment, max_results, offset=offset, parent=parent_job_name
    )
    return JobList(value=found)


@router.get("/experiments", response_model=ExperimentList)
def list_experiments(workspace: ReaderWorkspace) -> ExperimentList:
    found = jobs.list_experiments(workspace)
    return ExperimentList(value=[Experiment(name=name, job_count=count) for name, count in found])


@router.get("/jobs/{job_id}", response_model=Job)
def get_job(workspace: ReaderWorkspace, job_id: str) -> Job:
    return jobs.get_job(workspace, job_id)


@router.post("/jobs/{job_id}/log-batch", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def log_batch(workspace: ContributorWorkspace, job_id: str, body: LogBatchRequest) -> Response:
    """Write params, metric points and tags in one transaction: a refused batch writes nothing."""
    params, metrics, tags = _batch(body)
    jobs.record_run_data(workspace, job_id, params, metrics, tags)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _batch(body: LogBatchRequest) -> tuple[dict[str, str], list[Metric], dict[str, str]]:
    params = jobs.check_params(body.params)
    tags = jobs.check_tags(body.tags)
    metrics = [jobs.make_metric(m.key, m.value, m.step, m.timestamp) for m in body.metrics]
    return params, metrics, tags


@router.post("/jobs/{job_id}/end", response_model=Job)
def end_job(workspace: ContributorWorkspace, job_id: str, body: EndJobRequest | None = None) -> Job:
    """Move a run to Completed (default), Failed or Canceled, writing its last data in the same
    transaction; ending an ended job is 409."""
    body = body or EndJobRequest()
    params, metrics, tags = _batch(body)
    jobs.end_job(workspace, job_id, JobStatus(body.status), body.error, params, metrics, tags)
    return jobs.get_job(workspace, job_id)


@router.post("/jobs/{job_id}/cancel", response_model=CancelResult)
def cancel_job(workspace: ContributorWorkspace, job_id: str) -> CancelResult:
    """Cancel a job and its children: a queued one ends Canceled now, a running one is asked to stop."""
    return CancelResult(id=job_id, status=job_runs.request_cancel(workspace, job_id))


@router.delete("/jobs/{job_id}", response_model=DeleteResult)
def delete_job(workspace: AdminWorkspace, job_id: str, permanent: bool = False) -> DeleteResult:
    """Delete a job and the jobs below it for good, rows and files (MLflow's `gc`); admins only."""
    if not permanent:
        raise InvalidArgument("permanent: mlyard deletes jobs only for good; pass permanent=true to confirm")
    return DeleteResult(id=job_id, deleted=job_deletion.delete_job_permanently(workspace, job_id).job_ids)


@router.delete(
    "/jobs/{job_id}/tags/{key:path}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response
)
def delete_tag(workspace: ContributorWorkspace, job_id: str, key: str) -> Response:
    jobs.delete_tag(workspace, job_id, key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/jobs/{job_id}/inputs", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def record_input(workspace: ContributorWorkspace, job_id: str, body: InputEdge) -> Response:
    """Record that the job read a data asset or model version (lineage)."""
    jobs.record_input(workspace, job_id, DataInput(kind=body.kind, name=body.name, version=body.version))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/jobs/{job_id}/metrics/{key:path}", response_model=MetricHistory)
def metric_history(workspace: ReaderWorkspace, job_id: str, key: str) -> MetricHistory:
    """Every point of one metric (keys may contain '/', e.g. `train/loss`)."""
    points = jobs.metric_history(workspace, job_id, key)
    return MetricHistory(
        job_id=job_id,
        key=key,
        value=[MetricPoint(key=p.key, value=p.value, step=p.step, timestamp=p.timestamp) for p in points],
    )


@router.get("/jobs/{job_id}/artifacts", response_model=ArtifactListing)
def list_job_artifacts(workspace: ReaderWorkspace, job_id: str) -> ArtifactListing:
    """The files the job logged, recursively (download each from `artifacts/{path}`)."""
    return ArtifactListing(value=infos(job_artifacts.list_job_artifacts(workspace, job_id)))


@router.get("/jobs/{job_id}/outputs", response_model=OutputList)
def list_outputs(workspace: ReaderWorkspace, job_id: str) -> OutputList:
    jobs.ensure_job_exists(workspace, job_id)
    return OutputList(value=job_runs.job_outputs(workspace, job_id))


@router.get("/jobs/{job_id}/children", response_model=JobList)
def list_children(workspace: ReaderWorkspace, job_id: str) -> JobList:
    """A pipeline's steps, a sweep's trials or a parallel job's mini-batches, oldest first."""
    jobs.ensure_job_exists(workspace, job_id)
    return JobList(
        value=[jobs.get_job(workspace, child) for child, _, _ in job_runs.children(workspace, job_id)]
    )


@router.get("/jobs/{job_id}/log", response_class=Response)
def read_log(workspace: ReaderWorkspace, job_id: str, offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    """The job's log from byte `offset` on; `x-job-status` is its status, read before the log, so a
    terminal status with an empty answer means the whole log has been read."""
    current = job_runs.status_of(workspace, job_id)
    data = _log_bytes(workspace, job_id, offset)
    return Response(data, media_type="text/plain; charset=utf-8", headers={"x-job-status": current.value})


def _log_bytes(workspace: Workspace, job_id: str, offset: int) -> bytes:
    from mlyard.runtime.streaming import read_log

    return read_log(workspace, job_id, offset)[:MAX_LOG_CHUNK]
