"""`client.jobs`: tracked runs and submitted jobs — read, search, log to, submit, follow, cancel.

`JobOperations` is the interface; `LocalJobOperations` works on a workspace's files through
`services/`, `client.remote.jobs.RemoteJobOperations` on a team server through its REST API. The
same tests run against both.
"""

from __future__ import annotations

import builtins
import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mlyard.artifacts import ArtifactInfo
from mlyard.client.run_buffer import flush_pending
from mlyard.entities.jobs.job import (
    ENV_JOB_ID,
    CodeSnapshot,
    DataInput,
    Job,
    JobOutputInfo,
    JobStatus,
    Metric,
    RuntimeInfo,
)
from mlyard.services.execution.job_outputs import download_job
from mlyard.services.tracking import job_artifacts
from mlyard.services.tracking import jobs as job_service
from mlyard.services.workspaces.workspace import Workspace

LogWriter = Callable[[str], None]


class JobOperations(ABC):
    """Jobs of one workspace: tracked runs (what `mlyard.log_metric` writes) and submitted jobs."""

    # --- reading -------------------------------------------------------------------------------

    @abstractmethod
    def get(self, job_id: str) -> Job:
        """The job with its params, latest metrics, tags, inputs, code snapshot; NotFound if none."""

    def list(self, experiment: str | None = None, max_results: int = 100) -> builtins.list[Job]:
        """Newest first."""
        return self.search(experiments=[experiment] if experiment else None, max_results=max_results)

    @abstractmethod
    def search(
        self,
        filter: str | None = None,
        order_by: Sequence[str] | str | None = None,
        experiments: Sequence[str] | str | None = None,
        max_results: int = 1000,
        parent_job_name: str | None = None,
    ) -> builtins.list[Job]:
        """Jobs matching e.g. `metrics.mse < 3000 and params.alpha > 0.1`, ordered by e.g.
        `["metrics.mse ASC"]` (newest first by default); only the children of
        `parent_job_name` when given (`""` for top-level jobs only)."""

    @abstractmethod
    def metric_history(self, job_id: str, key: str) -> builtins.list[Metric]:
        """Every point of metric `key`, in step then time order."""

    @abstractmethod
    def experiments(self) -> builtins.list[tuple[str, int]]:
        """(experiment name, job count), newest experiment first."""

    @abstractmethod
    def list_artifacts(self, job_id: str) -> builtins.list[ArtifactInfo]:
        """The files a job logged (`log_artifact`, `log_dict`, …), recursively."""

    @abstractmethod
    def download(
        self,
        job_id: str,
        download_path: str | os.PathLike[str] = ".",
        artifact_path: str | None = None,
        output_name: str | None = None,
    ) -> Path:
        """A job's `logs/`, `outputs/` and `artifacts/` into `download_path`; or one output
        (`output_name`), or one artifact file or folder (`artifact_path`)."""

    @abstractmethod
    def outputs(self, job_id: str) -> builtins.list[JobOutputInfo]:
        """The outputs a submitted job stored (and the asset each was registered as)."""

    @abstractmethod
    def children(self, job_id: str) -> builtins.list[Job]:
        """A pipeline's steps, a sweep's trials or a parallel job's mini-batches, oldest first."""

    # --- tracked runs: what the active-run API writes (like MlflowClient's calls) --------------

    @abstractmethod
    def create_run(
        self,
        experiment: str | None = None,
        display_name: str | None = None,
        tags: dict[str, Any] | None = None,
        parent_job_id: str | None = None,
        code: CodeSnapshot | None = None,
        runtime: RuntimeInfo | None = None,
    ) -> Job:
        """Start a tracked run (Running until `end_run`); most code uses `mlyard.start_run`."""

    @abstractmethod
    def log_batch(
        self,
        job_id: str,
        params: dict[str, str] | None = None,
        metrics: Sequence[Metric] = (),
        tags: dict[str, str] | None = None,
    ) -> None:
        """Write params, metric points and tags in one transaction: all or nothing."""

    @abstractmethod
    def end_run(
        self,
        job_id: str,
        status: JobStatus = JobStatus.COMPLETED,
        error: str | None = None,
        params: dict[str, str] | None = None,
        metrics: Sequence[Metric] = (),
        tags: dict[str, str] | None = None,
    ) -> None:
        """Write the run's last data and end it, in one transaction; ending twice is a Conflict."""

    @abstractmethod
    def delete_tag(self, job_id: str, key: str) -> None:
        """Remove one tag; NotFound if the job has no such tag."""

    @abstractmethod
    def log_artifact(self, job_id: str, local_path: Path, artifact_path: str | None = None) -> str:
        """Store a file (or a folder, recursively) as an artifact of the job; returns its path."""

    @abstractmethod
    def log_artifacts(self, job_id: str, local_dir: Path, artifact_path: str | None = None) -> str:
        """Store the contents of a folder (not the folder itself) under `artifact_path`."""

    @abstractmethod
    def log_bytes(self, job_id: str, data: bytes, artifact_file: str) -> str:
        """Store `data` as the artifact file `artifact_file` of the job."""

    @abstractmethod
    def log_input(self, job_id: str, kind: str, name: str, version: str) -> None:
        """Record that the job read data asset (`kind="data"`) or model `name:version`."""

    # --- submitted jobs ------------------------------------------------------------------------

    def create(
        self,
        source: str | os.PathLike[str] | Any,
        overrides: dict[str, str] | None = None,
        experiment: str | None = None,
        display_name: str | None = None,
        wait: bool = False,
    ) -> Job:
        """Submit a job YAML (`command`, `pipeline`, `sweep`, `parallel`) or a DSL pipeline/command.

        Returns the queued job at once, or with `wait=True` the ended job (raising
        `JobNotCompleted` when it failed or was canceled). `overrides` are Azure ML's `--set`
        pairs (`inputs.alpha=0.3`).
        """
        from mlyard.runtime.function_runner import refuse_submission_during_import

        refuse_submission_during_import()
        if hasattr(source, "to_spec"):  # a pipeline or component call built with the Python DSL
            job = self._submit_spec(
                dict(source.to_spec()), Path.cwd(), "job", overrides, experiment, display_name
            )
        else:
            from mlyard.entities.specs.spec_files import load_yaml

            path = Path(source)
            data = load_yaml(path)
            job = self._submit_spec(
                data, path.resolve().parent, str(path), overrides, experiment, display_name
            )
        return self.wait(job.id) if wait else job

    @abstractmethod
    def _submit_spec(
        self,
        data: dict[str, Any],
        base_dir: Path,
        source: str,
        overrides: dict[str, str] | None,
        experiment: str | None,
        display_name: str | None,
    ) -> Job:
        """Check, record and start a job given as the mapping its YAML holds."""

    @abstractmethod
    def stream(self, job_id: str, write: LogWriter | None = None) -> Job:
        """Print the job's log as it grows (or pass it to `write`) until it ends; returns the job."""

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        """Block until the job ends; `JobNotCompleted` unless it Completed."""
        from mlyard.runtime.streaming import require_completed

        return require_completed(self._follow(job_id, None, timeout))

    @abstractmethod
    def _follow(self, job_id: str, write: LogWriter | None, timeout: float | None) -> Job:
        """Wait for the job to end, passing new log text to `write`."""

    @abstractmethod
    def cancel(self, job_id: str) -> JobStatus:
        """Stop a job (and its child jobs): SIGTERM, then SIGKILL; it ends Canceled."""

    @abstractmethod
    def delete_permanently(self, job_id: str) -> builtins.list[str]:
        """Delete an ended job and the jobs below it for good, rows and files (admins only);
        returns their ids."""

    def reap_lost_runners(self) -> None:  # noqa: B027 - a no-op unless the runners are local
        """Fail the jobs whose runner died (a team server does this by itself)."""


