"""`client.models`: the model registry from Python — versions, aliases, lineage, gated promotion."""

from __future__ import annotations

import builtins
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlyard.client.run_buffer import flush_pending
from mlyard.entities.governance.validation import CheckRecord, CheckReport
from mlyard.entities.registry.asset_specs import ModelSpec, load_model_spec, with_overrides
from mlyard.entities.registry.model import Comparison, Model, ModelLineage, ModelRegistration, ModelVersion
from mlyard.entities.registry.promotion import PromotionRequest
from mlyard.services.model_registry import check_reports, model_comparison, promotions
from mlyard.services.model_registry import models as model_service
from mlyard.services.workspaces.workspace import Workspace


class ModelOperations(ABC):
    @abstractmethod
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
    ) -> ModelRegistration:
        """Register a model folder or file (`type`: custom_model, mlflow_model or a flavor);
        identical content and lineage return the existing version (`created` is False then)."""

    def create_or_update(
        self,
        model: str | os.PathLike[str] | ModelSpec,
        name: str | None = None,
        version: str | None = None,
        overrides: dict[str, str] | None = None,
    ) -> ModelRegistration:
        """Register the model YAML `model` (Azure ML's: name, version, type, path, description,
        tags, properties) or a `ModelSpec`; its `path` is relative to the YAML (to the current
        folder for a spec). `name`, `version` and `overrides` (`--set` pairs) win over the file."""
        if isinstance(model, ModelSpec):
            spec = with_overrides(model, overrides, name=name, version=version)
            base_dir, source = Path.cwd(), "model"
        else:
            source = str(model)
            spec = load_model_spec(Path(model), overrides, name=name, version=version)
            base_dir = Path(model).parent
        return self.create(
            spec.name, spec.local_path(base_dir, source), spec.type, spec.version,
            spec.description, spec.tags, spec.properties,
        )  # fmt: skip

    def log(
        self,
        model: Any,
        name: str,
        flavor: str,
        input_example: Any = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
        job_id: str | None = None,
    ) -> ModelRegistration:
        """Save a model object with its flavor (signature from `input_example`) and register it."""
        with tempfile.TemporaryDirectory(prefix="mlyard-model-") as staging:
            folder = Path(staging) / name
            folder.mkdir()
            model_service.save_model_folder(model, folder, flavor, input_example)
            return self.create(name, folder, flavor, None, description, tags, properties, job_id)

    @abstractmethod
    def get(self, ref: str) -> ModelVersion:
        """`name:version`, `name@alias` or `name@latest`."""

    @abstractmethod
    def list(
        self,
        name: str | None = None,
        tags: dict[str, str] | None = None,
        include_archived: bool = False,
    ) -> builtins.list[Model] | builtins.list[ModelVersion]:
        """Models (no name) or the versions of one model, newest first; filter by tags."""

    @abstractmethod
    def aliases(self, name: str) -> dict[str, str]:
        """Alias → version of one model."""

    @abstractmethod
    def set_alias(self, name: str, alias: str, version: str | int) -> str | None:
        """Point `alias` at `version`; returns the version it pointed at before.

        A protected alias (default `production`) moves only through `promote` + `approve` when
        working through a team server."""

    @abstractmethod
    def delete_alias(self, name: str, alias: str) -> None: ...

    @abstractmethod
    def share(
        self,
        name: str,
        version: str | int,
        registry_name: str,
        share_with_name: str | None = None,
        share_with_version: str | int | None = None,
    ) -> ModelRegistration:
        """Copy a version (files, metadata, lineage) into a registry, as azure-ai-ml's
        `ml_client.models.share`; identical content returns the registry's existing version."""

    @abstractmethod
    def archive(self, ref: str) -> ModelVersion: ...

    @abstractmethod
    def restore(self, ref: str) -> ModelVersion: ...

    @abstractmethod
    def lineage(self, ref: str) -> ModelLineage:
        """The job that produced the version, its params and metrics, and the data it read."""

    @abstractmethod
    def compare(self, name: str, versions: Sequence[str | int] | None = None) -> builtins.list[ModelLineage]:
        """The lineage of several versions side by side."""

    @abstractmethod
    def is_better(
        self,
        candidate: Any,
        than: str = "production",
        metric: str = "mse",
        goal: str = "minimize",
        name: str | None = None,
    ) -> Comparison:
        """Does `candidate` (a run, job id or model reference) beat the model behind `than`?"""

    @abstractmethod
    def local_path(self, ref: str) -> Path:
        """A local folder with the version's files (downloaded into a cache when remote)."""

    def load(self, ref: str) -> Any:
        """The model object, loaded by its flavor (unpickles: load only from trusted workspaces)."""
        return model_service.load_model_folder(self.local_path(ref))

    @abstractmethod
    def download(
        self, ref: str, download_path: str | os.PathLike[str] = ".", overwrite: bool = False
    ) -> Path:
        """A copy of the version's folder as `download_path/<name>-<version>/`, which is returned;
        a non-empty folder there is refused (AlreadyExists) unless `overwrite` replaces it."""

    # --- gated promotion -----------------------------------------------------------------------

    @abstractmethod
    def promote(
        self, name: str, version: str | int, to: str = "production", reason: str = ""
    ) -> PromotionRequest:
        """Request that alias `to` move to `version`; another operator approves it."""

    @abstractmethod
    def approve(self, request_id: str, comment: str | None = None) -> PromotionRequest:
        """Approve a pending promotion (not one's own): the alias moves now."""

    @abstractmethod
    def reject(self, request_id: str, reason: str) -> PromotionRequest: ...

    @abstractmethod
    def cancel_promotion(self, request_id: str) -> PromotionRequest:
        """Withdraw one's own pending promotion request."""

    @abstractmethod
    def promotions(
        self, name: str | None = None, version: str | None = None, state: str | None = None
    ) -> builtins.list[PromotionRequest]:
        """Promotion requests newest first, of one model (and version) or in one state."""

    @abstractmethod
    def get_promotion(self, request_id: str) -> PromotionRequest: ...

    # --- staging check reports (the approval gate's evidence) ----------------------------------

    @abstractmethod
    def record_check(
        self, report: CheckReport, location: str | None = None, job_id: str | None = None
    ) -> CheckRecord:
        """Record a staging check's report against the model version it names (`report.model`)."""

    @abstractmethod
    def check_reports(
        self, name: str, version: str | None = None, kind: str | None = None
    ) -> builtins.list[CheckRecord]:
        """Check reports of model `name` (one version, one kind), newest first."""


