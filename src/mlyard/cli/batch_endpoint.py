"""`mlyard batch-endpoint create|show|list|update|delete|invoke|list-jobs`, as `az ml batch-endpoint`.

mlyard batch-endpoint create --file endpoint.yml            (or --name diabetes-batch)
mlyard batch-endpoint invoke --name diabetes-batch --input diabetes@latest --stream
mlyard batch-endpoint invoke --name diabetes-batch --resume JOB_ID     # a crashed job: score the rest
mlyard batch-endpoint update --name diabetes-batch --set defaults.deployment_name=green
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mlyard.cli.context import client_of, workspace_options
from mlyard.cli.output import (
    for_people,
    parse_pairs,
    print_fields,
    print_table,
    printed_for_scripts,
    say,
)

if TYPE_CHECKING:
    from mlyard.entities.jobs.job import Job

app = typer.Typer(
    help="Score files and tables as jobs: batch endpoints (see batch-deployment).", no_args_is_help=True
)

NameOption = Annotated[str, typer.Option("--name", "-n", help="the batch endpoint")]
_PROGRESS = re.compile(r"^\[batch\] progress: (\d+)/(\d+) mini-batches, (\d+) items scored, (\d+) failed")


@app.command("create")
def create(
    ctx: typer.Context,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="endpoint YAML")] = None,
    name: Annotated[
        str | None, typer.Option("--name", "-n", help="the endpoint's name (over the file's)")
    ] = None,
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
) -> None:
    """Create a batch endpoint; then add a deployment with `mlyard batch-deployment create`."""
    if file is None and name is None:
        from mlyard.errors import InvalidArgument

        raise InvalidArgument("give --file endpoint.yml or --name NAME")
    endpoint = client_of(ctx, create=True).batch_endpoints.create(file, name=name, description=description)
    if printed_for_scripts(endpoint.model_dump(mode="json")):
        return
    say(f"created batch endpoint {endpoint.name}")
    say(
        f"add a deployment: mlyard batch-deployment create --file deploy.yml (endpoint_name: {endpoint.name})"
    )


@app.command("show")
def show(ctx: typer.Context, name: NameOption) -> None:
    """One batch endpoint: its deployments and which is the default."""
    endpoint = client_of(ctx).batch_endpoints.get(name)
    if printed_for_scripts(endpoint.model_dump(mode="json")):
        return
    print_fields(f"batch endpoint {endpoint.name}", endpoint.model_dump(exclude={"name"}))


@app.command("list")
def list_endpoints(ctx: typer.Context) -> None:
    """Every batch endpoint."""
    endpoints = client_of(ctx).batch_endpoints.list()
    if printed_for_scripts([e.model_dump(mode="json") for e in endpoints]):
        return
    print_table("batch endpoints", ["name", "default deployment", "deployments", "description"], [
        [e.name, e.default_deployment, e.deployments, e.description] for e in endpoints
    ])  # fmt: skip


@app.command("update")
def update(
    ctx: typer.Context,
    name: NameOption,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="defaults.deployment_name=NAME, description=…, tags.KEY=VALUE (repeatable)"
        ),
    ] = None,
) -> None:
    """Change an endpoint: its default deployment, description or tags."""
    endpoint = client_of(ctx).batch_endpoints.update(name, parse_pairs(set_, "--set"))
    if printed_for_scripts(endpoint.model_dump(mode="json")):
        return
    default = endpoint.default_deployment or "none"
    say(f"updated batch endpoint {endpoint.name} (default deployment: {default})")


@app.command("delete")
def delete(ctx: typer.Context, name: NameOption) -> None:
    """Delete an endpoint and its deployments (the jobs they ran, and their outputs, stay)."""
    client_of(ctx).batch_endpoints.delete(name)
    if not printed_for_scripts({"name": name, "deleted": True}):
        say(f"deleted batch endpoint {name}")


@app.command("invoke")
def invoke(
    ctx: typer.Context,
    name: NameOption,
    input: Annotated[
        str | None,
        typer.Option(
            "--input", "-i", help="data asset (name:version, name@latest), job output, folder or file"
        ),
    ] = None,
    input_type: Annotated[
        str | None, typer.Option("--input-type", help="uri_file | uri_folder | mltable (default: what it is)")
    ] = None,
    deployment_name: Annotated[
        str | None, typer.Option("--deployment-name", "-d", help="default: the endpoint's default")
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option("--resume", help="re-run a crashed batch job, keeping the mini-batches it finished"),
    ] = None,
    stream: Annotated[
        bool,
        typer.Option(
            "--stream", "-s", help="show progress until the job ends; exit non-zero unless it completes"
        ),
    ] = False,
) -> None:
    """Start a batch job scoring INPUT with a deployment; prints where its predictions will be."""
    client = client_of(ctx)
    job = client.batch_endpoints.invoke(
        name, input, deployment_name=deployment_name, input_type=input_type, resume=resume
    )
    if not stream:
        if printed_for_scripts(job.summary()):
            return
        what = f"resuming job {resume}" if resume else f"deployment {job.tags.get('mlyard.batch_deployment')}"
        say(f"batch job {job.id} queued: endpoint {name}, {what}")
        say(f"its predictions will be output 'score' of job {job.id}; follow it: mlyard job stream {job.id}")
        say(f"fetch them with: mlyard job download {job.id} --output-name score")
        return
    ended = _follow_with_progress(client, job.id, quiet=not for_people())
    if not printed_for_scripts(ended.summary()):
        _report(ctx, client, ended)
    from mlyard.runtime.streaming import require_completed

    require_completed(ended)


@app.command("list-jobs")
def list_jobs(
    ctx: typer.Context,
    name: NameOption,
    deployment_name: Annotated[str | None, typer.Option("--deployment-name", "-d")] = None,
) -> None:
    """The endpoint's batch jobs, newest first."""
    show_jobs(
        client_of(ctx).batch_endpoints.list_jobs(name, deployment_name),
        f"jobs of batch endpoint {name}",
    )


