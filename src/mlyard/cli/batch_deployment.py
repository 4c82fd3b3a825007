"""`mlyard batch-deployment create|show|list|update|delete|list-jobs`, as `az ml batch-deployment`.

mlyard batch-deployment create --file deployment.yml --set-default
mlyard batch-deployment update --endpoint-name diabetes-batch --name ridge --set mini_batch_size=100
mlyard batch-deployment list-jobs --endpoint-name diabetes-batch --name ridge
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlyard.cli.batch_endpoint import show_jobs
from mlyard.cli.context import client_of
from mlyard.cli.output import (
    for_people,
    parse_pairs,
    print_fields,
    print_table,
    printed_for_scripts,
    say,
)

if TYPE_CHECKING:
    from mlyard.entities.endpoints.batch_endpoint import BatchDeployment

app = typer.Typer(help="Deploy a model to a batch endpoint: what its jobs score with.", no_args_is_help=True)

EndpointOption = Annotated[str, typer.Option("--endpoint-name", "-e", help="the batch endpoint")]
NameOption = Annotated[str, typer.Option("--name", "-n", help="the deployment")]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="a field: mini_batch_size=20, resources.instance_count=2, … (repeatable)"),
]


def _done(deployment: BatchDeployment, verb: str) -> None:
    if printed_for_scripts(deployment.model_dump(mode="json")):
        return
    default = " (the endpoint's default)" if deployment.is_default else ""
    which = f"{deployment.endpoint_name}/{deployment.name}"
    workers = f"{deployment.workers} worker(s)"
    say(f"{verb} batch deployment {which}: model {deployment.model_ref}, {workers}{default}")


@app.command("create")
def create(
    ctx: typer.Context,
    file: Annotated[Path, typer.Option("--file", "-f", help="deployment YAML")],
    set_default: Annotated[
        bool, typer.Option("--set-default", help="make it the endpoint's default deployment")
    ] = False,
    set_: SetOption = None,
) -> None:
    """Create a deployment: its model pinned to a version, code stored, environment resolved."""
    deployment = client_of(ctx).batch_deployments.create(
        file, set_default=set_default, overrides=parse_pairs(set_, "--set")
    )
    _done(deployment, "created")
    if for_people():
        say(f"score with it: mlyard batch-endpoint invoke --name {deployment.endpoint_name} --input DATA"
            + ("" if deployment.is_default else f" --deployment-name {deployment.name}"))  # fmt: skip


@app.command("show")
def show(
    ctx: typer.Context,
    endpoint_name: EndpointOption,
    name: NameOption,
) -> None:
    """One deployment, with its settings."""
    deployment = client_of(ctx).batch_deployments.get(endpoint_name, name)
    if printed_for_scripts(deployment.model_dump(mode="json")):
        return
    fields = deployment.model_dump(mode="json", exclude={"name", "environment", "settings"})
    fields.update(deployment.settings.model_dump(mode="json"))
    print_fields(f"batch deployment {endpoint_name}/{name}", fields)


@app.command("list")
def list_deployments(ctx: typer.Context, endpoint_name: EndpointOption) -> None:
    """The endpoint's deployments."""
    deployments = client_of(ctx).batch_deployments.list(endpoint_name)
    if printed_for_scripts([d.model_dump(mode="json") for d in deployments]):
        return
    print_table(f"deployments of batch endpoint {endpoint_name}",
                ["name", "default", "model", "scoring", "workers", "mini_batch_size", "output"], [
        [d.name, "yes" if d.is_default else "", d.model_ref, d.scoring_script or "no-code", d.workers,
         d.settings.mini_batch_size, d.settings.output_action]
        for d in deployments
    ])  # fmt: skip


@app.command("update")
def update(
    ctx: typer.Context,
    endpoint_name: EndpointOption,
    name: NameOption,
    set_: SetOption = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="the whole deployment, again")] = None,
    set_default: Annotated[bool, typer.Option("--set-default")] = False,
) -> None:
    """Change settings with --set, or give the YAML again (--file) for a new model, code or environment."""
    deployment = client_of(ctx).batch_deployments.update(
        endpoint_name, name, parse_pairs(set_, "--set"), source=file, set_default=set_default
    )
    _done(deployment, "updated")


@app.command("delete")
def delete(ctx: typer.Context, endpoint_name: EndpointOption, name: NameOption) -> None:
    """Delete a deployment (not the default while others remain)."""
    client_of(ctx).batch_deployments.delete(endpoint_name, name)
    if not printed_for_scripts({"endpoint_name": endpoint_name, "name": name, "deleted": True}):
        say(f"deleted batch deployment {endpoint_name}/{name}")


@app.command("list-jobs")
def list_jobs(
    ctx: typer.Context,
    endpoint_name: EndpointOption,
    name: NameOption,
) -> None:
    """The batch jobs this deployment ran, newest first."""
    show_jobs(
        client_of(ctx).batch_deployments.list_jobs(endpoint_name, name),
        f"jobs of {endpoint_name}/{name}",
    )
