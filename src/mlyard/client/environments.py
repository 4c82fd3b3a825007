"""`client.environments`: register, find and build environments."""

from __future__ import annotations

import builtins
import os
from abc import ABC, abstractmethod
from pathlib import Path

from mlyard.entities.assets.environment import Environment
from mlyard.entities.assets.environment_spec import EnvironmentSpec, ResolvedEnvironment, load_environment
from mlyard.runtime.environments import Log, PythonEnvironment, prepare_environment
from mlyard.services.assets import environments as environment_service
from mlyard.services.assets.environments import EnvironmentRegistration
from mlyard.services.workspaces.workspace import Workspace


class EnvironmentOperations(ABC):
    def create_or_update(
        self,
        environment: str | os.PathLike[str] | EnvironmentSpec,
        name: str | None = None,
        version: str | None = None,
    ) -> EnvironmentRegistration:
        """Register an environment YAML (or spec; its files relative to the current folder).

        An identical spec returns the existing version (`registration.created` is False then)."""
        if isinstance(environment, EnvironmentSpec):
            spec, base_dir, source = environment, Path.cwd(), "environment"
        else:
            path = Path(environment)
            spec, base_dir, source = load_environment(path), path.parent, str(path)
        overrides = {key: value for key, value in {"name": name, "version": version}.items() if value}
        return self._create(spec.model_copy(update=overrides), base_dir, source)

    @abstractmethod
    def _create(self, spec: EnvironmentSpec, base_dir: Path, source: str) -> EnvironmentRegistration: ...

    @abstractmethod
    def get(self, ref: str) -> Environment:
        """`name:version` or `name@latest` (a bare name means latest)."""

    @abstractmethod
    def list(self, name: str | None = None) -> builtins.list[Environment]: ...

    @abstractmethod
    def resolve(self, ref: str) -> ResolvedEnvironment | None:
        """What `ref` (registered, curated, YAML path or `inherit`) builds; None for mlyard's interpreter."""

    def build(self, ref: str, log: Log | None = None) -> PythonEnvironment:
        """Build (or reuse) the venv of a registered, curated or YAML environment on this machine."""
        return self.build_resolved(self.resolve(ref), log)

    def build_resolved(
        self, resolved: ResolvedEnvironment | None, log: Log | None = None
    ) -> PythonEnvironment:
        """Build (or reuse) the venv of a resolved environment on this machine (None: mlyard's own)."""
        return prepare_environment(self._build_log_workspace(), resolved, log=log)

    def _build_log_workspace(self) -> Workspace | None:
        return None


class LocalEnvironmentOperations(EnvironmentOperations):
    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    def _create(self, spec: EnvironmentSpec, base_dir: Path, source: str) -> EnvironmentRegistration:
        return environment_service.create_environment(self._workspace, spec, base_dir, source)

    def get(self, ref: str) -> Environment:
        return environment_service.get_environment(self._workspace, ref)

    def list(self, name: str | None = None) -> builtins.list[Environment]:
        return environment_service.list_environments(self._workspace, name)

    def resolve(self, ref: str) -> ResolvedEnvironment | None:
        return environment_service.resolve_environment(self._workspace, ref, Path.cwd())

    def _build_log_workspace(self) -> Workspace | None:
        return self._workspace
