"""Invoking a batch endpoint: a batch job (`type: batch`) built from a deployment and an input.

Rules that live here: the input is a data asset (`name:version`, `name@latest`), a job output
(`azureml://jobs/<id>/outputs/<name>`) or a local file or folder, checked before any job is
recorded, and refused when it has nothing to score (an empty file, a table with no rows, a folder
with no files); its type (`uri_file`, `uri_folder`, `mltable`) is the asset's, or what the path is; a
resumed job takes the crashed job's pinned spec unchanged, so it scores exactly what that job
was scoring — and only a job that did not complete can be resumed.
"""

from __future__ import annotations

from pathlib import Path

from mlyard.entities.endpoints.batch_job import (
    BATCH_JOB_TYPE,
    DEPLOYMENT_TAG,
    ENDPOINT_TAG,
    RESUMED_TAG,
    ResolvedBatchJob,
)
from mlyard.entities.jobs.job import Job, JobStatus
from mlyard.entities.jobs.job_spec import ResolvedInput
from mlyard.errors import Conflict, InvalidArgument, NotFound
from mlyard.services.batch.batch_endpoints import default_deployment, get_deployment, get_endpoint
from mlyard.services.data_assets.data import get_data_asset
from mlyard.services.execution import job_runs
from mlyard.services.submission.references import Submission, queue_submission, resolve_asset_path
from mlyard.services.tracking.jobs import get_job, search_jobs
from mlyard.services.workspaces.workspace import Workspace

INPUT_TYPES = ("uri_file", "uri_folder", "mltable")
MLTABLE_FILE = "MLTable"


def submit_batch_job(
    workspace: Workspace,
    endpoint: str,
    input: str | None,
    base_dir: Path,
    deployment: str | None = None,
    input_type: str | None = None,
    resume: str | None = None,
    dispatch: str | None = None,
) -> Job:
    """Check everything, then record a Queued batch job; a runner scores it (runtime/batch_runner)."""
    if resume is not None:
        submission = resume_submission(workspace, endpoint, resume)
    else:
        submission = batch_submission(workspace, endpoint, input, base_dir, deployment, input_type)
    return queue_submission(workspace, submission, dispatch=dispatch)


def batch_submission(
    workspace: Workspace,
    endpoint: str,
    input: str | None,
    base_dir: Path,
    deployment: str | None = None,
    input_type: str | None = None,
) -> Submission:
    get_endpoint(workspace, endpoint)
    chosen = (
        get_deployment(workspace, endpoint, deployment)
        if deployment
        else default_deployment(workspace, endpoint)
    )
    if input is None or not str(input).strip():
        raise InvalidArgument(
            "--input: give a data asset (name:version, name@latest), a folder or a file to score"
        )
    resolved = resolve_batch_input(workspace, str(input), base_dir, input_type)
    check_has_items(workspace, resolved, str(input).strip())
    settings = chosen.settings
    unit, limit = settings.batch_limit()
    job = ResolvedBatchJob(
        endpoint=endpoint, deployment=chosen.name, input=resolved,
        model=ResolvedInput(type="custom_model", source="model", name=chosen.model_name,
                            version=chosen.model_version),
        scoring_script=chosen.scoring_script, code=None, code_hash=chosen.code_hash,
        code_artifact=chosen.code_artifact, environment=chosen.environment,
        environment_ref=chosen.environment_ref, compute=chosen.compute, instance_count=chosen.instance_count,
        max_concurrency_per_instance=settings.max_concurrency_per_instance,
        batch_unit=unit, batch_limit=limit,
        output_action=settings.output_action, output_file_name=settings.output_file_name,
        max_retries=settings.retry_settings.max_retries, timeout_seconds=settings.retry_settings.timeout,
        error_threshold=settings.error_threshold, logging_level=settings.logging_level,
        environment_variables=dict(settings.environment_variables),
    )  # fmt: skip
    tags = {ENDPOINT_TAG: endpoint, DEPLOYMENT_TAG: chosen.name}
    return Submission(
        BATCH_JOB_TYPE, job.model_dump(mode="json"), endpoint, f"{endpoint}/{chosen.name}", tags
    )


def resolve_batch_input(
    workspace: Workspace, text: str, base_dir: Path, input_type: str | None
) -> ResolvedInput:
    """The input pinned: an asset's version, or an existing local path of a fitting type."""
    if input_type is not None and input_type not in INPUT_TYPES:
        raise InvalidArgument(f"--input-type: expected {', '.join(INPUT_TYPES)}, got {input_type!r}")
    given = text.strip()
    local = Path(given).expanduser()
    local = local if local.is_absolute() else base_dir / local
    try:
        kind = input_type or (_local_type(local) if local.exists() else _asset_type(workspace, given))
        return resolve_asset_path(workspace, kind, given, base_dir, "--input")
    except NotFound:
        if not local.exists() and not any(mark in given for mark in (":", "@")):
            raise NotFound(
                f"--input: {given} is neither a file or folder (looked for {local}) nor a data asset; "
                "list data assets with: mlyard data list"
            ) from None
        raise


