"""The workspace options every command shares (`--workspace`, `--db`, `--artifacts`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from mlyard.services.workspace import Workspace


@dataclass
class WorkspaceOptions:
    path: str | None = None
    db: str | None = None
    artifacts: str | None = None

    def open(self, create: bool = True) -> Workspace:
        from mlyard.services.workspace import open_workspace

        return open_workspace(self.path, db=self.db, artifacts=self.artifacts, create=create)


def workspace_options(ctx: typer.Context) -> WorkspaceOptions:
    options = ctx.find_root().obj
    assert isinstance(options, WorkspaceOptions)
    return options


def workspace_of(ctx: typer.Context) -> Workspace:
    return workspace_options(ctx).open()
