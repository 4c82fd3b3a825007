"""`mlyard online-deployment create|show|list|update|delete|get-logs|package`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mlyard.cli.context import client_of
from mlyard.cli.output import (
    parse_pairs,
    print_fields,
    print_table,
    printed_for_scripts,
    say,
)

if TYPE_CHECKING:
    from mlyard.entities.endpoints.endpoint import OnlineDeployment

app = typer.Typer(
    help="Deployments behind an online endpoint: a model, its environment and code, on N instances.",
    no_args_is_help=True,
)
EndpointOption = Annotated[str, typer.Option("--endpoint-name", "--endpoint", "-e", help="the endpoint")]
SetOption = Annotated[
    list[str] | None, typer.Option("--set", help="FIELD=VALUE, e.g. instance_count=2 (repeatable)")
]
NoWaitOption = Annotated[bool, typer.Option("--no-wait", help="return once recorded, without waiting")]


@app.command("create")
def create(
    ctx: typer.Context,
    file: Annotated[Path, typer.Option("--file", "-f", help="deployment YAML (Azure ML's)")],
    name: Annotated[str | None, typer.Option("--name", "-n", help="overrides the file's name")] = None,
    endpoint_name: Annotated[
        str | None,
        typer.Option("--endpoint-name", "--endpoint", "-e", help="overrides the file's endpoint_name"),
    ] = None,
    all_traffic: Annotated[
        bool, typer.Option("--all-traffic", help="send it 100 % once it is ready")
    ] = False,
    set_: SetOption = None,
    no_wait: NoWaitOption = False,
) -> None:
    """Create a deployment and wait until its instances are ready (exit 10 with the reason if they fail)."""
    overrides: dict[str, Any] = {**parse_pairs(set_, "--set"), **({"name": name} if name else {})}
    deployment = client_of(ctx).online_deployments.create(
        file, endpoint_name, all_traffic=all_traffic, wait=not no_wait, set=overrides or None
    )
    traffic = "; it takes all the traffic" if all_traffic else ""
    _print(deployment, f"deployment {deployment.name} of {deployment.endpoint_name}: "
           f"{deployment.provisioning_state.value}{traffic}")  # fmt: skip


@app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", "-n")],
    endpoint_name: EndpointOption,
) -> None:
    """The deployment: model, environment, code, settings, state (and why it failed)."""
    _print(client_of(ctx).online_deployments.get(name, endpoint_name))


@app.command("list")
def list_deployments(ctx: typer.Context, endpoint_name: EndpointOption) -> None:
    """The endpoint's deployments."""
    found = client_of(ctx).online_deployments.list(endpoint_name)
    if printed_for_scripts([d.summary() for d in found]):
        return
    print_table(
        f"{endpoint_name}: {len(found)} deployment(s)",
        ["name", "model", "instances", "generation", "state", "error"],
        [
            [
                d.name,
                d.model.ref if d.model else None,
                d.instance_count,
                d.generation,
                d.provisioning_state.value,
                (d.error or "").splitlines()[0] if d.error else None,
            ]
            for d in found
        ],  # fmt: skip
    )


@app.command("update")
def update(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option("--name", "-n", help="default: the file's name")] = None,
    endpoint_name: Annotated[
        str | None, typer.Option("--endpoint-name", "--endpoint", "-e", help="default: the file's")
    ] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="the deployment's new YAML")] = None,
    set_: SetOption = None,
    no_wait: NoWaitOption = False,
) -> None:
    """A rolling update (new instances ready before the old ones drain), from --file or --set."""
    from mlyard.errors import InvalidArgument

    if file is not None:
        from mlyard.entities.specs.spec_files import load_yaml

        data = load_yaml(file)
        name, endpoint_name = name or data.get("name"), endpoint_name or data.get("endpoint_name")
    if not name or not endpoint_name:
        raise InvalidArgument(
            "give the deployment's --name and --endpoint-name (or a --file that names them)"
        )
    deployment = client_of(ctx).online_deployments.update(
        str(name), str(endpoint_name), file, set=parse_pairs(set_, "--set") or None, wait=not no_wait
    )
    _print(deployment, f"deployment {deployment.name} of {deployment.endpoint_name}: generation "
           f"{deployment.generation} {deployment.provisioning_state.value}")  # fmt: skip


@app.command("delete")
def delete(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", "-n")],
    endpoint_name: EndpointOption,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="accepted for az ml compatibility")] = False,
) -> None:
    """Delete a deployment that takes no traffic; its instances finish what they serve, then stop."""
    client_of(ctx).online_deployments.delete(name, endpoint_name)
    if printed_for_scripts({"endpoint_name": endpoint_name, "name": name, "deleted": True}):
        return
    say(f"deleted deployment {name} of online endpoint {endpoint_name}")


@app.command("get-logs")
def get_logs(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", "-n")],
    endpoint_name: EndpointOption,
    lines: Annotated[int | None, typer.Option("--lines", "-l", min=1, help="only the last N lines")] = None,
) -> None:
    """What the supervisor did and what the instances printed (an init() traceback, a crash)."""
    text = client_of(ctx).online_deployments.get_logs(name, endpoint_name, lines)
    if printed_for_scripts(text):
        return
    typer.echo(text.rstrip("\n") if text else "(no logs yet: the deployment starts when a server serves it)")


@app.command("package")
def package(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", "-n")],
    endpoint_name: EndpointOption,
    output_path: Annotated[Path, typer.Option("--output-path", "-p", help="a new or empty folder")],
    image: Annotated[str | None, typer.Option("--image", help="the tag the manifests run")] = None,
) -> None:
    """Write a Docker build context and Kubernetes manifests (Deployment, Service, HPA) for it."""
    built = client_of(ctx).online_deployments.package(name, endpoint_name, output_path, image)
    if printed_for_scripts({"folder": str(built.folder), "image": built.image}):
        return
    say(
        f"packaged deployment {name} of {endpoint_name} in {built.folder}: build with `docker build -t "
        f"{built.image} {built.folder}`, then `kubectl apply -f {built.folder}/kubernetes`"
    )


def _print(deployment: OnlineDeployment, message: str | None = None) -> None:
    if printed_for_scripts(deployment.summary()):
        return
    if message:
        say(message)
    summary = deployment.summary()
    print_fields(f"deployment {deployment.name} of online endpoint {deployment.endpoint_name}", summary)
