"""`client.environments`, `client.components`, `client.computes` over a team server."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mlyard.client.components import ComponentOperations
from mlyard.client.computes import ComputeOperations
from mlyard.client.environments import EnvironmentOperations
from mlyard.client.remote.closure import spec_closure
from mlyard.client.remote.registry import _version_path
from mlyard.client.remote.session import RemoteSession
from mlyard.entities.assets.builtin_components import builtin_as_component, is_builtin_ref
from mlyard.entities.assets.component import Component
from mlyard.entities.assets.component_spec import CommandComponentSpec
from mlyard.entities.assets.compute import Compute
from mlyard.entities.assets.environment import Environment
from mlyard.entities.assets.environment_spec import EnvironmentSpec, ResolvedEnvironment
from mlyard.entities.specs.spec_files import read_spec_text
from mlyard.errors import InvalidArgument
from mlyard.services.assets.components import ComponentRegistration
from mlyard.services.assets.environments import EnvironmentRegistration
from mlyard.services.registries.references import is_store_ref


def _submit_closure(
    session: RemoteSession, data: dict[str, Any], base_dir: Path, extra: tuple[Path, ...] = ()
) -> dict[str, Any]:
    closure = spec_closure(data, base_dir, extra)
    upload = session.upload(closure.files) if closure.files else None
    return {"spec": closure.spec, "upload": upload, "base": closure.base}


class RemoteEnvironmentOperations(EnvironmentOperations):
    def __init__(self, session: RemoteSession) -> None:
        self._session = session

    def _create(self, spec: EnvironmentSpec, base_dir: Path, source: str) -> EnvironmentRegistration:
        data = spec.model_dump(mode="json", exclude_none=True, by_alias=True)
        body = _submit_closure(self._session, data, base_dir) | {"source": source}
        found = self._session.post_json("environments", body)
        return EnvironmentRegistration(
            Environment.model_validate(found["environment"]), bool(found["created"])
        )

    def get(self, ref: str) -> Environment:
        return Environment.model_validate(self._session.get_json(_version_path("environments", ref)))

    def list(self, name: str | None = None) -> builtins.list[Environment]:
        path = f"environments/{quote(name, safe='')}/versions" if name else "environments"
        return [Environment.model_validate(item) for item in self._session.get_json(path)["value"]]

    def resolve(self, ref: str) -> ResolvedEnvironment | None:
        local = Path(ref).expanduser()
        if local.suffix in (".yml", ".yaml") and local.is_file():
            from mlyard.entities.assets.environment_spec import load_environment

            spec = load_environment(local)
            data = spec.model_dump(mode="json", exclude_none=True, by_alias=True)
            body: dict[str, Any] = _submit_closure(self._session, data, local.resolve().parent) | {
                "ref": None
            }
        else:
            body = {"ref": ref}
        found = self._session.post_json("environments/resolve", body)
        return (
            ResolvedEnvironment.model_validate(found["resolved"]) if found["resolved"] is not None else None
        )


class RemoteComponentOperations(ComponentOperations):
    def __init__(self, session: RemoteSession) -> None:
        self._session = session

    def _create(
        self, given: Path | CommandComponentSpec, name: str | None, version: str | None
    ) -> ComponentRegistration:
        if isinstance(given, CommandComponentSpec):
            data = given.model_dump(mode="json", exclude_none=True)
            body = _submit_closure(self._session, data, Path.cwd()) | {"file": None}
        else:
            path = Path(given)
            read_spec_text(path)  # missing, a folder or empty: the error the local call gives
            # The YAML itself goes up too, read by the server exactly as the local call reads it.
            body = _submit_closure(self._session, {"file": path.name}, path.resolve().parent, (path,))
            body["file"] = body.pop("spec")["file"]
        body |= {"name": name, "version": version}
        found = self._session.post_json("components", body)
        return ComponentRegistration(Component.model_validate(found["component"]), bool(found["created"]))

    def get(self, ref: str) -> Component:
        if is_builtin_ref(ref):  # the catalog ships with mlyard: the same on every server
            return builtin_as_component(ref)
        if is_store_ref(ref):
            raise InvalidArgument(
                f"{ref}: over a server, read a registry's component with: "
                "mlyard component show NAME:VERSION --registry-name REGISTRY"
            )
        return Component.model_validate(self._session.get_json(_version_path("components", ref)))

    def list(self, name: str | None = None) -> builtins.list[Component]:
        path = f"components/{quote(name, safe='')}/versions" if name else "components"
        return [Component.model_validate(item) for item in self._session.get_json(path)["value"]]


class RemoteComputeOperations(ComputeOperations):
    def __init__(self, session: RemoteSession) -> None:
        self._session = session

    def create(
        self, name: str, type: str, address: str | None = None, description: str | None = None
    ) -> Compute:
        body = {"name": name, "type": type, "address": address, "description": description}
        return Compute.model_validate(self._session.post_json("computes", body))

    def get(self, name: str) -> Compute:
        return Compute.model_validate(self._session.get_json(f"computes/{quote(name, safe='')}"))

    def list(self) -> builtins.list[Compute]:
        return [Compute.model_validate(item) for item in self._session.get_json("computes")["value"]]

    def delete(self, name: str) -> None:
        self._session.request("DELETE", f"computes/{quote(name, safe='')}")
