"""Jobs as tracked runs: start, log (one batch per call), end, cancel, read, search, metric history.

Route functions are plain `def`: the services are synchronous, so FastAPI runs them in its
threadpool. Every write is one service call, hence one transaction.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from mlyard.entities.job import Job, JobStatus
from mlyard.server.auth import ContributorWorkspace, ReaderWorkspace
from mlyard.server.schemas.jobs import (
    CancelResult,
    EndJobRequest,
    JobList,
    LogBatchRequest,
    MetricHistory,
    MetricPoint,
    StartJobRequest,
)
from mlyard.services import job_runs, jobs

router = APIRouter(prefix="/api/v1/workspaces/{ws}/jobs", tags=["jobs"])


@router.post("", response_model=Job, status_code=status.HTTP_201_CREATED)
def start_job(workspace: ContributorWorkspace, body: StartJobRequest) -> Job:
    """Start a tracked run (status Running); log to it with log-batch and finish it with end."""
    return jobs.start_job(
        workspace,
        experiment=body.experiment,
        display_name=body.display_name,
        tags=jobs.check_tags(body.tags),
        parent_job_id=body.parent_job_id,
    )


@router.get("", response_model=JobList)
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


@router.get("/{job_id}", response_model=Job)
def get_job(workspace: ReaderWorkspace, job_id: str) -> Job:
    return jobs.get_job(workspace, job_id)


@router.post("/{job_id}/log-batch", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def log_batch(workspace: ContributorWorkspace, job_id: str, body: LogBatchRequest) -> Response:
    """Write params, metric points and tags in one transaction: a refused batch writes nothing."""
    params = jobs.check_params(body.params)
    tags = jobs.check_tags(body.tags)
    metrics = [jobs.make_metric(m.key, m.value, m.step, m.timestamp) for m in body.metrics]
    jobs.record_run_data(workspace, job_id, params, metrics, tags)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{job_id}/end", response_model=Job)
def end_job(workspace: ContributorWorkspace, job_id: str, body: EndJobRequest | None = None) -> Job:
    """Move a run to Completed (default), Failed or Canceled; ending an ended job is 409."""
    body = body or EndJobRequest()
    jobs.end_job(workspace, job_id, JobStatus(body.status), body.error)
    return jobs.get_job(workspace, job_id)


@router.post("/{job_id}/cancel", response_model=CancelResult)
def cancel_job(workspace: ContributorWorkspace, job_id: str) -> CancelResult:
    """Cancel a job and its children: a queued one ends Canceled now, a running one is asked to stop."""
    return CancelResult(id=job_id, status=job_runs.request_cancel(workspace, job_id))


@router.get("/{job_id}/metrics/{key:path}", response_model=MetricHistory)
def metric_history(workspace: ReaderWorkspace, job_id: str, key: str) -> MetricHistory:
    """Every point of one metric (keys may contain '/', e.g. `train/loss`)."""
    points = jobs.metric_history(workspace, job_id, key)
    return MetricHistory(
        job_id=job_id,
        key=key,
        value=[MetricPoint(key=p.key, value=p.value, step=p.step, timestamp=p.timestamp) for p in points],
    )