def candidate_id(candidate: Any) -> str:
    """A run or a job id / model reference, as the text `is_better` takes."""
    return str(getattr(candidate, "id", candidate))


class LocalModelOperations(ModelOperations):
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
    ) -> ModelRegistration:
        return model_service.register_model_folder(
            self._workspace, name, Path(path), type, version, description, tags, properties, job_id
        )

    def log(
        self,
        model: Any,
        name: str,
        flavor: str,
        input_example: Any = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
        job_id: str | None = None,
    ) -> ModelRegistration:
        return model_service.save_and_register_model(
            self._workspace, model, name, flavor, input_example, description, tags, properties, job_id
        )

    def get(self, ref: str) -> ModelVersion:
        return model_service.get_model_version(self._workspace, ref)

    def list(
        self,
        name: str | None = None,
        tags: dict[str, str] | None = None,
        include_archived: bool = False,
    ) -> builtins.list[Model] | builtins.list[ModelVersion]:
        if name is None:
            return model_service.list_models(self._workspace, tags)
        return model_service.list_model_versions(self._workspace, name, include_archived, tags)

    def aliases(self, name: str) -> dict[str, str]:
        return model_service.model_aliases(self._workspace, name)

    def set_alias(self, name: str, alias: str, version: str | int) -> str | None:
        return model_service.set_alias(self._workspace, name, alias, str(version))

    def delete_alias(self, name: str, alias: str) -> None:
        model_service.delete_alias(self._workspace, name, alias)

    def share(
        self,
        name: str,
        version: str | int,
        registry_name: str,
        share_with_name: str | None = None,
        share_with_version: str | int | None = None,
    ) -> ModelRegistration:
        from mlyard.services.registries.sharing import share_model

        return share_model(
            self._workspace, name, str(version), registry_name, share_with_name,
            None if share_with_version is None else str(share_with_version),
        )  # fmt: skip

    def archive(self, ref: str) -> ModelVersion:
        return model_service.set_archived(self._workspace, ref, True)

    def restore(self, ref: str) -> ModelVersion:
        return model_service.set_archived(self._workspace, ref, False)

    def lineage(self, ref: str) -> ModelLineage:
        flush_pending()
        return model_comparison.lineage(self._workspace, ref)

    def compare(self, name: str, versions: Sequence[str | int] | None = None) -> builtins.list[ModelLineage]:
        flush_pending()
        wanted = [str(v) for v in versions] if versions else None
        return model_comparison.compare(self._workspace, name, wanted)

    def is_better(
        self,
        candidate: Any,
        than: str = "production",
        metric: str = "mse",
        goal: str = "minimize",
        name: str | None = None,
    ) -> Comparison:
        flush_pending()
        return model_comparison.is_better(self._workspace, candidate_id(candidate), than, metric, goal, name)  # type: ignore[arg-type]

    def local_path(self, ref: str) -> Path:
        return model_service.model_local_path(self._workspace, self.get(ref))

    def download(
        self, ref: str, download_path: str | os.PathLike[str] = ".", overwrite: bool = False
    ) -> Path:
        return model_service.download_model(self._workspace, ref, Path(download_path), overwrite)

    def promote(
        self, name: str, version: str | int, to: str = "production", reason: str = ""
    ) -> PromotionRequest:
        return promotions.request_promotion(self._workspace, name, version, to, reason)

    def approve(self, request_id: str, comment: str | None = None) -> PromotionRequest:
        return promotions.approve_promotion(self._workspace, request_id, comment)

    def reject(self, request_id: str, reason: str) -> PromotionRequest:
        return promotions.reject_promotion(self._workspace, request_id, reason)

    def cancel_promotion(self, request_id: str) -> PromotionRequest:
        return promotions.cancel_promotion(self._workspace, request_id)

    def promotions(
        self, name: str | None = None, version: str | None = None, state: str | None = None
    ) -> builtins.list[PromotionRequest]:
        return promotions.list_promotions(self._workspace, name, version, state)

    def get_promotion(self, request_id: str) -> PromotionRequest:
        return promotions.get_promotion(self._workspace, request_id)

    def record_check(
        self, report: CheckReport, location: str | None = None, job_id: str | None = None
    ) -> CheckRecord:
        return check_reports.record_check_report(self._workspace, report, location, job_id)

    def check_reports(
        self, name: str, version: str | None = None, kind: str | None = None
    ) -> builtins.list[CheckRecord]:
        return check_reports.list_check_reports(self._workspace, name, version, kind)
