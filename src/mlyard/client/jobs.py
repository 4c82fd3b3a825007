"""`client.jobs`: find and read jobs (run records), their metric history and artifacts."""

from __future__ import annotations

import builtins
import os
from collections.abc import Sequence
from pathlib import Path

from mlyard.artifacts import ArtifactInfo
from mlyard.client.run import flush_pending
from mlyard.entities.job import Job, Metric
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
    ) -> builtins.list[Job]:
        """Jobs matching e.g. `metrics.mse < 3000 and params.alpha > 0.1`, ordered by e.g.
        `["metrics.mse ASC"]` (newest first by default)."""
        flush_pending()
        return job_service.search_jobs(self._workspace, filter, order_by, experiments, max_results)

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
    ) -> Path:
        return job_artifacts.download_job_artifacts(
            self._workspace, job_id, Path(download_path), artifact_path
        )
