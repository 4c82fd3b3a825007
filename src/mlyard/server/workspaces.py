"""The served workspaces by name, and the route dependency that resolves `{ws}` to an open one."""

from __future__ import annotations

import threading

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from mlyard.entities.spec_warnings import active_checks
from mlyard.errors import NotFound, StoreError, WorkspaceError
from mlyard.server.config import WorkspaceLocation
from mlyard.services.workspaces.settings import get_settings
from mlyard.services.workspaces.workspace import Workspace, open_workspace


class ServedWorkspaces:
    """Name → workspace; each opened on first use and kept open for the server's life."""

    def __init__(self, locations: dict[str, WorkspaceLocation]) -> None:
        self.locations = dict(locations)
        self._open: dict[str, Workspace] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        return sorted(self.locations)

    def cached(self, name: str) -> Workspace | None:
        """The open workspace, or None when it must still be opened (`NotFound` if unknown)."""
        if name not in self.locations:
            known = ", ".join(self.names())
            raise NotFound(f"workspace {name!r} is not served here; this server serves: {known}")
        return self._open.get(name)

    def open(self, name: str) -> Workspace:
        """Open (migrating its schema if needed) a served workspace; blocking."""
        workspace = self.cached(name)
        if workspace is None:
            location = self.locations[name]
            with self._lock:
                try:
                    workspace = open_workspace(
                        location.path, db=location.db, artifacts=location.artifacts, create=False
                    )
                except WorkspaceError as exc:  # the server's own setup is broken, not the request
                    raise StoreError(f"workspace {name!r} is unavailable: {exc.message}") from exc
                self._open[name] = workspace
        return workspace


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
