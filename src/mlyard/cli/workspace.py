"""`mlyard workspace create|show`."""

from __future__ import annotations

from typing import Annotated

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


settings_app = typer.Typer(
    help="Workspace rules: protected aliases, self-approval, job nesting depth.", no_args_is_help=True
)
app.add_typer(settings_app, name="settings")


@settings_app.command("show")
def settings_show(ctx: typer.Context, output: OutputOption = OutputFormat.table) -> None:
    """The workspace's rules (gated promotion, how deep jobs may submit jobs)."""
    from mlyard.cli.context import client_of

    found = client_of(ctx).settings.get()
    if output == OutputFormat.json:
        print_json(found.model_dump())
    else:
        print_fields("workspace settings", found.model_dump())


@settings_app.command("set")
def settings_set(
    ctx: typer.Context,
    pairs: Annotated[list[str], typer.Argument(help="NAME=VALUE: protected_aliases=production,staging …")],
) -> None:
    """Change settings (admin), e.g. `allow_self_approval=true`, `protected_aliases=production,staging`
    or `max_job_nesting_depth=4`."""
    from mlyard.cli.context import client_of
    from mlyard.cli.output import parse_pairs

    changes: dict[str, object] = {}
    for name, value in parse_pairs(pairs, "NAME=VALUE").items():
        if name == "protected_aliases":
            changes[name] = [alias.strip() for alias in value.split(",") if alias.strip()]
        elif value.lower() in ("true", "false", "yes", "no"):
            changes[name] = value.lower() in ("true", "yes")
        else:
            changes[name] = value
    updated = client_of(ctx).settings.update(**changes)
    say("settings updated")
    print_fields("workspace settings", updated.model_dump())
