"""MLflow runs as mlyard jobs: create, get, update (end, rename), log, tag, search, metric history.

Each logging call is one service call, hence one transaction: a refused log-batch writes nothing.
The run name lives in the job's display name and, as MLflow keeps it, in the tag
`mlflow.runName`; a nested run's `mlflow.parentRunId` tag makes it a child job.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Response
from fastapi.responses import JSONResponse

from mlyard.entities.jobs.job import Job
from mlyard.errors import Conflict, InvalidArgument
from mlyard.server.mlflow.convert import (
    DEFAULT_EXPERIMENT_ID,
    END_STATUS,
    MLFLOW_TO_STATUSES,
    PARENT_RUN_TAG,
    RUN_NAME_TAG,
    STATUS_TO_MLFLOW,
    USER_TAG,
    from_millis,
    metric_json,
    run_info_json,
    run_json,
)
from mlyard.server.mlflow.experiments import experiment_name, experiment_names, mlflow_ids
from mlyard.server.mlflow.routing import API_PREFIX, Contributor, Reader, empty, mlflow_router, ok
from mlyard.server.mlflow.schemas import (
    MAX_RESULTS,
    CreateRun,
    DeleteTag,
    KeyValue,
    LogBatch,
    LogInputs,
    LogMetric,
    LogOutputs,
    LogParam,
    SearchRuns,
    SetTag,
    UpdateRun,
)
from mlyard.server.mlflow.search import (
    next_token,
    one_more,
    page_offset,
    page_token,
    run_filter,
    run_order,
)
from mlyard.services.execution import job_runs
from mlyard.services.model_registry import logged_models
from mlyard.services.tracking import jobs
from mlyard.services.workspaces.ids import new_run_name
from mlyard.services.workspaces.workspace import Workspace

router = mlflow_router(API_PREFIX, "mlflow runs")


def runs_json(workspace: Workspace, found: list[Job]) -> list[dict[str, Any]]:
    """Runs with their experiment ids and the step and time of each metric's latest point."""
    ids = mlflow_ids(workspace, {job.experiment for job in found})
    latest = jobs.latest_metric_points(workspace, [job.id for job in found])
    return [
        run_json(job, ids.get(job.experiment, DEFAULT_EXPERIMENT_ID), latest.get(job.id, [])) for job in found
    ]


def _one_run(workspace: Workspace, job: Job) -> JSONResponse:
    return ok({"run": runs_json(workspace, [job])[0]})


def _tags(pairs: list[KeyValue]) -> dict[str, str]:
    return jobs.check_tags({pair.key: pair.value for pair in pairs})  # a repeated key: the last wins