def check_has_items(workspace: Workspace, given: ResolvedInput, shown: str) -> None:
    """InvalidArgument when the input has nothing to score (an empty file, a table without rows,
    a folder without files): refused at invoke, not found out by the job later."""
    empty = f"--input: {shown} has nothing to score"
    if given.source == "data" and given.name and given.version:
        from mlyard.services.data_assets.data import get_data_asset

        asset = get_data_asset(workspace, f"{given.name}:{given.version}")
        if asset.row_count == 0 or asset.size_bytes == 0 or asset.file_count == 0:
            raise InvalidArgument(f"{empty}: data asset {asset.ref} is empty or has no rows")
        return
    if given.source == "local" and given.path is not None:
        check_local_has_items(Path(given.path), given.type, shown)
    # a job output: the job that wrote it checked it


def check_local_has_items(path: Path, input_type: str, shown: str) -> None:
    """The local part of `check_has_items` (a remote client runs it before uploading, since an
    empty folder cannot be uploaded)."""
    empty = f"--input: {shown} has nothing to score"
    if path.is_dir():
        if input_type == "uri_folder" and not any(
            f.is_file() for f in path.rglob("*") if not f.name.startswith(".")
        ):
            raise InvalidArgument(f"{empty}: the folder holds no files")
        return
    if path.stat().st_size == 0:
        raise InvalidArgument(f"{empty}: the file is empty")
    if _table_rows_at_most_zero(path):
        raise InvalidArgument(f"{empty}: the table has a header but no rows")


def _table_rows_at_most_zero(path: Path) -> bool:
    """Whether a table file has no data rows; reads only its first lines (or a parquet footer)."""
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        try:
            return bool(pq.ParquetFile(path).metadata.num_rows == 0)
        except Exception:  # noqa: BLE001 - not readable as parquet: the job reports how
            return False
    if suffix not in (".csv", ".tsv", ".jsonl"):
        return False
    needed = 1 if suffix == ".jsonl" else 2  # a header line and one row
    with open(path, "rb") as file:
        lines = 0
        for line in file:
            lines += bool(line.strip())
            if lines >= needed:
                return False
    return True


def _local_type(path: Path) -> str:
    if path.is_file():
        return "uri_file"
    return "mltable" if (path / MLTABLE_FILE).is_file() else "uri_folder"


def _asset_type(workspace: Workspace, text: str) -> str:
    """The type of the data asset `text` names (uri_folder for a job output)."""
    if text.startswith("azureml://"):
        return "uri_folder"
    try:
        asset = get_data_asset(workspace, text)
    except InvalidArgument:
        raise NotFound(
            f"--input: {text} is neither a local file or folder nor a data asset reference (name:version)"
        ) from None
    except NotFound as exc:
        raise NotFound(f"--input: {exc.message}") from None
    return str(asset.type.value if hasattr(asset.type, "value") else asset.type)


def resume_submission(workspace: Workspace, endpoint: str, job_id: str) -> Submission:
    """A new batch job with the spec of `job_id`, keeping what that job finished."""
    get_endpoint(workspace, endpoint)
    old = get_job(workspace, job_id)
    if old.type != BATCH_JOB_TYPE or old.tags.get(ENDPOINT_TAG) != endpoint:
        raise InvalidArgument(f"--resume: job {job_id} is not a batch job of endpoint {endpoint!r}")
    if not old.status.is_terminal:
        job_runs.reap_lost_jobs(workspace)  # a runner killed outright leaves its job Running until seen
        old = get_job(workspace, job_id)
    if not old.status.is_terminal:
        raise Conflict(
            f"--resume: job {job_id} is still {old.status.value}; wait for it, or cancel it first: "
            f"mlyard job cancel {job_id}"
        )
    if old.status == JobStatus.COMPLETED:
        raise Conflict(f"--resume: job {job_id} completed; there is nothing left to score")
    spec = job_runs.get_spec(workspace, job_id)
    spec["resume_from"] = job_id
    job = ResolvedBatchJob.model_validate(spec)
    tags = {ENDPOINT_TAG: endpoint, DEPLOYMENT_TAG: job.deployment, RESUMED_TAG: job_id}
    return Submission(BATCH_JOB_TYPE, job.model_dump(mode="json"), old.experiment, old.display_name, tags)


def list_batch_jobs(workspace: Workspace, endpoint: str, deployment: str | None = None) -> list[Job]:
    """The batch jobs of an endpoint (or one of its deployments), newest first."""
    get_endpoint(workspace, endpoint)
    clauses = f"tags.`{ENDPOINT_TAG}` = '{_quoted(endpoint)}'"
    if deployment is not None:
        get_deployment(workspace, endpoint, deployment)
        clauses += f" and tags.`{DEPLOYMENT_TAG}` = '{_quoted(deployment)}'"
    return search_jobs(workspace, clauses, max_results=1000)


def _quoted(text: str) -> str:
    if "'" in text or "`" in text:
        raise InvalidArgument(f"invalid name {text!r}")
    return text
