"""`mlyard workspace create|show`."""

from __future__ import annotations

import typer

from mlyard.cli.context import WorkspaceOptions
from mlyard.cli.output import OutputFormat, OutputOption, print_fields, print_json, say

app = typer.Typer(help="Create and inspect workspaces.", no_args_is_help=True)


@app.command("create")
def create(ctx: typer.Context, output: OutputOption = OutputFormat.table) -> None:
    """Create a workspace (folder, database and artifact store) or confirm an existing one."""
    from mlyard.services.workspace import create_workspace

    options: WorkspaceOptions = ctx.find_root().obj
    workspace, created = create_workspace(options.path, options.db, options.artifacts)
    info = workspace.describe()
    if output == OutputFormat.json:
        print_json({**info, "created": created})
        return
    say(f"{'created' if created else 'already exists:'} workspace {workspace.name} at {workspace.path}")
    print_fields("workspace", info)


@app.command("show")
def show(ctx: typer.Context, output: OutputOption = OutputFormat.table) -> None:
    """Where the workspace keeps its records and artifacts, and what it holds."""
    from mlyard.services.stats import workspace_stats

    options: WorkspaceOptions = ctx.find_root().obj
    workspace = options.open(create=False)
    info = {**workspace.describe(), **workspace_stats(workspace)}
    if output == OutputFormat.json:
        print_json(info)
    else:
        print_fields("workspace", info)