def _params(pairs: list[KeyValue]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        value = str(pair.value)
        if params.setdefault(pair.key, value) != value:
            raise InvalidArgument(f"param {pair.key!r} is given twice with different values in one batch")
    return jobs.check_params(params)


@router.post("/runs/create")
def create_run(workspace: Contributor, body: CreateRun) -> JSONResponse:
    """Start a run (a Running job) in `experiment_id` ("0" is `Default`); named like MLflow's if unnamed."""
    experiment = experiment_name(workspace, body.experiment_id or DEFAULT_EXPERIMENT_ID)
    tags = _tags(body.tags)
    tagged_name = tags.get(RUN_NAME_TAG)
    if body.run_name and tagged_name not in (None, body.run_name):
        raise InvalidArgument(f"run_name {body.run_name!r} differs from tag {RUN_NAME_TAG} {tagged_name!r}")
    name = body.run_name or tagged_name or new_run_name()
    tags[RUN_NAME_TAG] = name
    if body.user_id and USER_TAG not in tags:
        tags[USER_TAG] = body.user_id
    start = from_millis(body.start_time) if body.start_time is not None else None
    job = jobs.start_job(
        workspace, experiment=experiment, display_name=name, tags=tags,
        parent_job_id=tags.get(PARENT_RUN_TAG), start_time=start,
    )  # fmt: skip
    return _one_run(workspace, job)


@router.get("/runs/get")
def get_run(workspace: Reader, run_id: str | None = None, run_uuid: str | None = None) -> JSONResponse:
    return _one_run(workspace, jobs.get_job(workspace, _run_id(run_id, run_uuid)))


def _run_id(run_id: str | None, run_uuid: str | None) -> str:
    if not (run_id or run_uuid):
        raise InvalidArgument("query parameter 'run_id' is required (the id of the run)")
    return str(run_id or run_uuid)


@router.post("/runs/update")
def update_run(workspace: Contributor, body: UpdateRun) -> JSONResponse:
    """Rename a run and/or end it (FINISHED, FAILED, KILLED); ending it again the same way is a no-op."""
    job = jobs.get_job(workspace, body.run)
    if body.run_name is not None and body.run_name != (job.display_name or ""):
        jobs.record_run_data(
            workspace, job.id, tags={RUN_NAME_TAG: body.run_name}, display_name=body.run_name
        )
    if body.status is not None:
        _move(workspace, job, body.status, body.end_time)
    job = jobs.get_job(workspace, job.id)
    experiment = mlflow_ids(workspace, {job.experiment}).get(job.experiment, DEFAULT_EXPERIMENT_ID)
    return ok({"run_info": run_info_json(job, experiment)})


def _move(workspace: Workspace, job: Job, status: str, end_time: int | None) -> None:
    now = STATUS_TO_MLFLOW[job.status]
    if status not in END_STATUS:
        if job.status not in MLFLOW_TO_STATUSES[status]:
            raise Conflict(f"run {job.id} is {now}; a run cannot go back to {status}")
        return
    if not job.status.is_terminal and job_runs.is_submitted(workspace, job.id):
        # `mlflow.end_run()` inside a job (a `with mlflow.start_run():` block, the client's exit
        # hook) does not end the job, as on Azure ML: its runner records the outcome when the
        # process exits, with its outputs stored first.
        return
    if job.status.is_terminal:
        if job.status != END_STATUS[status]:
            raise Conflict(f"run {job.id} already ended as {now}; an ended run's status is final")
        return
    ended = from_millis(end_time) if end_time is not None else None
    error = "the MLflow client reported the run as failed" if status == "FAILED" else None
    jobs.end_job(workspace, job.id, END_STATUS[status], error=error, end_time=ended)


@router.post("/runs/log-metric")
def log_metric(workspace: Contributor, body: LogMetric) -> Response:
    metric = jobs.make_metric(body.key, body.value, body.step, body.timestamp)
    jobs.record_run_data(workspace, body.run, metrics=[metric])
    return empty()


@router.post("/runs/log-parameter")
def log_param(workspace: Contributor, body: LogParam) -> Response:
    """A param never changes once logged: a different value is refused, the same one accepted."""
    jobs.record_run_data(workspace, body.run, params=jobs.check_params({body.key: body.value}))
    return empty()


@router.post("/runs/set-tag")
def set_tag(workspace: Contributor, body: SetTag) -> Response:
    tags = jobs.check_tags({body.key: body.value})
    jobs.record_run_data(workspace, body.run, tags=tags, display_name=tags.get(RUN_NAME_TAG))
    return empty()


@router.post("/runs/delete-tag")
def delete_tag(workspace: Contributor, body: DeleteTag) -> Response:
    jobs.delete_tag(workspace, body.run, body.key)
    return empty()


@router.post("/runs/log-batch")
def log_batch(workspace: Contributor, body: LogBatch) -> Response:
    """Metrics, params and tags in one transaction; points re-sent to link a logged model are not doubled."""
    params, tags = _params(body.params), _tags(body.tags)
    metrics = [jobs.make_metric(m.key, m.value, m.step, m.timestamp) for m in body.metrics]
    linked = any(m.model_id for m in body.metrics)
    jobs.record_run_data(
        workspace, body.run, params, metrics, tags, display_name=tags.get(RUN_NAME_TAG),
        skip_logged_points=linked,
    )  # fmt: skip
    return empty()


@router.post("/runs/outputs")
def log_outputs(workspace: Contributor, body: LogOutputs) -> Response:
    """The run logged these models; mlyard knows it already from each model's source run."""
    jobs.ensure_job_exists(workspace, body.run)
    for output in body.models:
        logged_models.get_logged_model(workspace, output.model_id)
    return empty()


@router.post("/runs/log-inputs")
def log_inputs(workspace: Contributor, body: LogInputs) -> Response:
    """Accepted so `autolog` (which logs its training set) works; MLflow's dataset records are not
    kept — a job's data lineage is its data-asset inputs."""
    jobs.ensure_job_exists(workspace, body.run)
    return empty()


@router.post("/runs/search")
def search_runs(workspace: Reader, body: SearchRuns) -> JSONResponse:
    """Runs of the experiments matching the filter, newest first unless `order_by` says otherwise."""
    found = run_filter(body.filter)
    order = run_order(body.order_by)
    offset = page_offset(body.page_token)
    names = experiment_names(workspace, body.experiment_ids) if body.experiment_ids else None
    if found.matches_nothing or body.run_view_type == "DELETED_ONLY" or names == []:
        return ok({"runs": []})
    cap = jobs.MAX_SEARCH_RESULTS
    page = jobs.search_jobs(
        workspace, found.clauses, order, names, one_more(body.max_results, cap), offset=offset
    )
    answer: dict[str, Any] = {"runs": runs_json(workspace, page[: body.max_results])}
    token = next_token(len(page), body.max_results, offset, cap)
    if token:
        answer["next_page_token"] = token
    return ok(answer)


@router.get("/metrics/get-history")
def get_metric_history(
    workspace: Reader,
    metric_key: Annotated[str, Query(min_length=1)],
    run_id: str | None = None,
    run_uuid: str | None = None,
    max_results: Annotated[int | None, Query(ge=1, le=MAX_RESULTS)] = None,
    token: Annotated[str | None, Query(alias="page_token")] = None,
) -> JSONResponse:
    """Every point of one metric in step order ([] for a key never logged), paged on request."""
    points = jobs.metric_history(workspace, _run_id(run_id, run_uuid), metric_key, missing_ok=True)
    offset = page_offset(token)
    end = len(points) if max_results is None else offset + max_results
    answer: dict[str, Any] = {"metrics": [metric_json(point) for point in points[offset:end]]}
    if end < len(points):
        answer["next_page_token"] = page_token(end)
    return ok(answer)
