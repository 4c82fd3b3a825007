"""`mlyard environment create|list|show|build`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlyard.cli.context import RegistryNameOption, client_of
from mlyard.cli.output import for_people, print_fields, print_table, printed_for_scripts, say

if TYPE_CHECKING:
    from mlyard.client.mlclient import MLClient
    from mlyard.entities.assets.environment import Environment
    from mlyard.entities.assets.environment_spec import ResolvedEnvironment
    from mlyard.runtime.environments import PythonEnvironment

app = typer.Typer(help="Register, inspect and build versioned environments.", no_args_is_help=True)


@app.command("create")
def create(
    ctx: typer.Context,
    file: Annotated[Path, typer.Option("--file", "-f", help="environment YAML (Azure ML schema)")],
    name: Annotated[str | None, typer.Option("--name", "-n", help="overrides the YAML's name")] = None,
    version: Annotated[str | None, typer.Option("--version", "-v", help="default: next number")] = None,
    build: Annotated[bool, typer.Option("--build", help="build the virtual environment now")] = False,
    registry_name: RegistryNameOption = None,
) -> None:
    """Register an environment YAML as a new immutable version (identical specs reuse theirs)."""
    client = client_of(ctx, create=True, registry_name=registry_name)
    registration = client.environments.create_or_update(file, name, version)
    environment = registration.environment
    if not for_people():
        result = environment.model_dump(mode="json") | {"created": registration.created}
        built = _build(client, environment.resolved) if build else None
        printed_for_scripts(result | ({"build": _build_json(built)} if built else {}))
        return
    say(registration.message)
    if environment.resolved.warning:
        say(f"[yellow]{_escape(environment.resolved.warning)}[/]")
    _print_environment(environment)
    if build:
        _build(client, environment.resolved)


@app.command("list")
def list_environments(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option("--name", "-n", help="list the versions of one")] = None,
    registry_name: RegistryNameOption = None,
) -> None:
    """Environments (latest version of each), or every version of one."""
    environments = client_of(ctx, registry_name=registry_name).environments.list(name)
    if printed_for_scripts([e.summary() for e in environments]):
        return
    print_table(
        f"{len(environments)} environment version(s)",
        ["name", "version", "python", "packages", "image", "hash", "created"],
        [
            [
                e.name,
                e.version,
                e.resolved.python_version,
                len(e.resolved.requirements),
                e.resolved.image,
                e.spec_hash[:12],
                e.created_at,
            ]
            for e in environments
        ],
    )


@app.command("show")
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="name:version or name@latest")],
    registry_name: RegistryNameOption = None,
) -> None:
    """One environment version: its spec and what it resolves to."""
    environment = client_of(ctx, registry_name=registry_name).environments.get(ref)
    if printed_for_scripts(environment.model_dump(mode="json")):
        return
    _print_environment(environment)


@app.command("build")
def build(
    ctx: typer.Context,
    ref: Annotated[
        str,
        typer.Argument(help="name:version, name@latest, an Azure ML curated name or an environment YAML"),
    ],
) -> None:
    """Build (or reuse) the virtual environment of an environment and print its folder."""
    client = client_of(ctx)
    built = _build(client, client.environments.resolve(ref))
    if printed_for_scripts(_build_json(built)):
        return
    typer.echo(str(built.path or built.python))


def _build(client: MLClient, resolved: ResolvedEnvironment | None) -> PythonEnvironment:
    def progress(line: str) -> None:
        typer.echo(line, err=True, nl=False)  # the build's own output, unwrapped

    built = client.environments.build_resolved(resolved, log=progress if for_people() else None)
    if built.spec_hash is None:
        say(f"inherit: runs in mlyard's own interpreter {built.python}")
    elif built.reused:
        say(f"environment {built.spec_hash[:12]} reused: {built.python}")
    else:
        say(f"environment {built.spec_hash[:12]} built in {built.seconds:.1f} s: {built.python}")
    return built


def _build_json(built: PythonEnvironment) -> dict[str, object]:
    return {
        "python": str(built.python),
        "path": str(built.path) if built.path else None,
        "spec_hash": built.spec_hash,
        "reused": built.reused,
        "seconds": round(built.seconds, 3),
    }


def _print_environment(environment: Environment) -> None:
    resolved = environment.resolved
    print_fields(
        f"environment {environment.ref}",
        {
            "description": environment.description,
            "tags": environment.tags,
            "python": resolved.python_version,
            "requirements": [_escape(r) for r in resolved.requirements],  # `pkg[extra]` is not markup
            "image": resolved.image,
            "curated equivalent": resolved.curated,
            "not honoured locally": [_escape(note) for note in resolved.ignored],
            "spec hash": environment.spec_hash,
            "created": environment.created_at,
            "created by": environment.created_by,
        },
    )


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
