"""Where a monitor run's data is: the files of a window, as local paths the statistics layer reads.

- Production data defaults to what the deployment's data collector wrote,
  `endpoints/<ep>/<dep>/collected/<model_inputs|model_outputs>/YYYY/MM/DD/HH/*.parquet`: only the
  partitions that overlap the window are listed (rows are cut to the window by their `timestamp`
  by the reader). A batch deployment's data is its batch jobs of the window: their inputs and
  their `predictions.csv`.
- A data asset (`name:version`) or a local path, whole.
- Windows: rolling (`lookback_window_size` back from `as_of` less `lookback_window_offset`; the
  size defaults to the monitor's lookback, the schedule's frequency) or fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mlyard.entities.automation.monitor import parse_duration
from mlyard.errors import InvalidArgument
from mlyard.services.workspaces.workspace import Workspace

_PARTITION_FORMATS = {5: ("%Y/%m/%d/%H/%M", timedelta(minutes=1)), 4: ("%Y/%m/%d/%H", timedelta(hours=1)),
                      3: ("%Y/%m/%d", timedelta(days=1))}  # fmt: skip


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    def previous(self) -> Window:
        return Window(self.start - (self.end - self.start), self.start)


def window_of(data_window: dict[str, Any] | None, as_of: datetime, lookback: str) -> Window:
    """The window a signal's `data_window` selects, as of the run's time."""
    given = data_window or {}
    if given.get("window_start") and given.get("window_end"):
        return Window(_utc(given["window_start"]), _utc(given["window_end"]))
    size = parse_duration(given.get("lookback_window_size") or lookback, "data_window.lookback_window_size")
    offset = parse_duration(
        given.get("lookback_window_offset") or "P0D", "data_window.lookback_window_offset"
    )
    end = as_of - offset
    return Window(end - size, end)


def _utc(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def collected_files(
    workspace: Workspace, endpoint: str, deployment: str, context: str, window: Window, cache: Path
) -> list[Path]:
    """The collected Parquet files of `context` whose partition overlaps `window`, as local paths."""
    from mlyard.services.online.endpoint_deployments import collected_root

    root = f"{collected_root(endpoint, deployment)}/{context}"
    artifacts = workspace.artifacts
    if not artifacts.exists(root):
        return []
    found = []
    for info in artifacts.list(root, recursive=True):
        path = info.path
        if info.is_dir or not path.endswith(".parquet") or not _overlaps(path, root, window):
            continue
        local = artifacts.local_path(path)
        if local is None:
            local = cache / path
            if not local.exists():
                artifacts.download(path, local)
        found.append(local)
    return sorted(found)


def _overlaps(path: str, root: str, window: Window) -> bool:
    parts = path[len(root) :].strip("/").split("/")[:-1]
    layout = _PARTITION_FORMATS.get(len(parts))
    if layout is None:
        return True  # an unknown layout: let the rows' timestamps decide
    try:
        start = datetime.strptime("/".join(parts), layout[0]).replace(tzinfo=UTC)
    except ValueError:
        return True
    return start < window.end and start + layout[1] > window.start


def data_path(workspace: Workspace, ref: str) -> Path:
    """A local path to a data asset version's content (`name:version`), or the path given."""
    if ref.startswith("/"):
        return Path(ref)
    from mlyard.services.data_assets.data import get_data_asset, local_path

    return local_path(workspace, get_data_asset(workspace, ref))


def batch_files(
    workspace: Workspace, endpoint: str, deployment: str, context: str, window: Window, cache: Path
) -> list[Path]:
    """A batch deployment's completed jobs of the window: their inputs (`model_inputs`) or their
    `predictions.csv` (`model_outputs`), as local paths."""
    from mlyard.entities.endpoints.batch_job import ResolvedBatchJob
    from mlyard.entities.jobs.job import JobStatus
    from mlyard.services.batch.batch_jobs import list_batch_jobs
    from mlyard.services.execution import job_runs
    from mlyard.services.execution.job_inputs import input_path

    found: list[Path] = []
    for job in list_batch_jobs(workspace, endpoint, deployment):
        ended = job.end_time or job.created_at
        if job.status != JobStatus.COMPLETED or not (window.start <= ended <= window.end):
            continue
        spec = ResolvedBatchJob.model_validate(job_runs.get_spec(workspace, job.id))
        if context == "model_inputs":
            found.append(input_path(workspace, spec.input, cache / job.id / "input"))
            continue
        output = job_runs.job_output(workspace, job.id, spec.output_name)
        target = f"{output.artifact_path}/{spec.output_file_name}"
        local = workspace.artifacts.local_path(target)
        if local is None:
            local = cache / job.id / spec.output_file_name
            workspace.artifacts.download(target, local)
        found.append(local)
    return found


def require_files(files: list[Path], what: str, window: Window) -> list[Path]:
    if not files:
        raise InvalidArgument(
            f"{what}: no data in the window {window.start.isoformat()} – {window.end.isoformat()}"
        )
    return files
