"""`client.components`: register and read versioned command components."""

from __future__ import annotations

import builtins
import os
from pathlib import Path

from mlyard.entities.component import Component
from mlyard.services import components as component_service
from mlyard.services.workspace import Workspace


class ComponentOperations:
    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    def create_or_update(
        self, path: str | os.PathLike[str], name: str | None = None, version: str | None = None
    ) -> Component:
        """Register a component YAML; the same spec and code again returns the existing version."""
        return component_service.create_component(
            self._workspace, Path(path), name=name, version=version
        ).component

    def get(self, ref: str) -> Component:
        return component_service.get_component(self._workspace, ref)

    def list(self, name: str | None = None) -> builtins.list[Component]:
        return component_service.list_components(self._workspace, name)
