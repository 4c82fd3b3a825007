"""A custom signal at run time: its component runs as a child job of the monitor job, and the
table it writes becomes verdicts.

The child is a command job recorded through services (`services/monitors/custom_signals`). In the
team server's queue a worker runs it, as it runs a pipeline's steps; locally the monitor process
starts its runner as a process, `python -m mlyard.runtime.launch CHILD_ID` (monitoring/ may not
import runtime/, as runtime/monitor_runner starts this layer as a process). Then it waits.

Each output row `group, metric_name, metric_value, threshold_value` is one verdict: feature =
`group`, metric = `metric_name`, value = `metric_value`, threshold = the signal's
`metric_thresholds` entry for that metric, else the row's `threshold_value`. Breached when the
value is above the threshold, as Azure's custom signals breach; a row with no threshold either
way (or no value) is recorded and never breached.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlyard.errors import InvalidArgument
from mlyard.services.execution import job_runs
from mlyard.services.monitors.custom_signals import OUTPUT_COLUMNS
from mlyard.services.workspaces.workspace import ENV_WORKSPACE, Workspace

if TYPE_CHECKING:
    import pyarrow as pa

RUNNER_MODULE = "mlyard.runtime.launch"
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class CustomVerdict:
    feature: str
    metric: str
    value: float | None
    threshold: float | None
    breached: bool


def run_child(workspace: Workspace, child_id: str, local: bool, log_file: Path) -> None:
    """Run (locally) or wait for (queued) the child job to its end; raise its failure as the
    signal's error."""
    process: subprocess.Popen[bytes] | None = None
    if local:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k != "MLYARD_MONITOR_CACHE"}
        env[ENV_WORKSPACE] = str(workspace.path)
        with open(log_file, "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", RUNNER_MODULE, child_id],
                env=env, stdout=log, stderr=subprocess.STDOUT, close_fds=True,
            )  # fmt: skip
        job_runs.note_runner(workspace, child_id, process.pid)
    try:
        status = job_runs.status_of(workspace, child_id)
        while not status.is_terminal:
            if process is not None and process.poll() is not None:
                status = job_runs.status_of(workspace, child_id)
                if not status.is_terminal:
                    raise InvalidArgument(
                        f"the runner of child job {child_id} exited with {process.returncode} "
                        f"before the job ended (its output: {log_file})"
                    )
                break
            time.sleep(POLL_SECONDS)
            status = job_runs.status_of(workspace, child_id)
    finally:
        if process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
    if status.value != "Completed":
        from mlyard.services.tracking.jobs import get_job

        error = (get_job(workspace, child_id).error or "").strip().splitlines()
        reason = f": {error[-1]}" if error else ""
        raise InvalidArgument(f"the component's child job {child_id} ended {status.value}{reason}")


def verdicts(table: pa.Table, thresholds: dict[str, float], where: str) -> list[CustomVerdict]:
    """The rows of a custom signal's output table as verdicts (see the module's docstring)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    missing = [c for c in OUTPUT_COLUMNS if c not in table.column_names and c != "threshold_value"]
    if missing:
        raise InvalidArgument(
            f"{where}: the output table has no column {', '.join(map(repr, missing))} "
            f"(its columns: {', '.join(table.column_names)}; expected {', '.join(OUTPUT_COLUMNS)})"
        )
    if table.num_rows == 0:
        raise InvalidArgument(f"{where}: the output table has no rows")
    try:
        values = pc.cast(table.column("metric_value"), pa.float64()).to_pylist()
        given = (
            pc.cast(table.column("threshold_value"), pa.float64()).to_pylist()
            if "threshold_value" in table.column_names else [None] * table.num_rows
        )  # fmt: skip
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InvalidArgument(f"{where}: metric_value and threshold_value must be numbers: {exc}") from None
    groups = table.column("group").to_pylist()
    metrics = table.column("metric_name").to_pylist()
    found = []
    for group, metric, value, row_threshold in zip(groups, metrics, values, given, strict=True):
        if metric is None or metric == "":
            raise InvalidArgument(f"{where}: a row has no metric_name")
        threshold = thresholds.get(str(metric), row_threshold)
        breached = value is not None and threshold is not None and value > threshold
        found.append(
            CustomVerdict("" if group is None else str(group), str(metric), value, threshold, breached)
        )
    return found
