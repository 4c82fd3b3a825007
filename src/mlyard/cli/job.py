"""`mlyard job list|show|metric-history|download` (a tracked run is a job record)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlyard.cli.context import workspace_of
from mlyard.cli.output import OutputFormat, OutputOption, print_fields, print_json, print_table, say

app = typer.Typer(help="List, inspect and download jobs and their run records.", no_args_is_help=True)


@app.command("list")
def list_jobs(
    ctx: typer.Context,
    experiment: Annotated[
        list[str] | None, typer.Option("--experiment", "-e", help="only these experiments")
    ] = None,
    filter: Annotated[
        str | None,
        typer.Option("--filter", "-f", help='e.g. "metrics.mse < 3000 and params.alpha > 0.1"'),
    ] = None,
    order_by: Annotated[list[str] | None, typer.Option("--order-by", help='e.g. "metrics.mse ASC"')] = None,
    max_results: Annotated[int, typer.Option("--max-results", "-n")] = 50,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Jobs, newest first, with their params and latest metrics."""
    from mlyard.services.jobs import search_jobs

    jobs = search_jobs(workspace_of(ctx), filter, order_by, experiment, max_results)
    if output == OutputFormat.json:
        print_json([job.summary() for job in jobs])
        return
    print_table(
        f"{len(jobs)} job(s)",
        ["id", "experiment", "status", "started", "duration", "params", "metrics"],
        [
            [
                j.id,
                j.experiment,
                j.status.value,
                j.start_time,
                f"{j.duration_seconds:.1f}s" if j.duration_seconds is not None else None,
                j.params,
                j.metrics,
            ]
            for j in jobs
        ],
    )


@app.command("show")
def show(ctx: typer.Context, job_id: str, output: OutputOption = OutputFormat.table) -> None:
    """Everything a job recorded: status, params, metrics, tags, data it read, code and runtime."""
    from mlyard.services.jobs import get_job

    job = get_job(workspace_of(ctx), job_id)
    if output == OutputFormat.json:
        print_json(job.model_dump(mode="json") | {"duration_seconds": job.duration_seconds})
        return
    code = job.code
    print_fields(
        f"job {job.id}",
        {
            "experiment": job.experiment,
            "display name": job.display_name,
            "status": job.status.value,
            "started": job.start_time,
            "ended": job.end_time,
            "duration": f"{job.duration_seconds:.1f}s" if job.duration_seconds is not None else None,
            "error": job.error,
            "params": job.params,
            "metrics": job.metrics,
            "tags": job.tags,
            "inputs": [f"{i.kind} {i.name}:{i.version}" for i in job.inputs],
            "parent job": job.parent_job_id,
            "code": code
            and {
                "dir": code.source_dir,
                "entry": code.entry_point,
                "hash": (code.source_hash or "")[:16],
                "git commit": code.git_commit,
                "branch": code.git_branch,
                "dirty": code.git_dirty,
            },
            "runtime": job.runtime
            and {
                "python": job.runtime.python_version,
                "host": job.runtime.host,
                "user": job.runtime.user,
                "packages": len(job.runtime.packages),
            },
        },
    )


@app.command("metric-history")
def metric_history(
    ctx: typer.Context, job_id: str, key: str, output: OutputOption = OutputFormat.table
) -> None:
    """Every logged point of one metric of a job."""
    from mlyard.services.jobs import metric_history as history

    points = history(workspace_of(ctx), job_id, key)
    if output == OutputFormat.json:
        print_json([p.to_dict() for p in points])
        return
    print_table(
        f"{key} of {job_id}",
        ["step", "value", "timestamp"],
        [[p.step, p.value, p.timestamp] for p in points],
    )


@app.command("download")
def download(
    ctx: typer.Context,
    job_id: str,
    download_path: Annotated[Path, typer.Option("--download-path", "-p")] = Path("."),
    artifact_path: Annotated[str | None, typer.Option("--artifact-path", help="one file or folder")] = None,
) -> None:
    """Download a job's artifacts."""
    from mlyard.services.job_artifacts import download_job_artifacts

    target = download_job_artifacts(workspace_of(ctx), job_id, download_path / job_id, artifact_path)
    say(f"downloaded to {target}")


@app.command("experiments")
def experiments(ctx: typer.Context, output: OutputOption = OutputFormat.table) -> None:
    """Experiments and how many jobs each holds."""
    from mlyard.services.jobs import list_experiments

    rows = list_experiments(workspace_of(ctx))
    if output == OutputFormat.json:
        print_json([{"name": n, "jobs": c} for n, c in rows])
    else:
        print_table("experiments", ["name", "jobs"], rows)
