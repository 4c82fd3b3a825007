"""`client.computes`: named compute targets (`local`, `ray` clusters) that jobs name in `compute:`."""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod

from mlyard.entities.compute import Compute
from mlyard.services.assets import computes as compute_service
from mlyard.services.workspaces.workspace import Workspace


class ComputeOperations(ABC):
    @abstractmethod
    def create(
        self, name: str, type: str, address: str | None = None, description: str | None = None
    ) -> Compute:
        """A named target: `type` local, or ray with the cluster's `address` (ray://host:port)."""

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
