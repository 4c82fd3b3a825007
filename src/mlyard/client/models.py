"""`client.models`: the model registry from Python."""

from __future__ import annotations

import builtins
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlyard.client.run import Run, flush_pending
from mlyard.entities.model import Comparison, Model, ModelLineage, ModelVersion
from mlyard.services import models as model_service
from mlyard.services.workspace import Workspace


class ModelOperations:
    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    def create(
        self,
        name: str,
        path: str | os.PathLike[str],
        type: str = "custom_model",
        version: str | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
        job_id: str | None = None,
    ) -> ModelVersion:
        """Register a model folder or file (`type`: custom_model, mlflow_model or a flavor)."""
        return model_service.register_model_folder(
            self._workspace, name, Path(path), type, version, description, tags, properties, job_id
        )

    def get(self, ref: str) -> ModelVersion:
        """`name:version`, `name@alias` or `name@latest`."""
        return model_service.get_model_version(self._workspace, ref)

    def list(
        self,
        name: str | None = None,
        tags: dict[str, str] | None = None,
        include_archived: bool = False,
    ) -> builtins.list[Model] | builtins.list[ModelVersion]:
        """Models (no name) or the versions of one model, newest first; filter by tags."""
        if name is None:
            return model_service.list_models(self._workspace, tags)
        return model_service.list_model_versions(self._workspace, name, include_archived, tags)

    def set_alias(self, name: str, alias: str, version: str | int) -> str | None:
        """Point `alias` at `version`; returns the version it pointed at before."""
        return model_service.set_alias(self._workspace, name, alias, str(version))

    def delete_alias(self, name: str, alias: str) -> None:
        model_service.delete_alias(self._workspace, name, alias)

    def archive(self, ref: str) -> ModelVersion:
        return model_service.set_archived(self._workspace, ref, True)

    def restore(self, ref: str) -> ModelVersion:
        return model_service.set_archived(self._workspace, ref, False)

    def lineage(self, ref: str) -> ModelLineage:
        flush_pending()
        return model_service.lineage(self._workspace, ref)

    def compare(self, name: str, versions: Sequence[str | int] | None = None) -> builtins.list[ModelLineage]:
        flush_pending()
        return model_service.compare(self._workspace, name, [str(v) for v in versions] if versions else None)

    def is_better(
        self,
        candidate: str | Run,
        than: str = "production",
        metric: str = "mse",
        goal: str = "minimize",
        name: str | None = None,
    ) -> Comparison:
        """Does `candidate` (a run, job id or model reference) beat the model behind `than`?"""
        flush_pending()
        candidate_id = candidate.id if isinstance(candidate, Run) else candidate
        return model_service.is_better(self._workspace, candidate_id, than, metric, goal, name)  # type: ignore[arg-type]

    def load(self, ref: str) -> Any:
        return model_service.load_model(self._workspace, ref)

    def download(self, ref: str, download_path: str | os.PathLike[str] = ".") -> Path:
        return model_service.download_model(self._workspace, ref, Path(download_path))