def apply_submission_options(
    data: dict[str, Any],
    source: str,
    overrides: dict[str, str] | None,
    experiment: str | None,
    display_name: str | None,
) -> None:
    """`--set` overrides, then the experiment and display name given beside the spec."""
    from mlyard.entities.specs.overrides import apply_job_overrides

    apply_job_overrides(data, overrides, source)
    if experiment:
        data["experiment_name"] = experiment
    if display_name:
        data["display_name"] = display_name


class LocalJobOperations(JobOperations):
    """Jobs of a workspace this process opens itself (its folder, or its database and store)."""

    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    def get(self, job_id: str) -> Job:
        flush_pending()
        return job_service.get_job(self._workspace, job_id)

    def search(
        self,
        filter: str | None = None,
        order_by: Sequence[str] | str | None = None,
        experiments: Sequence[str] | str | None = None,
        max_results: int = 1000,
        parent_job_name: str | None = None,
    ) -> builtins.list[Job]:
        flush_pending()
        return job_service.search_jobs(
            self._workspace, filter, order_by, experiments, max_results, parent=parent_job_name
        )

    def metric_history(self, job_id: str, key: str) -> builtins.list[Metric]:
        flush_pending()
        return job_service.metric_history(self._workspace, job_id, key)

    def experiments(self) -> builtins.list[tuple[str, int]]:
        return job_service.list_experiments(self._workspace)

    def list_artifacts(self, job_id: str) -> builtins.list[ArtifactInfo]:
        return job_artifacts.list_job_artifacts(self._workspace, job_id)

    def download(
        self,
        job_id: str,
        download_path: str | os.PathLike[str] = ".",
        artifact_path: str | None = None,
        output_name: str | None = None,
    ) -> Path:
        return download_job(self._workspace, job_id, Path(download_path), output_name, artifact_path)

    def outputs(self, job_id: str) -> builtins.list[JobOutputInfo]:
        from mlyard.services.execution.job_runs import job_outputs

        return job_outputs(self._workspace, job_id)

    def children(self, job_id: str) -> builtins.list[Job]:
        from mlyard.services.execution.job_runs import children

        return [self.get(child_id) for child_id, _, _ in children(self._workspace, job_id)]

    def create_run(
        self,
        experiment: str | None = None,
        display_name: str | None = None,
        tags: dict[str, Any] | None = None,
        parent_job_id: str | None = None,
        code: CodeSnapshot | None = None,
        runtime: RuntimeInfo | None = None,
    ) -> Job:
        return job_service.start_job(
            self._workspace, experiment=experiment, display_name=display_name, tags=tags,
            code=code, runtime=runtime, parent_job_id=parent_job_id,
        )  # fmt: skip

    def log_batch(
        self,
        job_id: str,
        params: dict[str, str] | None = None,
        metrics: Sequence[Metric] = (),
        tags: dict[str, str] | None = None,
    ) -> None:
        job_service.record_run_data(self._workspace, job_id, params or {}, metrics, tags or {})

    def end_run(
        self,
        job_id: str,
        status: JobStatus = JobStatus.COMPLETED,
        error: str | None = None,
        params: dict[str, str] | None = None,
        metrics: Sequence[Metric] = (),
        tags: dict[str, str] | None = None,
    ) -> None:
        job_service.end_job(self._workspace, job_id, status, error, params, metrics, tags)

    def delete_tag(self, job_id: str, key: str) -> None:
        job_service.delete_tag(self._workspace, job_id, key)

    def log_artifact(self, job_id: str, local_path: Path, artifact_path: str | None = None) -> str:
        return job_artifacts.log_artifact(self._workspace, job_id, Path(local_path), artifact_path)

    def log_artifacts(self, job_id: str, local_dir: Path, artifact_path: str | None = None) -> str:
        return job_artifacts.log_artifacts(self._workspace, job_id, Path(local_dir), artifact_path)

    def log_bytes(self, job_id: str, data: bytes, artifact_file: str) -> str:
        return job_artifacts.log_bytes(self._workspace, job_id, data, artifact_file)

    def log_input(self, job_id: str, kind: str, name: str, version: str) -> None:
        job_service.record_input(self._workspace, job_id, DataInput(kind=kind, name=name, version=version))

    def _submit_spec(
        self,
        data: dict[str, Any],
        base_dir: Path,
        source: str,
        overrides: dict[str, str] | None,
        experiment: str | None,
        display_name: str | None,
    ) -> Job:
        from mlyard.runtime.runner_process import PendingRunner
        from mlyard.services.submission.dispatch import submit_job_dict

        apply_submission_options(data, source, overrides, experiment, display_name)
        submitted_from = os.environ.get(ENV_JOB_ID)  # set when a job's own process submits
        with PendingRunner(self._workspace.path) as runner:  # starts while the job is checked and recorded
            job = submit_job_dict(self._workspace, data, base_dir, source, submitted_from=submitted_from)
            runner.assign(self._workspace, job.id)
        return job

    def stream(self, job_id: str, write: LogWriter | None = None) -> Job:
        return self._follow(job_id, write or _print_raw, None)

    def _follow(self, job_id: str, write: LogWriter | None, timeout: float | None) -> Job:
        from mlyard.runtime.streaming import follow

        return follow(self._workspace, job_id, write, timeout)

    def cancel(self, job_id: str) -> JobStatus:
        from mlyard.services.execution.job_runs import request_cancel

        return request_cancel(self._workspace, job_id)

    def delete_permanently(self, job_id: str) -> builtins.list[str]:
        from mlyard.services.tracking.job_deletion import delete_job_permanently

        return delete_job_permanently(self._workspace, job_id).job_ids

    def reap_lost_runners(self) -> None:
        from mlyard.services.execution.job_runs import reap_lost_jobs

        reap_lost_jobs(self._workspace)


def print_raw(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


_print_raw = print_raw
