"""`mlyard component create|list|show`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlyard.cli.context import RegistryNameOption, client_of
from mlyard.cli.output import print_fields, print_table, printed_for_scripts, say

if TYPE_CHECKING:
    from mlyard.entities.assets.component import Component

app = typer.Typer(help="Register and inspect versioned, reusable command components.", no_args_is_help=True)


@app.command("create")
def create(
    ctx: typer.Context,
    file: Annotated[Path, typer.Option("--file", "-f", help="command component YAML")],
    name: Annotated[str | None, typer.Option("--name", "-n", help="overrides the YAML's name")] = None,
    version: Annotated[str | None, typer.Option("--version", "-v", help="default: next number")] = None,
    registry_name: RegistryNameOption = None,
) -> None:
    """Register a component (its code folder is stored with it) as a new immutable version."""
    registration = client_of(ctx, create=True, registry_name=registry_name).components.register(
        file, name, version
    )
    if printed_for_scripts(_as_json(registration.component) | {"created": registration.created}):
        return
    say(registration.message)
    _print_component(registration.component)


@app.command("list")
def list_components(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Option("--name", "-n", help="list the versions of one component")
    ] = None,
    registry_name: RegistryNameOption = None,
) -> None:
    """Components (latest version of each), or every version of one."""
    found = client_of(ctx, registry_name=registry_name).components.list(name)
    if printed_for_scripts([_as_json(c) for c in found]):
        return
    print_table(
        f"{len(found)} component(s)",
        ["name", "version", "inputs", "outputs", "deterministic", "created"],
        [
            [
                c.name,
                c.version,
                list(c.spec.inputs),
                list(c.spec.outputs),
                c.spec.is_deterministic,
                c.created_at,
            ]
            for c in found
        ],
    )


@app.command("show")
def show(ctx: typer.Context, ref: str, registry_name: RegistryNameOption = None) -> None:
    """One component version: NAME:VERSION or NAME@latest."""
    component = client_of(ctx, registry_name=registry_name).components.get(ref)
    if printed_for_scripts(_as_json(component)):
        return
    _print_component(component)


def _as_json(component: Component) -> dict[str, object]:
    return component.model_dump(mode="json")


def _print_component(component: Component) -> None:
    spec = component.spec
    print_fields(
        f"component {component.ref}",
        {
            "description": component.description,
            "command": spec.command,
            "inputs": {k: f"{v.type}{' (optional)' if v.optional else ''}" for k, v in spec.inputs.items()},
            "outputs": {k: v.type for k, v in spec.outputs.items()},
            "environment": spec.environment
            if isinstance(spec.environment, str)
            else spec.environment and "inline",
            "deterministic": spec.is_deterministic,
            "code": component.code_path,
            "tags": component.tags,
            "created": component.created_at,
        },
    )
