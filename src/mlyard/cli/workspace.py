"""`mlyard workspace create|show`."""

from __future__ import annotations

from typing import Annotated

import typer

from mlyard.cli.context import (
    ArtifactsOption,
    DatabaseOption,
    WorkspacePathOption,
    client_of,
    workspace_options,
)
from mlyard.cli.output import print_fields, printed_for_scripts, say

app = typer.Typer(help="Create and inspect workspaces.", no_args_is_help=True)


@app.command("create")
def create(
    ctx: typer.Context,
    workspace_path: WorkspacePathOption = None,
    db: DatabaseOption = None,
    artifacts: ArtifactsOption = None,
) -> None:
    """Create a workspace (folder, database and artifact store) or confirm an existing one."""
    from mlyard.services.workspaces.workspace import create_workspace

    options = workspace_options(ctx, workspace_path, db, artifacts)
    if options.is_remote:
        from mlyard.errors import InvalidArgument

        raise InvalidArgument(
            f"a workspace is created on its own machine, not through a server ({options.url}); "
            "run it there without MLYARD_URL / --url, then serve it with: mlyard server start"
        )
    workspace, created = create_workspace(options.path, options.db, options.artifacts)
    info = workspace.describe()
    if printed_for_scripts({**info, "created": created}):
        return
    say(f"{'created' if created else 'already exists:'} workspace {workspace.name} at {workspace.path}")
    print_fields("workspace", info)


@app.command("show")
def show(
    ctx: typer.Context,
    workspace_path: WorkspacePathOption = None,
    db: DatabaseOption = None,
    artifacts: ArtifactsOption = None,
) -> None:
    """Where the workspace keeps its records and artifacts, and what it holds (the server's
    workspace with --url)."""
    workspace_options(ctx, workspace_path, db, artifacts)
    info = client_of(ctx).workspace
    if not printed_for_scripts(info):
        print_fields("workspace", info)


settings_app = typer.Typer(
    help="Workspace rules: protected aliases, self-approval, job nesting depth.", no_args_is_help=True
)
app.add_typer(settings_app, name="settings")


@settings_app.command("show")
def settings_show(ctx: typer.Context) -> None:
    """The workspace's rules (gated promotion, how deep jobs may submit jobs)."""
    found = client_of(ctx).settings.get()
    if not printed_for_scripts(found.model_dump()):
        print_fields("workspace settings", found.model_dump())


@settings_app.command("set")
def settings_set(
    ctx: typer.Context,
    pairs: Annotated[list[str], typer.Argument(help="NAME=VALUE: protected_aliases=production,staging …")],
) -> None:
    """Change settings (admin), e.g. `allow_self_approval=true`, `protected_aliases=production,staging`,
    `max_job_nesting_depth=4`, `strict_specs=true` or `require_passing_checks=smoke,performance`."""
    from mlyard.cli.output import parse_pairs

    changes: dict[str, object] = {}
    for name, value in parse_pairs(pairs, "NAME=VALUE").items():
        if name in ("protected_aliases", "require_passing_checks"):  # lists, comma-separated
            changes[name] = [item.strip() for item in value.split(",") if item.strip()]
        elif value.lower() in ("true", "false", "yes", "no"):
            changes[name] = value.lower() in ("true", "yes")
        else:
            changes[name] = value
    updated = client_of(ctx, create=True).settings.update(**changes)
    if printed_for_scripts(updated.model_dump()):
        return
    say("settings updated")
    print_fields("workspace settings", updated.model_dump())
