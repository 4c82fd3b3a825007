"""`client.environments`: register, find and build environments."""

from __future__ import annotations

import builtins
import os
from pathlib import Path

from mlyard.entities.environment import Environment
from mlyard.entities.environment_spec import EnvironmentSpec, load_environment
from mlyard.runtime.environments import Log, PythonEnvironment, prepare_environment
from mlyard.services import environments as environment_service
from mlyard.services.workspace import Workspace


class EnvironmentOperations:
    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    def create_or_update(
        self,
        environment: str | os.PathLike[str] | EnvironmentSpec,
        name: str | None = None,
        version: str | None = None,
    ) -> environment_service.EnvironmentRegistration:
        """Register an environment YAML (or spec; its files relative to the current folder).

        An identical spec returns the existing version (`registration.created` is False then)."""
        if isinstance(environment, EnvironmentSpec):
            spec, base_dir, source = environment, Path.cwd(), "environment"
        else:
            path = Path(environment)
            spec, base_dir, source = load_environment(path), path.parent, str(path)
        overrides = {key: value for key, value in {"name": name, "version": version}.items() if value}
        return environment_service.create_environment(
            self._workspace, spec.model_copy(update=overrides), base_dir, source
        )

    def get(self, ref: str) -> Environment:
        """`name:version` or `name@latest` (a bare name means latest)."""
        return environment_service.get_environment(self._workspace, ref)

    def list(self, name: str | None = None) -> builtins.list[Environment]:
        return environment_service.list_environments(self._workspace, name)

    def build(self, ref: str, log: Log | None = None) -> PythonEnvironment:
        """Build (or reuse) the venv of a registered, curated or YAML environment; `inherit` is mlyard's."""
        resolved = environment_service.resolve_environment(self._workspace, ref, Path.cwd())
        return prepare_environment(self._workspace, resolved, log=log)
