"""`client.components`: register and read versioned command components."""

from __future__ import annotations

import builtins
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from mlyard.entities.assets.component import Component
from mlyard.entities.assets.component_spec import CommandComponentSpec
from mlyard.services.assets import components as component_service
from mlyard.services.assets.components import ComponentRegistration
from mlyard.services.registries.resolution import find_component
from mlyard.services.workspaces.workspace import Workspace


class ComponentOperations(ABC):
    def create_or_update(
        self, source: str | os.PathLike[str] | Any, name: str | None = None, version: str | None = None
    ) -> Component:
        """Register a component YAML or a `@command_component` function; the same spec and code
        again returns the existing version."""
        return self.register(source, name, version).component

    def register(
        self, source: str | os.PathLike[str] | Any, name: str | None = None, version: str | None = None
    ) -> ComponentRegistration:
        """As `create_or_update`, saying whether a new version was created."""
        given: Path | CommandComponentSpec = (
            CommandComponentSpec.model_validate(source.spec_dict())
            if hasattr(source, "spec_dict")
            else Path(source)
        )
        return self._create(given, name, version)

    @abstractmethod
    def _create(
        self, given: Path | CommandComponentSpec, name: str | None, version: str | None
    ) -> ComponentRegistration: ...

    @abstractmethod
    def get(self, ref: str) -> Component:
        """`name:version` or `name@latest`; also `azureml://registries/<r>/components/<n>/versions/<v>`
        (or `/labels/latest`), a registry's version or a built-in of the `mlyard` catalog."""

    @abstractmethod
    def list(self, name: str | None = None) -> builtins.list[Component]:
        """The latest version of every component, or every version of `name`."""


class LocalComponentOperations(ComponentOperations):
    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    def _create(
        self, given: Path | CommandComponentSpec, name: str | None, version: str | None
    ) -> ComponentRegistration:
        return component_service.create_component(self._workspace, given, name=name, version=version)

    def get(self, ref: str) -> Component:
        return find_component(self._workspace, ref)

    def list(self, name: str | None = None) -> builtins.list[Component]:
        return component_service.list_components(self._workspace, name)
