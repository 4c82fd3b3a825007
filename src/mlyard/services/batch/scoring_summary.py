"""What a batch scoring job produced, for the scoring dashboard: rows scored and failed (the metrics
the batch runner logs), its result line, and a summary of its predictions file — per column the
count, and mean / min / max for numbers or the most frequent values for labels."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from mlyard.entities.endpoints.batch_endpoint import DEFAULT_OUTPUT_FILE as DEFAULT_FILE
from mlyard.entities.endpoints.batch_job import ENDPOINT_TAG, RESULT_TAG
from mlyard.entities.jobs.job import Job
from mlyard.errors import Conflict
from mlyard.services.batch.batch_endpoints import list_endpoints
from mlyard.services.batch.batch_jobs import list_batch_jobs
from mlyard.services.execution import job_runs
from mlyard.services.workspaces.workspace import Workspace

MAX_SUMMARISED_BYTES = 64 * 1024 * 1024  # a bigger file is named, not read
TOP_VALUES = 3


@dataclass
class ColumnSummary:
    name: str
    count: int
    mean: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    top: list[tuple[str, int]] = field(default_factory=list)  # labels: value, count


@dataclass
class ScoringRun:
    """One batch job as the dashboard shows it."""

    job: Job
    endpoint: str
    rows_scored: int | None
    rows_failed: int | None
    result: str | None
    predictions: str | None  # where the predictions file is (artifact path), if any
    columns: list[ColumnSummary] = field(default_factory=list)
    note: str | None = None  # why there is no summary


def scoring_runs(workspace: Workspace, limit: int = 50) -> list[ScoringRun]:
    """The latest batch jobs of every batch endpoint, newest first, each with its summary."""
    found = [job for point in list_endpoints(workspace) for job in list_batch_jobs(workspace, point.name)]
    found.sort(key=lambda job: job.created_at, reverse=True)
    return [summarise(workspace, job) for job in found[:limit]]


def summarise(workspace: Workspace, job: Job) -> ScoringRun:
    scored, failed = job.metrics.get("batch.items_scored"), job.metrics.get("batch.items_failed")
    run = ScoringRun(
        job, job.tags.get(ENDPOINT_TAG, ""), None if scored is None else int(scored),
        None if failed is None else int(failed), job.tags.get(RESULT_TAG), None,
    )  # fmt: skip
    try:
        file_name = str(job_runs.get_spec(workspace, job.id).get("output_file_name") or DEFAULT_FILE)
    except Conflict:  # no spec kept: the default name
        file_name = DEFAULT_FILE
    for output in job_runs.job_outputs(workspace, job.id):
        path = f"{output.artifact_path}/{file_name}"
        if workspace.artifacts.exists(path):
            run.predictions = path
            _summarise_file(workspace, path, run)
            break
    else:
        run.note = "no predictions file yet" if not job.status.is_terminal else "no predictions file"
    return run


def _summarise_file(workspace: Workspace, path: str, run: ScoringRun) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pa_csv

    size = workspace.artifacts.size(path)
    if size > MAX_SUMMARISED_BYTES:
        run.note = f"{size // (1024 * 1024)} MB: too large to summarise here"
        return
    try:
        source: Any = pa.BufferReader(workspace.artifacts.get_bytes(path))
        table = pa_csv.read_csv(source)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        run.note = f"not a readable CSV file: {exc}"
        return
    for name in table.column_names:
        if name == "row":  # the input row numbers of a partial run, not a prediction
            continue
        column = table.column(name)
        summary = ColumnSummary(name, len(column) - column.null_count)
        if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
            if summary.count:
                summary.mean = float(pc.mean(column).as_py())
                extremes: Any = pc.min_max(column).as_py()
                summary.minimum, summary.maximum = float(extremes["min"]), float(extremes["max"])
        else:
            labels = Counter(str(value) for value in column.to_pylist() if value is not None)
            summary.top = labels.most_common(TOP_VALUES)
        run.columns.append(summary)
