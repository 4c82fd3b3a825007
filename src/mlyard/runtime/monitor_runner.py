"""Runs a monitor job (`type: monitor`): `python -m mlyard.monitoring.monitor_run JOB_ID` as a process.

`runtime/` may not import `monitoring/` (layers), so the statistics run in a process of their own,
as batch scoring's workers do: this runner claims the job, pipes the process's lines into the job's
log, stops it when the job is canceled, and records the outcome from its exit code. A breach is
not a failure: the job completes, and the verdicts are in its results.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from mlyard.entities.jobs.job import JobStatus, RunSummary
from mlyard.runtime.child_jobs import CancelWatch, cancel_children
from mlyard.runtime.job_host import LocalJobHost
from mlyard.runtime.job_log import JobLog, LogCallback, RunResult
from mlyard.runtime.run_to_end import run_to_end
from mlyard.services.workspaces.workspace import ENV_WORKSPACE, Workspace

MONITOR_MODULE = "mlyard.monitoring.monitor_run"
TICK_SECONDS = 0.2


def run_monitor_job(
    workspace: Workspace, job_id: str, spec: dict[str, Any], on_log: LogCallback | None = None
) -> RunResult:
    return run_to_end(
        LocalJobHost(workspace), job_id, "monitor",
        lambda log, workdir: MonitorEngine(workspace, job_id, log, workdir), on_log,
    )  # fmt: skip


class MonitorEngine:
    def __init__(self, workspace: Workspace, job_id: str, log: JobLog, workdir: Path) -> None:
        self.workspace, self.job_id, self.log, self.workdir = workspace, job_id, log, workdir
        self.process: subprocess.Popen[bytes] | None = None

    def run(self) -> RunResult:
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, ENV_WORKSPACE: str(self.workspace.path), "PYTHONUNBUFFERED": "1",
               "MLYARD_MONITOR_CACHE": str(self.workdir)}  # fmt: skip
        self.process = subprocess.Popen(
            [sys.executable, "-m", MONITOR_MODULE, self.job_id],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=self.workdir,
        )  # fmt: skip
        pump = threading.Thread(target=self.log.pump, args=(self.process,), daemon=True)
        pump.start()
        watch = CancelWatch(self.workspace, self.job_id)
        while self.process.poll() is None:
            if watch.check():
                self.process.terminate()
                self.process.wait()
                cancel_children(self.workspace, self.job_id)  # a custom signal's component job
                pump.join(timeout=5)
                return RunResult(JobStatus.CANCELED, "canceled by request")
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=TICK_SECONDS)
        pump.join(timeout=30)
        if self.process.returncode == 0:
            return RunResult(JobStatus.COMPLETED)
        last = self.log.tail().strip().splitlines()
        reason = last[-1] if last else f"the monitor process exited with {self.process.returncode}"
        return RunResult(JobStatus.FAILED, reason)

    def close(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:  # the pipe the log was pumped from (a server runs many)
            self.process.stdout.close()

    def summary(self) -> RunSummary | None:
        return None
