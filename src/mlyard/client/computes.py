"""`client.computes`: named compute targets (`local`, `ray` clusters) that jobs name in `compute:`."""

from __future__ import annotations

import builtins
import os
from abc import ABC, abstractmethod
from pathlib import Path

from mlyard.entities.assets.compute import Compute
from mlyard.entities.assets.compute_spec import ComputeSpec, load_compute_spec
from mlyard.services.assets import computes as compute_service
from mlyard.services.workspaces.workspace import Workspace


class ComputeOperations(ABC):
    @abstractmethod
    def create(
        self, name: str, type: str, address: str | None = None, description: str | None = None
    ) -> Compute:
        """A named target: `type` local, or ray with the cluster's `address` (ray://host:port)."""

    def create_or_update(
        self,
        compute: str | os.PathLike[str] | ComputeSpec,
        name: str | None = None,
        overrides: dict[str, str] | None = None,
    ) -> Compute:
        """Create a target from a compute YAML (Azure ML's; its cloud types become local
        processes, with a warning) or a `ComputeSpec`; `name` and `overrides` win over the file."""
        if isinstance(compute, ComputeSpec):
            spec = compute.model_copy(update={"name": name} if name else {})
        else:
            spec = load_compute_spec(Path(compute), overrides, name=name)
        return self.create(spec.name, spec.type, spec.address, spec.description)

    @abstractmethod
    def get(self, name: str) -> Compute: ...

    @abstractmethod
    def list(self) -> builtins.list[Compute]:
        """Built-in `local` and `ray`, then the created ones."""

    @abstractmethod
    def delete(self, name: str) -> None: ...


class LocalComputeOperations(ComputeOperations):
    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    def create(
        self, name: str, type: str, address: str | None = None, description: str | None = None
    ) -> Compute:
        return compute_service.create_compute(self._workspace, name, type, address, description)

    def get(self, name: str) -> Compute:
        return compute_service.get_compute(self._workspace, name)

    def list(self) -> builtins.list[Compute]:
        return compute_service.list_computes(self._workspace)

    def delete(self, name: str) -> None:
        compute_service.delete_compute(self._workspace, name)
