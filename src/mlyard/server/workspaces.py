"""The served workspaces by name, and the route dependency that resolves `{ws}` to an open one."""

from __future__ import annotations

import threading

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from mlyard.entities.specs.spec_warnings import active_checks
from mlyard.errors import NotFound, StoreError, WorkspaceError
from mlyard.server.config import WorkspaceLocation
from mlyard.services.workspaces.settings import get_settings
from mlyard.services.workspaces.workspace import Workspace, open_workspace
from mlyard.services.workspaces.workspace_location import StoreLocation


class ServedWorkspaces:
    """Name → workspace; each opened on first use and kept open for the server's life.

    Registries are served beside them under `@<name>` (`/api/v1/registries/{name}/…` is routed to
    `/api/v1/workspaces/@{name}/…`, see server/registries.py): the same asset routes, roles and
    keys, on the registry's own store. `names()` lists workspaces only — background loops, key
    lookups and the studio never see a registry."""

    def __init__(
        self, locations: dict[str, WorkspaceLocation], registries: dict[str, WorkspaceLocation] | None = None
    ) -> None:
        self.locations = dict(locations)
        self.registries = dict(registries or {})
        self._reached = {
            name: StoreLocation(loc.path, loc.db, loc.artifacts) for name, loc in self.registries.items()
        }
        self._open: dict[str, Workspace] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        return sorted(self.locations)

    def cached(self, name: str) -> Workspace | None:
        """The open workspace, or None when it must still be opened (`NotFound` if unknown)."""
        if name.startswith(REGISTRY_MARK):
            if name[1:] not in self.registries:
                known = ", ".join(sorted(self.registries)) or "none"
                raise NotFound(
                    f"registry {name[1:]!r} is not served here; this server serves registries: {known}"
                )
        elif name not in self.locations:
            known = ", ".join(self.names())
            raise NotFound(f"workspace {name!r} is not served here; this server serves: {known}")
        return self._open.get(name)

    def open(self, name: str) -> Workspace:
        """Open (migrating its schema if needed) a served workspace or registry; blocking."""
        workspace = self.cached(name)
        if workspace is None:
            is_registry = name.startswith(REGISTRY_MARK)
            location = self.registries[name[1:]] if is_registry else self.locations[name]
            with self._lock:
                try:
                    workspace = open_workspace(
                        location.path, db=location.db, artifacts=location.artifacts, create=False
                    )
                except WorkspaceError as exc:  # the server's own setup is broken, not the request
                    raise StoreError(f"{describe_scope(name)} is unavailable: {exc.message}") from exc
                # Registry references resolve against what this server serves, not the index
                # of whichever user runs it.
                workspace.registries = self._reached
                if is_registry:
                    workspace.registry_name = name[1:]
                self._open[name] = workspace
        return workspace


REGISTRY_MARK = "@"  # `@shared` is registry `shared` (no workspace name may start with '@')


def describe_scope(ws: str) -> str:
    """`workspace 'dev'` or `registry 'shared'`, for messages."""
    return f"registry {ws[1:]!r}" if ws.startswith(REGISTRY_MARK) else f"workspace {ws!r}"


async def served_workspace(ws: str, request: Request) -> Workspace:
    """The dependency behind every `/api/v1/workspaces/{ws}/...` route."""
    workspaces: ServedWorkspaces = request.app.state.workspaces
    workspace = workspaces.cached(ws)
    if workspace is None:
        workspace = await run_in_threadpool(workspaces.open, ws)
    _follow_strict_setting(workspace)
    return workspace


def _follow_strict_setting(workspace: Workspace) -> None:
    """The request's spec checks are strict when the workspace's `strict_specs` setting is on;
    read only when a spec has an unknown field (runs here, in the request's own context)."""
    checks = active_checks()
    if checks is not None and not checks.strict:
        checks.strict_if = lambda: get_settings(workspace).strict_specs
