"""Jobs as run records: start/end, params, metrics, tags, lineage edges, search.

Rules that live here: params never change once logged; metric values are numbers (NaN and
±infinity included); a job's literal inputs are its params; a nested run defaults to its parent's
experiment; searching an unknown experiment is NotFound; a terminal status is final; every job
belongs to an experiment (created on first use).
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Sequence
from datetime import UTC, datetime
from numbers import Real
from typing import Any

from sqlalchemy.orm import Session

from mlyard.entities.jobs.job import CodeSnapshot, DataInput, Job, JobStatus, Metric, RuntimeInfo
from mlyard.entities.jobs.search import Clause, OrderTerm, parse_filter, parse_order_by
from mlyard.entities.specs.names import validate_key, validate_name
from mlyard.errors import Conflict, InvalidArgument, NotFound
from mlyard.services.events.job_events import emit_job_status
from mlyard.services.workspaces import audit
from mlyard.services.workspaces.ids import new_job_id
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import experiments as experiment_rows
from mlyard.store import jobs as job_rows

DEFAULT_EXPERIMENT = "Default"
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
MAX_SEARCH_RESULTS = 50_000
MAX_DISPLAY_NAME = 255


def start_job(
    workspace: Workspace,
    experiment: str | None = None,
    display_name: str | None = None,
    tags: dict[str, str] | None = None,
    code: CodeSnapshot | None = None,
    runtime: RuntimeInfo | None = None,
    job_type: str = "run",
    parent_job_id: str | None = None,
    status: JobStatus = JobStatus.RUNNING,
    spec: dict[str, Any] | None = None,
    dispatch: str | None = None,
    start_time: datetime | None = None,
) -> Job:
    """A new job record: Running for a tracked run, Queued for a submitted job (with its spec).

    With no `experiment`, a child job (nested run) joins its parent's experiment, any other job
    `Default`. A submitted job's literal inputs are recorded as its params (see `input_params`).
    `start_time` records when a run began if the caller knows better than now (the MLflow client
    sends its own clock's time).
    """
    if experiment is None and parent_job_id:
        experiment = _parent_experiment(workspace, parent_job_id)
    experiment = validate_name(DEFAULT_EXPERIMENT if experiment is None else experiment, "experiment name")
    clean_tags = check_tags(tags or {})
    params = input_params(spec) if spec else {}
    now = datetime.now(UTC)
    if status != JobStatus.RUNNING:
        start_time = None
    elif start_time is None:
        start_time = now
    job_id = new_job_id()

    def work(session: Session) -> None:
        experiment_id = job_rows.get_or_create_experiment(session, experiment)
        if parent_job_id and not job_rows.job_exists(session, parent_job_id):
            raise NotFound(f"parent job {parent_job_id!r} does not exist")
        job_rows.insert_job(
            session,
            dict(
                id=job_id,
                experiment_id=experiment_id,
                display_name=display_name,
                type=job_type,
                status=status.value,
                parent_job_id=parent_job_id,
                created_at=now,
                start_time=start_time,
                code=code.model_dump(mode="json") if code else None,
                runtime=runtime.model_dump(mode="json") if runtime else None,
                spec=spec,
                dispatch=dispatch,
            ),
        )
        job_rows.upsert_tags(session, job_id, clean_tags)
        job_rows.insert_params(session, job_id, params)
        what = "run started" if spec is None else f"{job_type} job queued"
        audit.record(session, "job.create", "job", job_id, f"{what} in experiment {experiment}")
        emit_job_status(session, job_id, status)

    workspace.database.write(work)
    return Job(
        id=job_id, experiment=experiment, display_name=display_name, type=job_type,
        status=status, created_at=now, start_time=start_time, params=params, tags=clean_tags,
        code=code, runtime=runtime, parent_job_id=parent_job_id,
    )  # fmt: skip


def _parent_experiment(workspace: Workspace, parent_job_id: str) -> str:
    with workspace.database.read() as session:
        found = experiment_rows.of_job(session, parent_job_id)
    if found is None:
        raise NotFound(f"parent job {parent_job_id!r} does not exist")
    return found.name


def input_params(spec: dict[str, Any]) -> dict[str, str]:
    """A submitted job's params: its literal inputs and, for a sweep trial, its sampled values
    (which win over an input of the same name), as text, as `log_param` records them.

    `spec` is a resolved job as stored (a command job, a pipeline's own inputs); a value too long
    for a param is left out rather than failing the job.
    """
    found: dict[str, Any] = {}
    inputs = spec.get("inputs")
    if isinstance(inputs, dict):
        for name, given in inputs.items():
            if (
                isinstance(given, dict)
                and given.get("source") == "literal"
                and given.get("value") is not None
            ):
                found[name] = given["value"]
    search_space = spec.get("search_space")
    if isinstance(search_space, dict):
        found.update(search_space)
    texts = {key: str(value) for key, value in found.items()}
    return check_params({key: text for key, text in texts.items() if len(text) <= MAX_PARAM_VALUE})


def end_job(
    workspace: Workspace,
    job_id: str,
    status: JobStatus = JobStatus.COMPLETED,
    error: str | None = None,
    params: dict[str, str] | None = None,
    metrics: Sequence[Metric] = (),
    tags: dict[str, str] | None = None,
    end_time: datetime | None = None,
) -> None:
    """Write the run's last data and move it to a terminal status, in one transaction.

    Ending an already-ended job is refused. `end_time` defaults to now.
    """
    if not status.is_terminal:
        raise InvalidArgument(f"end status must be Completed, Failed or Canceled, not {status.value}")

    def work(session: Session) -> None:
        before = job_rows.finish_job(session, job_id, status.value, end_time or datetime.now(UTC), error)
        if before is None:
            raise NotFound(f"job {job_id!r} does not exist; list jobs with: mlyard job list")
        if before in job_rows.TERMINAL_STATUSES:
            raise Conflict(f"job {job_id} already ended as {before}")
        _write_run_data(session, job_id, params or {}, metrics, tags or {})
        emit_job_status(session, job_id, status)

    workspace.database.write(work)


def get_job(workspace: Workspace, job_id: str) -> Job:
    with workspace.database.read() as session:
        jobs = job_rows.load_jobs(session, [job_id])
    if not jobs:
        raise NotFound(f"job {job_id!r} does not exist; list jobs with: mlyard job list")
    return jobs[0]


def record_run_data(
    workspace: Workspace,
    job_id: str,
    params: dict[str, str] | None = None,
    metrics: Sequence[Metric] = (),
    tags: dict[str, str] | None = None,
    display_name: str | None = None,
    skip_logged_points: bool = False,
) -> None:
    """Write params, metric points and tags of one job in one transaction (the flush path).

    `display_name` renames the job in the same transaction. With `skip_logged_points`, a point
    identical to one already logged (key, value, step and timestamp) is not stored again, as
    MLflow does when its client re-sends a run's metrics to link them to a logged model.
    """
    if display_name is not None and len(display_name) > MAX_DISPLAY_NAME:
        raise InvalidArgument(
            f"display name is {len(display_name)} characters; the limit is {MAX_DISPLAY_NAME}"
        )

    def work(session: Session) -> None:
        _require_job(session, job_id)
        points = metrics
        if skip_logged_points and metrics:
            logged = job_rows.logged_points(session, job_id, {m.key for m in metrics})
            unique: dict[Hashable, Metric] = {}
            for metric in metrics:
                unique.setdefault(job_rows.point_identity(metric), metric)
            points = [m for identity, m in unique.items() if identity not in logged]
        _write_run_data(session, job_id, params or {}, points, tags or {})
        if display_name is not None:
            job_rows.set_display_name(session, job_id, display_name)

    workspace.database.write(work)


def _write_run_data(
    session: Session, job_id: str, params: dict[str, str], metrics: Sequence[Metric], tags: dict[str, str]
) -> None:
    if params:
        existing = job_rows.get_params(session, job_id, params)
        for key, value in params.items():
            if key in existing and not same_param_value(existing[key], value):
                raise Conflict(
                    f"param {key!r} of job {job_id} is already {existing[key]!r}, cannot change "
                    f"it to {value!r}; params are immutable: log a metric or tag instead"
                )
        job_rows.insert_params(session, job_id, params)
    job_rows.insert_metrics(session, job_id, metrics)
    job_rows.upsert_tags(session, job_id, tags)


def check_params(params: dict[str, Any]) -> dict[str, str]:
    """Validated params as strings (MLflow's convention: values are text)."""
    return _check_values(params, "param", MAX_PARAM_VALUE)


def same_param_value(logged: str, value: str) -> bool:
    """Whether logging `value` again repeats `logged`: the same text, or the same number written
    another way ("1" and "1.0": a job's input `alpha: 1` and the script's `float(alpha)`)."""
    if logged == value:
        return True
    try:
        return float(logged) == float(value)
    except ValueError:
        return False


def check_tags(tags: dict[str, Any]) -> dict[str, str]:
    """Validated tags as strings."""
    return _check_values(tags, "tag", MAX_TAG_VALUE)


def make_metric(key: str, value: Any, step: int | None = None, timestamp: int | None = None) -> Metric:
    """Validate one metric point at the boundary: a named number with an integer step.

    NaN and ±infinity are numbers here and are stored, as MLflow stores them: a diverging loss
    is worth seeing. Strings, None and booleans are refused at the call, never at the flush.
    """
    validate_key(key, "metric")
    if type(value) is not float:  # the common case skips the slower checks below
        if isinstance(value, bool) or not isinstance(value, Real):
            value = _coerce_number(key, value)
        try:
            value = float(value)
        except OverflowError:
            raise InvalidArgument(f"metric {key!r} is too large for a float: {value!r}") from None
    if step is None:
        step = 0
    elif type(step) is not int:
        raise InvalidArgument(f"step of metric {key!r} must be an integer, got {step!r}")
    if timestamp is None:
        timestamp = int(time.time() * 1000)
    return Metric(key, value, step, timestamp)


def set_tags(workspace: Workspace, job_id: str, tags: dict[str, Any]) -> None:
    record_run_data(workspace, job_id, tags=check_tags(tags))


def delete_tag(workspace: Workspace, job_id: str, key: str) -> None:
    def work(session: Session) -> None:
        _require_job(session, job_id)
        if not job_rows.delete_tag(session, job_id, key):
            raise NotFound(f"job {job_id} has no tag {key!r}")

    workspace.database.write(work)


def record_input(workspace: Workspace, job_id: str, edge: DataInput) -> None:
    def work(session: Session) -> None:
        _require_job(session, job_id)
        job_rows.insert_input(session, job_id, edge)

    workspace.database.write(work)


def jobs_that_read(workspace: Workspace, kind: str, name: str, version: str, limit: int = 200) -> list[Job]:
    """The jobs whose lineage says they read the data asset or model version `name:version`."""
    with workspace.database.read() as session:
        return job_rows.load_jobs(
            session, job_rows.jobs_reading(session, kind, name, version, limit), with_details=False
        )


def metric_history(workspace: Workspace, job_id: str, key: str, missing_ok: bool = False) -> list[Metric]:
    """Every point of one metric in step, then time order; `missing_ok`: [] for a key never logged."""
    with workspace.database.read() as session:
        _require_job(session, job_id)
        history = job_rows.metric_history(session, job_id, key)
        if not history and not missing_ok:
            keys = job_rows.metric_keys(session, job_id)
            raise NotFound(
                f"job {job_id} has no metric {key!r}"
                + (f"; it has: {', '.join(keys)}" if keys else "; it logged no metrics")
            )
    return history


def search_jobs(
    workspace: Workspace,
    filter: str | Sequence[Clause] | None = None,
    order_by: Sequence[str] | str | Sequence[OrderTerm] | None = None,
    experiments: Sequence[str] | str | None = None,
    max_results: int = 1000,
    offset: int = 0,
    parent: str | None = None,
    text: str | None = None,
) -> list[Job]:
    """Jobs matching every clause of `filter`, newest first unless `order_by` says otherwise.

    `parent`: None for every job, "" for top-level jobs only (no pipeline steps, sweep trials or
    mini-batches), or a job id for that job's children. `text`: a free-text search, only jobs
    whose name, id or a tag value contains it (any case, taken literally).

    Results carry status, times, params, latest metrics, tags and inputs, but not the code
    snapshot or the runtime record (installed packages): `get_job` returns those. `filter` and
    `order_by` may come parsed already (another dialect's parser made them).
    """
    clauses = parse_filter(filter) if filter is None or isinstance(filter, str) else list(filter)
    order = _order_terms(order_by)
    if isinstance(experiments, str):
        experiments = [experiments]
    if not 0 < max_results <= MAX_SEARCH_RESULTS:
        raise InvalidArgument(f"max_results must be between 1 and {MAX_SEARCH_RESULTS}, got {max_results}")
    with workspace.database.read() as session:
        if experiments:
            _require_experiments(session, experiments)
        return job_rows.search_jobs(
            session, clauses, order, experiments, max_results, offset, parent, text=text or None
        )


def _order_terms(order_by: Sequence[str] | str | Sequence[OrderTerm] | None) -> list[OrderTerm]:
    if order_by is None or isinstance(order_by, str):
        return parse_order_by(order_by)
    terms = list(order_by)
    if all(isinstance(term, OrderTerm) for term in terms):
        return [term for term in terms if isinstance(term, OrderTerm)]
    return parse_order_by([str(term) for term in terms])


def latest_metric_points(workspace: Workspace, job_ids: Sequence[str]) -> dict[str, list[Metric]]:
    """The latest point (value, step, timestamp) of every metric of each job, by job id."""
    with workspace.database.read() as session:
        return job_rows.latest_metric_points(session, job_ids)


def list_experiments(workspace: Workspace) -> list[tuple[str, int]]:
    with workspace.database.read() as session:
        return job_rows.list_experiments(session)


def ensure_job_exists(workspace: Workspace, job_id: str) -> None:
    """`NotFound` unless the job exists; one indexed lookup, for hot paths that need no record."""
    with workspace.database.read() as session:
        _require_job(session, job_id)


def _require_experiments(session: Session, names: Sequence[str]) -> None:
    """`NotFound` naming the experiments that do not exist: an empty answer would hide a typo.
    `Default` always exists (as MLflow's experiment "0"), even before its first run creates it."""
    known = experiment_rows.by_names(session, names)
    missing = [name for name in dict.fromkeys(names) if name not in known and name != DEFAULT_EXPERIMENT]
    if missing:
        listed = ", ".join(repr(name) for name in missing)
        what = (
            f"experiment {listed} does not exist"
            if len(missing) == 1
            else f"experiments {listed} do not exist"
        )
        raise NotFound(f"{what}; list experiments with: mlyard job experiments")


def _require_job(session: Session, job_id: str) -> None:
    if not job_rows.job_exists(session, job_id):
        raise NotFound(f"job {job_id!r} does not exist; list jobs with: mlyard job list")


def _check_values(values: dict[str, Any], what: str, limit: int) -> dict[str, str]:
    checked = {}
    for key, value in values.items():
        validate_key(key, what)
        text = value if isinstance(value, str) else str(value)
        if len(text) > limit:
            raise InvalidArgument(f"{what} {key!r} is {len(text)} characters; the limit is {limit}")
        checked[key] = text
    return checked


def _coerce_number(key: str, value: Any) -> float:
    """Accept numpy scalars and 0-d arrays; refuse strings and everything else by name."""
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, str | bytes):
        try:
            number = item()
        except (ValueError, TypeError):
            number = None
        if isinstance(number, Real) and not isinstance(number, bool):
            return float(number)
    raise InvalidArgument(f"metric {key!r} must be a number, got {value!r} ({type(value).__name__})")
