"""`client.jobs`: find and read jobs (run records), their metric history and artifacts."""

from __future__ import annotations

import builtins
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mlyard.artifacts import ArtifactInfo
from mlyard.client.run import flush_pending
from mlyard.entities.job import Job, JobOutputInfo, JobStatus, Metric
from mlyard.services import job_artifacts
from mlyard.services import jobs as job_service
from mlyard.services.workspace import Workspace


class JobOperations:
    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    def get(self, job_id: str) -> Job:
        flush_pending()
        return job_service.get_job(self._workspace, job_id)

    def list(self, experiment: str | None = None, max_results: int = 100) -> builtins.list[Job]:
        """Newest first."""
        return self.search(experiments=[experiment] if experiment else None, max_results=max_results)

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
        `parent_job_name` when given."""
        flush_pending()
        return job_service.search_jobs(
            self._workspace, filter, order_by, experiments, max_results, parent=parent_job_name
        )

    def metric_history(self, job_id: str, key: str) -> builtins.list[Metric]:
        flush_pending()
        return job_service.metric_history(self._workspace, job_id, key)

    def experiments(self) -> builtins.list[tuple[str, int]]:
        """(experiment name, job count), newest experiment first."""
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
        """A job's `logs/`, `outputs/` and `artifacts/` into `download_path`; or one output
        (`output_name`), or one artifact file or folder (`artifact_path`)."""
        return job_artifacts.download_job(
            self._workspace, job_id, Path(download_path), output_name, artifact_path
        )

    # --- submitted jobs ------------------------------------------------------------------------

    def create(
        self,
        source: str | os.PathLike[str] | Any,
        overrides: dict[str, str] | None = None,
        experiment: str | None = None,
        display_name: str | None = None,
        wait: bool = False,
    ) -> Job:
        """Submit a job YAML (`command`, `pipeline`, `sweep`, `parallel`) and start its runner.

        Returns the queued job at once, or with `wait=True` the ended job (raising
        `JobNotCompleted` when it failed or was canceled).
        """
        from mlyard.runtime.runner_process import PendingRunner
        from mlyard.services.job_submission import apply_override, submit_job_dict, submit_job_file

        with PendingRunner(self._workspace.path) as runner:  # starts while the job is checked and recorded
            if hasattr(source, "to_spec"):  # a pipeline or component call built with the Python DSL
                data = dict(source.to_spec())
                for key, value in (overrides or {}).items():
                    apply_override(data, key, value, "job")
                named = (("experiment_name", experiment), ("display_name", display_name))
                data.update({key: value for key, value in named if value})
                job = submit_job_dict(self._workspace, data, Path.cwd(), data.get("display_name") or "job")
            else:
                job = submit_job_file(self._workspace, Path(source), overrides, experiment, display_name)
            runner.assign(self._workspace, job.id)
        return self.wait(job.id) if wait else job

    def stream(self, job_id: str, write: Callable[[str], None] | None = None) -> Job:
        """Print the job's log as it grows (or pass it to `write`) until it ends; returns the job."""
        from mlyard.runtime.streaming import follow

        return follow(self._workspace, job_id, write or _print_raw)

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        """Block until the job ends; `JobNotCompleted` unless it Completed."""
        from mlyard.runtime.streaming import follow, require_completed

        return require_completed(follow(self._workspace, job_id, None, timeout))

    def cancel(self, job_id: str) -> JobStatus:
        """Stop a job (and its child jobs): SIGTERM, then SIGKILL; it ends Canceled."""
        from mlyard.services.job_runs import request_cancel

        return request_cancel(self._workspace, job_id)

    def outputs(self, job_id: str) -> builtins.list[JobOutputInfo]:
        from mlyard.services.job_runs import job_outputs

        return job_outputs(self._workspace, job_id)

    def children(self, job_id: str) -> builtins.list[Job]:
        """A pipeline's steps or a sweep's trials, oldest first."""
        from mlyard.services.job_runs import children

        return [self.get(child_id) for child_id, _, _ in children(self._workspace, job_id)]


def _print_raw(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()
