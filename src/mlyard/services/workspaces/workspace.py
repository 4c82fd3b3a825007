"""Workspaces: one isolated scope with its own database and artifact store.

An embedded workspace is a folder (default `./.mlyard`, or `MLYARD_WORKSPACE`, or an explicit
path) holding `workspace.yaml`, a SQLite database and an `artifacts/` folder. `--db` and
`--artifacts` point the same folder at PostgreSQL and any fsspec URL instead; the choice is
recorded in `workspace.yaml` so later commands need not repeat it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from mlyard.artifacts import ArtifactStore, open_artifact_store
from mlyard.entities.specs.spec_files import yaml_problem
from mlyard.errors import StoreError, WorkspaceError

# Re-exported: callers find every workspace name here.
from mlyard.services.workspaces.workspace_location import DEFAULT_PATH as DEFAULT_PATH
from mlyard.services.workspaces.workspace_location import ENV_ARTIFACTS as ENV_ARTIFACTS
from mlyard.services.workspaces.workspace_location import ENV_DB as ENV_DB
from mlyard.services.workspaces.workspace_location import ENV_WORKSPACE as ENV_WORKSPACE
from mlyard.services.workspaces.workspace_location import StoreLocation
from mlyard.services.workspaces.workspace_location import resolve_path as resolve_path
from mlyard.store.database import Database, redact_url
from mlyard.store.migrate import upgrade

CONFIG_FILE = "workspace.yaml"
DATABASE_FILE = "mlyard.db"


@dataclass
class Workspace:
    """An open workspace: where its records and artifacts live."""

    path: Path
    name: str
    database: Database
    artifacts: ArtifactStore
    created_at: str
    # The registries `azureml://registries/<name>/...` reaches from here: a team server sets the
    # ones it serves; None means this machine's registry index (services/registries).
    registries: dict[str, StoreLocation] | None = field(default=None, repr=False)
    registry_name: str | None = None  # set when this store is a registry, not a workspace

    @property
    def db_url(self) -> str:
        return self.database.url

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": str(self.path),
            "database": redact_url(self.database.url),
            "artifacts": self.artifacts.root_url,
            "created_at": self.created_at,
        }


_open: dict[tuple[str, str | None, str | None], Workspace] = {}
_open_lock = threading.Lock()


def open_workspace(
    path: str | os.PathLike[str] | None = None,
    db: str | None = None,
    artifacts: str | None = None,
    create: bool = True,
) -> Workspace:
    """Open (and by default create) a workspace; cached per process, schema upgraded on open."""
    folder = resolve_path(path)
    db = db or os.environ.get(ENV_DB) or None
    artifacts = artifacts or os.environ.get(ENV_ARTIFACTS) or None
    key = (str(folder), db, artifacts)
    with _open_lock:
        workspace = _open.get(key)
        if workspace is None:
            workspace = _open_uncached(folder, db, artifacts, create)
            _open[key] = workspace
        return workspace


def create_workspace(
    path: str | os.PathLike[str] | None = None, db: str | None = None, artifacts: str | None = None
) -> tuple[Workspace, bool]:
    """Create a workspace; returns it and whether it was new."""
    folder = resolve_path(path)
    existed = (folder / CONFIG_FILE).exists()
    return open_workspace(folder, db=db, artifacts=artifacts, create=True), not existed


def check_database(workspace: Workspace) -> None:
    """`StoreError` unless the workspace's database answers a trivial query (for health checks)."""
    try:
        with workspace.database.read() as session:
            session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc
        raise StoreError(f"database {redact_url(workspace.db_url)} is unreachable: {reason}") from exc


def close_all() -> None:
    """Dispose every cached workspace's connections (tests, forked workers)."""
    with _open_lock:
        for workspace in _open.values():
            workspace.database.dispose()
        _open.clear()


def _open_uncached(folder: Path, db: str | None, artifacts: str | None, create: bool) -> Workspace:
    if folder.exists() and not folder.is_dir():
        raise WorkspaceError(f"workspace path {folder} is a file, not a folder; choose another --workspace")
    config_path = folder / CONFIG_FILE
    if config_path.exists():
        config = _read_config(config_path)
        _check_matches(config_path, config, "database", db)
        _check_matches(config_path, config, "artifacts", artifacts)
    elif not create:
        raise WorkspaceError(
            f"no workspace at {folder}; create one with: mlyard workspace create --workspace {folder} "
            "(in Python: MLClient(workspace=..., create=True))"
        )
    else:
        config = _new_config(folder, db, artifacts)
        folder.mkdir(parents=True, exist_ok=True)
        _write_config(config_path, config)
    db_url = _resolve_db(folder, config["database"])
    if db_url.startswith("sqlite:///"):
        _check_sqlite_file(Path(db_url[len("sqlite:///") :]))
    database = Database(db_url)
    upgrade(database)
    store = open_artifact_store(_resolve_artifacts(folder, config["artifacts"]))
    return Workspace(
        path=folder,
        name=str(config.get("name") or folder.name),
        database=database,
        artifacts=store,
        created_at=str(config.get("created_at", "")),
    )


def _new_config(folder: Path, db: str | None, artifacts: str | None) -> dict[str, Any]:
    name = folder.name if folder.name != DEFAULT_PATH else folder.parent.name or "default"
    return {
        "name": name,
        "database": db or DATABASE_FILE,
        "artifacts": artifacts or "artifacts",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _read_config(config_path: Path) -> dict[str, Any]:
    try:
        config = yaml.safe_load(config_path.read_text())
    except OSError as exc:
        raise WorkspaceError(f"{config_path} is not readable: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise WorkspaceError(
            f"{yaml_problem(config_path, exc)}; fix that line: the file records the workspace's "
            "database and artifact store"
        ) from exc
    if (
        not isinstance(config, dict)
        or not isinstance(config.get("database"), str)
        or not isinstance(config.get("artifacts"), str)
    ):
        raise WorkspaceError(
            f"{config_path} is not a workspace file: it needs 'database' and 'artifacts' entries"
        )
    return config


def _write_config(config_path: Path, config: dict[str, Any]) -> None:
    temporary = config_path.with_suffix(".tmp")
    temporary.write_text(yaml.safe_dump(config, sort_keys=False))
    os.replace(temporary, config_path)


def _check_matches(config_path: Path, config: dict[str, Any], field: str, given: str | None) -> None:
    if given is not None and given != config[field]:
        raise WorkspaceError(
            f"the workspace in {config_path.parent} uses {field} {redact_url(config[field])!r}, "
            f"not {redact_url(given)!r}; open it without --{'db' if field == 'database' else field} "
            "or choose another workspace folder"
        )


def _resolve_db(folder: Path, value: str) -> str:
    if "://" in value:
        return value
    return f"sqlite:///{(folder / value).resolve()}"


def _resolve_artifacts(folder: Path, value: str) -> str:
    if "://" in value:
        return value
    return str((folder / value).resolve())


def _check_sqlite_file(path: Path) -> None:
    """Fail with a clear message on a file that is not SQLite, before SQLAlchemy says less."""
    if not path.exists() or path.stat().st_size == 0:
        return
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            connection.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.DatabaseError as exc:
        raise WorkspaceError(f"workspace database {path} is corrupt or not SQLite ({exc})") from exc
