"""`mlyard compute create|list|show|delete`: named targets for `compute:` in job YAML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from mlyard.cli.context import client_of
from mlyard.cli.output import parse_pairs, print_fields, print_table, printed_for_scripts, say

app = typer.Typer(
    help="Name compute targets (local processes or a Ray cluster) for jobs.", no_args_is_help=True
)


@app.command("create")
def create(
    ctx: typer.Context,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="compute YAML (Azure ML's); options below win over it")
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", "-n", help="the name jobs use: compute: azureml:NAME")
    ] = None,
    type: Annotated[
        str | None,
        typer.Option(
            "--type",
            "-t",
            help="local (default), ray, or docker (jobs in their image, with docker or podman)",
        ),
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(
            "--address",
            help="Ray cluster address, e.g. ray://head:10001 or auto; for docker: docker or podman",
        ),
    ] = None,
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="with --file: override a field (repeatable)")
    ] = None,
) -> None:
    """Create a named compute target; YAML naming it (`compute: azureml:NAME`) then runs unchanged."""
    client = client_of(ctx, create=True)
    if file is not None:
        fields = {"type": type, "address": address, "description": description}
        overrides = {k: json.dumps(v) for k, v in fields.items() if v is not None}  # text, not YAML
        compute = client.computes.create_or_update(file, name, overrides | parse_pairs(set_, "--set"))
    else:
        from mlyard.errors import InvalidArgument

        if set_:
            raise InvalidArgument("--set changes the fields of a YAML: give it with --file")
        if name is None:
            raise InvalidArgument("give a compute YAML (--file) or --name")
        compute = client.computes.create(name, type or "local", address, description)
    if printed_for_scripts(compute.model_dump(mode="json")):
        return
    where = f" at {compute.address}" if compute.address else ""
    say(f"created compute {compute.name} ({compute.type}{where})")


@app.command("list")
def list_computes(ctx: typer.Context) -> None:
    """Built-in and created compute targets."""
    computes = client_of(ctx).computes.list()
    if printed_for_scripts([c.model_dump(mode="json") for c in computes]):
        return
    print_table("compute targets", ["name", "type", "address", "description"], [
        [c.name, c.type, c.address, c.description] for c in computes
    ])  # fmt: skip


@app.command("show")
def show(ctx: typer.Context, name: str) -> None:
    """One compute target."""
    compute = client_of(ctx).computes.get(name)
    if printed_for_scripts(compute.model_dump(mode="json")):
        return
    print_fields(f"compute {compute.name}", compute.model_dump(exclude={"name"}))


@app.command("delete")
def delete(ctx: typer.Context, name: str) -> None:
    """Delete a created compute target (jobs naming it are then refused)."""
    client_of(ctx).computes.delete(name)
    if not printed_for_scripts({"name": name, "deleted": True}):
        say(f"deleted compute {name}")
