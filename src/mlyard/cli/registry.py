"""`mlyard registry create|list|show|delete`: registries shared by the workspaces of this machine.

With `--url` (MLYARD_URL), `list` and `show` read the team server's registries
(`GET /api/v1/registries`, `GET /api/v1/registries/{name}`); creating and deleting one stays on
the machine that holds it (a server serves what its index or `--registry` names).
"""

from __future__ import annotations

from typing import Annotated

import typer

from mlyard.cli.context import client_of, workspace_options
from mlyard.cli.output import print_fields, print_table, printed_for_scripts, say

app = typer.Typer(
    help="Registries: models, environments, components and data shared by several workspaces.",
    no_args_is_help=True,
)


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", "-n")],
    path: Annotated[
        str | None, typer.Option("--path", help="its folder (default: $MLYARD_HOME/registries/NAME)")
    ] = None,
    db: Annotated[str | None, typer.Option("--db", help="database URL, e.g. postgresql+psycopg://…")] = None,
    artifacts: Annotated[str | None, typer.Option("--artifacts", help="artifact store URL")] = None,
) -> None:
    """Create a registry and record it in this machine's index, so every workspace finds it by name."""
    from mlyard.services.registries.registries import create_registry

    created = create_registry(name, path, db, artifacts)
    if printed_for_scripts(created):
        return
    say(
        f"created registry {name} at {created['path']}; reference its assets as azureml://registries/{name}/..."
    )


@app.command("list")
def list_registries(ctx: typer.Context) -> None:
    """The registries of this machine's index, or those the server of --url serves."""
    from mlyard.services.registries.registries import list_registries as listed

    found = client_of(ctx).list_registries() if workspace_options(ctx).is_remote else listed()
    if printed_for_scripts(found):
        return
    print_table(
        f"{len(found)} registr{'y' if len(found) == 1 else 'ies'}",
        ["name", "path", "database", "artifacts"],
        [[r["name"], r["path"], r.get("db"), r.get("artifacts")] for r in found],
    )


@app.command("show")
def show(ctx: typer.Context, name: Annotated[str, typer.Option("--name", "-n")]) -> None:
    """Where a registry keeps its records and artifacts (the server's view with --url)."""
    from mlyard.services.registries.registries import show_registry

    if workspace_options(ctx).is_remote:
        found = client_of(ctx, registry_name=name).workspace
    else:
        found = show_registry(name)
    if printed_for_scripts(found):
        return
    print_fields(f"registry {name}", {k: v for k, v in found.items() if k != "name"})


@app.command("delete")
def delete(
    name: Annotated[str, typer.Option("--name", "-n")],
    purge: Annotated[
        bool, typer.Option("--purge", help="also delete its folder (records and files)")
    ] = False,
) -> None:
    """Remove a registry from the index (its store stays unless --purge)."""
    from mlyard.services.registries.registries import delete_registry

    deleted = delete_registry(name, purge)
    if printed_for_scripts(deleted):
        return
    say(
        f"deleted registry {name}"
        + (" and its files" if purge else f"; its store stays at {deleted['path']}")
    )