def show_jobs(jobs: list[Job], title: str) -> None:
    if printed_for_scripts([job.summary() for job in jobs]):
        return
    print_table(title, ["id", "deployment", "status", "started", "duration (s)", "scored", "failed"], [
        [j.id, j.tags.get("mlyard.batch_deployment"), j.status.value, j.start_time, j.duration_seconds,
         j.metrics.get("batch.items_scored"), j.metrics.get("batch.items_failed")]
        for j in jobs
    ])  # fmt: skip


def _follow_with_progress(client: Any, job_id: str, quiet: bool) -> Job:
    """Follow the job's log: a Rich progress bar from its `[batch] progress` lines, other lines above."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    progress = Progress(
        TextColumn("[bold]scoring"), BarColumn(), MofNCompleteColumn(), TextColumn("mini-batches"),
        TextColumn("{task.fields[items]} items, {task.fields[failed]} failed"), TimeElapsedColumn(),
        console=console, transient=False, disable=quiet,
    )  # fmt: skip
    task = progress.add_task("scoring", total=None, items=0, failed=0)
    pending = [""]

    def write(text: str) -> None:
        pending[0] += text
        *lines, pending[0] = pending[0].split("\n")
        for line in lines:
            match = _PROGRESS.match(line)
            if match:
                done, total, items, failed = map(int, match.groups())
                progress.update(task, completed=done, total=total, items=items, failed=failed)
            elif line.strip() and not quiet:
                progress.console.print(line, highlight=False, markup=False)

    say(f"batch job {job_id} started; showing its progress (Ctrl-C stops following, not the job)")
    with progress:
        job: Job = client.jobs.stream(job_id, write)
    return job


def _report(ctx: typer.Context, client: Any, job: Job) -> None:
    duration = f" in {job.duration_seconds:.1f}s" if job.duration_seconds is not None else ""
    scored, failed = job.metrics.get("batch.items_scored"), job.metrics.get("batch.items_failed")
    counts = (
        f": {scored:.0f} items scored, {failed:.0f} failed"
        if scored is not None and failed is not None
        else ""
    )
    say(f"batch job {job.id} {job.status.value}{duration}{counts}")
    from mlyard.entities.endpoints.batch_job import RESULT_TAG

    result = job.tags.get(RESULT_TAG, "")
    if result.startswith("partial"):
        say(f"warning: {result}")
    outputs = {output.name: output for output in client.jobs.outputs(job.id)}
    if "score" not in outputs:
        return
    where = outputs["score"].artifact_path
    options = workspace_options(ctx)
    local = None if options.is_remote else options.open().artifacts.local_path(where)
    files = sorted(p for p in local.iterdir() if p.is_file()) if local is not None and local.is_dir() else []
    for file in files:
        say(f"output 'score': {file}")
    if not files:
        say(f"output 'score': {where}")
    say(f"download it with: mlyard job download {job.id} --output-name score")
