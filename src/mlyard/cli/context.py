"""The options every command shares: a local workspace (`--workspace`, `--db`, `--artifacts`) or a
team server (`--url`/MLYARD_URL with `--key`/MLYARD_KEY).

One rule for local workspaces: reading never creates one. A missing folder is an error naming it
(exit 6), so a misspelt `--workspace` is noticed; only commands that add something new (`create`
verbs, `server start`) pass `create=True` and make the workspace on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from mlyard.client.mlclient import MLClient
    from mlyard.services.workspaces.workspace import Workspace


# The local workspace options again, for the commands about a workspace itself (`workspace create
# --workspace PATH`, `server start --workspace PATH`): written after the verb they mean the same as
# before it, and win over it (MLYARD_* variables are read by the options before the verb).
WorkspacePathOption = Annotated[
    str | None, typer.Option("--workspace", "-w", help="workspace folder (default ./.mlyard)")
]
DatabaseOption = Annotated[
    str | None, typer.Option("--db", help="database URL, e.g. postgresql+psycopg://user@host/db")
]
ArtifactsOption = Annotated[
    str | None, typer.Option("--artifacts", help="artifact store URL (any fsspec URL)")
]
RegistryNameOption = Annotated[
    str | None,
    typer.Option(
        "--registry-name", help="work in this registry instead of the workspace (mlyard registry list)"
    ),
]


@dataclass
class WorkspaceOptions:
    path: str | None = None
    db: str | None = None
    artifacts: str | None = None
    url: str | None = None
    key: str | None = None
    workspace_name: str | None = None

    @property
    def is_remote(self) -> bool:
        return self.url is not None

    def client(self, create: bool = False, registry_name: str | None = None) -> MLClient:
        """The SDK client these options name: the team server when a URL is given; a local
        workspace is created only with `create` (commands that write); a registry (of the
        server, or of this machine's index) with `registry_name`."""
        from mlyard.client.mlclient import MLClient

        if self.url is not None:
            client = MLClient(
                url=self.url, key=self.key, workspace_name=self.workspace_name, registry_name=registry_name
            )
        elif registry_name is not None:
            client = MLClient(registry_name=registry_name)
        else:
            client = MLClient(workspace=self.open(create).path)
        _follow_strict_setting(client)
        return client

    def open(self, create: bool = False) -> Workspace:
        """The local workspace; WorkspaceError (exit 6) naming the folder if it does not exist,
        unless `create`."""
        from mlyard.services.workspaces.workspace import open_workspace

        return open_workspace(self.path, db=self.db, artifacts=self.artifacts, create=create)


def _follow_strict_setting(client: MLClient) -> None:
    """Make the command's spec checks strict when the workspace's `strict_specs` setting says so
    (read only if a spec has an unknown field)."""
    from mlyard.entities.specs.spec_warnings import active_checks

    checks = active_checks()
    if checks is not None and not checks.strict:
        checks.strict_if = lambda: client.settings.get().strict_specs


def workspace_options(
    ctx: typer.Context, path: str | None = None, db: str | None = None, artifacts: str | None = None
) -> WorkspaceOptions:
    """The shared options, with any of `path`, `db`, `artifacts` the command itself was given."""
    options = ctx.find_root().obj
    assert isinstance(options, WorkspaceOptions)
    options.path = path or options.path
    options.db = db or options.db
    options.artifacts = artifacts or options.artifacts
    return options


def workspace_of(ctx: typer.Context) -> Workspace:
    """The local workspace (commands that only make sense on the workspace's own files)."""
    options = workspace_options(ctx)
    if options.is_remote:
        from mlyard.errors import InvalidArgument

        raise InvalidArgument(
            f"this command works on a workspace's own files, not through a server ({options.url}); "
            "run it where the workspace is, without MLYARD_URL / --url"
        )
    return options.open()


def client_of(ctx: typer.Context, create: bool = False, registry_name: str | None = None) -> MLClient:
    """The SDK client of this command: local, or the team server of --url / MLYARD_URL. Commands
    that write pass `create=True`: only they may make a missing local workspace. `registry_name`
    (`--registry-name`): the registry's store instead of the workspace."""
    return workspace_options(ctx).client(create, registry_name)
