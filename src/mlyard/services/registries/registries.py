"""Registries by name: create, list, show, delete, open — and the index that finds them.

A registry is a store of its own with the same schema and artifact layout as a workspace (it is
opened with the workspace machinery: `open_workspace`), so every asset rule — versioning, the
re-registration rule, aliases, keys and roles, audit — holds in it unchanged. Only jobs and
endpoints are never run in one.

Embedded, a registry lives by default in `<mlyard home>/registries/<name>` (the home is
`$MLYARD_HOME`, else `~/.mlyard`), or at the folder, database and artifact store given on create;
`<mlyard home>/registries.yaml` maps each name to where it is, so every workspace on the machine
finds it by name. A team server gives its workspaces the registries it serves instead (the
`registries` field of the open `Workspace`), so `azureml://registries/<name>/...` resolves on
the server exactly as it does embedded. The names `azureml` (Azure's curated environments) and
`mlyard` (mlyard's built-in components) are reserved for their catalogs.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Any

import yaml

from mlyard.entities.specs.names import validate_name
from mlyard.errors import AlreadyExists, InvalidArgument, NotFound, WorkspaceError
from mlyard.services.workspaces.workspace import Workspace, open_workspace
from mlyard.services.workspaces.workspace_location import StoreLocation

ENV_HOME = "MLYARD_HOME"
INDEX_FILE = "registries.yaml"
RESERVED = {
    "azureml": "Azure ML's curated environments (azureml://registries/azureml/environments/...)",
    "mlyard": "mlyard's built-in components (azureml://registries/mlyard/components/...)",
}
_index_lock = threading.Lock()


def mlyard_home() -> Path:
    """`$MLYARD_HOME`, else `~/.mlyard`: where registries and their index live by default."""
    return Path(os.environ.get(ENV_HOME) or "~/.mlyard").expanduser().absolute()


def index_path() -> Path:
    return mlyard_home() / INDEX_FILE


def check_registry_name(name: str) -> str:
    """A valid, unreserved registry name, or InvalidArgument naming it."""
    validate_name(name, "registry name")
    if name.lower() in RESERVED:
        raise InvalidArgument(
            f"registry name {name!r} is reserved for {RESERVED[name.lower()]}; choose another name"
        )
    return name


def create_registry(
    name: str, path: str | None = None, db: str | None = None, artifacts: str | None = None
) -> dict[str, Any]:
    """A new registry store, recorded in the index; AlreadyExists when the name is taken."""
    check_registry_name(name)
    folder = Path(path).expanduser().absolute() if path else mlyard_home() / "registries" / name
    with _index_lock:
        index = _read_index()
        if name in index:
            raise AlreadyExists(
                f"registry {name!r} already exists at {index[name]['path']}; "
                f"use it, or remove it first with: mlyard registry delete --name {name}"
            )
        store = open_workspace(folder, db=db, artifacts=artifacts, create=True)
        entry: dict[str, Any] = {"path": str(folder)}
        if db:
            entry["db"] = db
        if artifacts:
            entry["artifacts"] = artifacts
        index[name] = entry
        _write_index(index)
    return describe(name, store)


def list_registries() -> list[dict[str, Any]]:
    """Every registry of the index (name and where it is; nothing is opened)."""
    index = _read_index()
    return [{"name": name, **entry} for name, entry in sorted(index.items())]


def show_registry(name: str, workspace: Workspace | None = None) -> dict[str, Any]:
    return describe(name, open_registry(name, workspace))


def delete_registry(name: str, purge: bool = False) -> dict[str, Any]:
    """Forget a registry (and with `purge` delete its default-location folder); NotFound if unknown."""
    with _index_lock:
        index = _read_index()
        if name not in index:
            raise NotFound(_unknown(name, index))
        entry = index.pop(name)
        _write_index(index)
    folder = Path(entry["path"])
    if purge and folder.is_dir():
        shutil.rmtree(folder)
    return {"name": name, **entry, "purged": purge}


def registry_location(name: str, workspace: Workspace | None = None) -> StoreLocation:
    """Where registry `name` is: the server's registries when `workspace` is served by one, else
    the machine's index. NotFound naming the registry (and the known ones) otherwise."""
    served = workspace.registries if workspace is not None else None
    if served is not None:
        if name not in served:
            known = ", ".join(sorted(served)) or "none"
            raise NotFound(f"registry {name!r} is not served here; this server serves registries: {known}")
        return served[name]
    index = _read_index()
    if name not in index:
        raise NotFound(_unknown(name, index))
    entry = index[name]
    return StoreLocation(Path(entry["path"]), entry.get("db"), entry.get("artifacts"))


def open_registry(name: str, workspace: Workspace | None = None) -> Workspace:
    """The registry's store, opened like a workspace (cached per process, schema upgraded)."""
    if name.lower() in RESERVED:
        raise InvalidArgument(
            f"registry {name!r} is {RESERVED[name.lower()]}: a catalog, not a store you can open"
        )
    location = registry_location(name, workspace)
    try:
        store = open_workspace(location.path, db=location.db, artifacts=location.artifacts, create=False)
    except WorkspaceError as exc:
        raise NotFound(f"registry {name!r} is unavailable: {exc.message}") from exc
    store.registry_name = name
    return store


def describe(name: str, store: Workspace) -> dict[str, Any]:
    return {"name": name, **{k: v for k, v in store.describe().items() if k != "name"}}


def _unknown(name: str, index: dict[str, Any]) -> str:
    known = ", ".join(sorted(index)) or "none yet"
    return (
        f"registry {name!r} does not exist on this machine (registries: {known}; index {index_path()}); "
        f"create it with: mlyard registry create --name {name}"
    )


def _read_index() -> dict[str, dict[str, Any]]:
    path = index_path()
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise WorkspaceError(f"the registry index {path} is unreadable: {exc}; fix or remove it") from exc
    registries = data.get("registries") if isinstance(data, dict) else None
    if not isinstance(registries, dict):
        raise WorkspaceError(f"the registry index {path} needs a 'registries' mapping; fix or remove it")
    return {str(k): dict(v) for k, v in registries.items() if isinstance(v, dict) and "path" in v}


def _write_index(index: dict[str, dict[str, Any]]) -> None:
    path = index_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(yaml.safe_dump({"registries": index}, sort_keys=True))
    os.replace(temporary, path)
