"""`MLClient`: the SDK entry point, one operations object per concept (as Azure ML's MLClient)."""

from __future__ import annotations

import os
from typing import Any

from mlyard.client.components import ComponentOperations
from mlyard.client.data import DataOperations
from mlyard.client.environments import EnvironmentOperations
from mlyard.client.jobs import JobOperations
from mlyard.client.models import ModelOperations
from mlyard.services.workspace import Workspace, open_workspace


class MLClient:
    """Work with one workspace: `MLClient()` opens `./.mlyard` (or `MLYARD_WORKSPACE`).

    Later operations (environments, components, endpoints, …) are attributes of the same shape.
    """

    def __init__(
        self,
        workspace: str | os.PathLike[str] | None = None,
        db: str | None = None,
        artifacts: str | None = None,
    ) -> None:
        self._workspace: Workspace = open_workspace(workspace, db=db, artifacts=artifacts)
        self.jobs = JobOperations(self._workspace)
        self.data = DataOperations(self._workspace)
        self.environments = EnvironmentOperations(self._workspace)
        self.models = ModelOperations(self._workspace)
        self.components = ComponentOperations(self._workspace)

    @property
    def workspace(self) -> dict[str, Any]:
        """Where this workspace keeps its records and artifacts."""
        return self._workspace.describe()

    def __repr__(self) -> str:
        return f"MLClient(workspace={str(self._workspace.path)!r})"
