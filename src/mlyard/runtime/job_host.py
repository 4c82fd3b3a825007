"""What the command runner needs from the place a job is recorded: a workspace, or a team server.

The runner starts the process, streams its log, watches for cancels and timeouts; everything it
reads or writes about the job goes through a `JobHost`. `LocalJobHost` is a workspace this
process opens (a detached runner, a Ray task, the team server's own worker); a worker on another
machine uses `client.remote.worker_host.RemoteJobHost`, which makes the same calls over HTTP.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from mlyard.entities.jobs.job import DataInput, JobOutputInfo, JobStatus, RunSummary
from mlyard.entities.jobs.job_spec import JobOutput, ResolvedInput
from mlyard.runtime.mlflow_tracking import MlflowTarget, workspace_target
from mlyard.services.execution import job_runs
from mlyard.services.tracking.jobs import end_job, record_input
from mlyard.services.workspaces.workspace import ENV_WORKSPACE, Workspace


class JobHost(Protocol):
    guards_processes: bool
    """The job's process must die with this host's process (a worker's job), see process_guard."""
    heartbeat_seconds: float
    """How often the runner says the job is alive (`check(..., heartbeat=True)`)."""

    def describe(self) -> dict[str, Any] | None:
        """What a Ray task needs to rebuild this host on another node; None: it cannot be sent."""

    def claim(self, job_id: str) -> None:
        """Take the queued job to run it here; Conflict when another runner has it."""

    def check(self, job_id: str, heartbeat: bool) -> JobStatus:
        """The job's status (a cancel shows as CancelRequested), saying the runner is alive when
        `heartbeat`; a runner that lost the job (its lease expired) sees Canceled."""

    def set_code(self, job_id: str, code: dict[str, Any]) -> None: ...

    def record_input(self, job_id: str, edge: DataInput) -> None: ...

    def input_path(self, given: ResolvedInput, cache: Path) -> Path:
        """A local path to an asset input's content."""

    def code_folder(self, artifact_path: str, digest: str, cache: Path) -> Path:
        """A local folder with the job's stored code."""

    def store_output(self, job_id: str, name: str, output: JobOutput, written: Path) -> JobOutputInfo:
        """Store (and register, if the output names an asset) what the job wrote for `name`."""

    def sync_log(self, job_id: str, local_log: Path) -> None:
        """Make the stored log equal the local log file (which only grows)."""

    def end(
        self, job_id: str, status: JobStatus, error: str | None, summary: RunSummary | None = None
    ) -> None:
        """Record the outcome (with `summary`'s params, metrics and tags, in the same write);
        Conflict when the job already ended (canceled before it was claimed)."""

    def process_environment(self, job_id: str) -> dict[str, str]:
        """Variables that let `mlyard.log_metric` inside the job write to it."""

    def build_log_workspace(self) -> Workspace | None:
        """Where environment build logs are stored (None: they stay beside the venv)."""

    def mlflow_target(self) -> MlflowTarget:
        """The MLflow API through which `mlflow.log_*` inside the job write to it (see
        runtime/mlflow_tracking.py); asked only for a job whose interpreter has mlflow."""


class LocalJobHost:
    """A job recorded in a workspace this process opens."""

    guards_processes = False  # a detached runner's job outlives the submitting terminal by design

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.heartbeat_seconds = job_runs.HEARTBEAT_SECONDS

    def describe(self) -> dict[str, Any] | None:
        return None  # a local runner runs here; workers that claim from the queue can be sent

    def claim(self, job_id: str) -> None:
        job_runs.claim(self.workspace, job_id)

    def check(self, job_id: str, heartbeat: bool) -> JobStatus:
        if heartbeat:
            return job_runs.heartbeat(self.workspace, job_id)
        return job_runs.status_of(self.workspace, job_id)

    def set_code(self, job_id: str, code: dict[str, Any]) -> None:
        job_runs.set_code(self.workspace, job_id, code)

    def record_input(self, job_id: str, edge: DataInput) -> None:
        record_input(self.workspace, job_id, edge)

    def input_path(self, given: ResolvedInput, cache: Path) -> Path:
        from mlyard.services.execution.job_inputs import input_path

        return input_path(self.workspace, given, cache)

    def code_folder(self, artifact_path: str, digest: str, cache: Path) -> Path:
        from mlyard.services.assets.code_snapshots import code_folder

        return code_folder(self.workspace, artifact_path, digest, cache)

    def store_output(self, job_id: str, name: str, output: JobOutput, written: Path) -> JobOutputInfo:
        from mlyard.services.execution.job_outputs import store_output

        return store_output(self.workspace, job_id, name, output, written)

    def sync_log(self, job_id: str, local_log: Path) -> None:
        self.workspace.artifacts.put_file(local_log, job_runs.log_path(job_id))

    def end(
        self, job_id: str, status: JobStatus, error: str | None, summary: RunSummary | None = None
    ) -> None:
        summary = summary or RunSummary()
        end_job(self.workspace, job_id, status, error, summary.params, summary.metrics, summary.tags)

    def process_environment(self, job_id: str) -> dict[str, str]:
        return {ENV_WORKSPACE: str(self.workspace.path)}

    def build_log_workspace(self) -> Workspace | None:
        return self.workspace

    def mlflow_target(self) -> MlflowTarget:
        return workspace_target(self.workspace)


def as_host(place: Workspace | JobHost) -> JobHost:
    return LocalJobHost(place) if isinstance(place, Workspace) else place
