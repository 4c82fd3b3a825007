"""`mlyard job create|stream|cancel|delete|list|show|download|metric-history` (a tracked run is a job too)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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
from mlyard.services.workspaces.workspace_location import resolve_path

app = typer.Typer(
    help="Submit, follow, cancel, list and inspect jobs and their run records.", no_args_is_help=True
)


@app.command("create")
def create(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Option("--file", "-f", help="job YAML: command, pipeline, sweep or parallel")
    ],
    stream: Annotated[bool, typer.Option("--stream", "-s", help="follow the log until the job ends")] = False,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="override a field: inputs.alpha=0.3 (repeatable)")
    ] = None,
    experiment_name: Annotated[str | None, typer.Option("--experiment-name", "-e")] = None,
    display_name: Annotated[str | None, typer.Option("--display-name")] = None,
) -> None:
    """Submit a job from YAML and start it; with --stream, follow it and exit non-zero unless it completes."""
    options = workspace_options(ctx)
    overrides = parse_pairs(set_, "--set")
    if options.is_remote:
        job = options.client().jobs.create(file, overrides, experiment_name, display_name)
    else:
        from mlyard.runtime.runner_process import PendingRunner  # light: the runner starts first

        with PendingRunner(resolve_path(options.path), options.db, options.artifacts) as runner:
            # The runner does its imports while the job is checked and recorded here.
            from mlyard.services.submission.dispatch import submit_job_file

            workspace = options.open(create=True)
            job = submit_job_file(workspace, file, overrides, experiment_name, display_name)
            runner.assign(workspace, job.id)
    if not stream:
        if not printed_for_scripts(job.summary()):
            say(f"job {job.id} ({job.type}) queued in experiment {job.experiment}")
            say(f"follow it with: mlyard job stream {job.id}")
        return
    say(f"job {job.id} ({job.type}) started; streaming its log (Ctrl-C stops following, not the job)")
    _follow(ctx, job.id)


@app.command("stream")
def stream(ctx: typer.Context, job_id: str) -> None:
    """Follow a job's log until it ends; exit non-zero unless it completed."""
    _follow(ctx, job_id)


@app.command("cancel")
def cancel(ctx: typer.Context, job_id: str) -> None:
    """Stop a job and its child jobs (SIGTERM, then SIGKILL after a grace period); it ends Canceled."""
    status = client_of(ctx).jobs.cancel(job_id)
    if printed_for_scripts({"id": job_id, "status": status.value}):
        return
    if status.is_terminal:
        say(f"job {job_id} {status.value}")
    else:
        say(f"job {job_id}: cancel requested; its runner stops it and records Canceled")


@app.command("delete")
def delete(
    ctx: typer.Context,
    job_id: str,
    permanent: Annotated[
        bool, typer.Option("--permanent", help="required: confirms the job goes for good, with its files")
    ] = False,
) -> None:
    """Delete an ended job and the jobs below it for good: rows and files, as MLflow's gc (admins only)."""
    from mlyard.errors import InvalidArgument

    if not permanent:
        raise InvalidArgument("mlyard deletes jobs only for good: add --permanent to confirm you mean it")
    deleted = client_of(ctx).jobs.delete_permanently(job_id)
    if not printed_for_scripts({"id": job_id, "deleted": deleted}):
        below = f" and {len(deleted) - 1} job(s) below it" if len(deleted) > 1 else ""
        say(f"deleted job {job_id}{below} for good")


def _follow(ctx: typer.Context, job_id: str) -> None:
    from mlyard.runtime.streaming import require_completed

    jobs = client_of(ctx).jobs
    job = jobs.stream(job_id, None if for_people() else (lambda _: None))
    if not printed_for_scripts(job.summary()):
        duration = f" in {job.duration_seconds:.1f}s" if job.duration_seconds is not None else ""
        say(f"job {job.id} {job.status.value}{duration}")
    require_completed(job)


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
    parent_job_name: Annotated[
        str | None, typer.Option("--parent-job-name", help="the steps, trials or mini-batches of this job")
    ] = None,
    all_jobs: Annotated[bool, typer.Option("--all", help="child jobs too")] = False,
) -> None:
    """Jobs, newest first, with their params and latest metrics (top-level jobs unless asked)."""
    client = client_of(ctx)
    client.jobs.reap_lost_runners()
    parent = parent_job_name if parent_job_name else (None if all_jobs else "")
    jobs = client.jobs.search(filter, order_by, experiment, max_results, parent_job_name=parent)
    if printed_for_scripts([job.summary() for job in jobs]):
        return
    print_table(
        f"{len(jobs)} job(s)",
        ["id", "type", "experiment", "status", "started", "duration", "params", "metrics"],
        [
            [
                j.id,
                j.type,
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
def show(ctx: typer.Context, job_id: str) -> None:
    """Everything a job recorded: status, params, metrics, tags, data it read, outputs, code and runtime."""
    client = client_of(ctx)
    client.jobs.reap_lost_runners()
    job = client.jobs.get(job_id)
    outputs = client.jobs.outputs(job_id)
    steps = [(child.id, child.status, child.display_name) for child in client.jobs.children(job_id)]
    if printed_for_scripts(
        {"name": job.id}
        | job.model_dump(mode="json")
        | {
            "duration_seconds": job.duration_seconds,
            "outputs": [o.model_dump(mode="json") for o in outputs],
            "children": [{"id": i, "status": s.value, "name": n} for i, s, n in steps],
        }
    ):
        return
    code = job.code
    print_fields(
        f"job {job.id}",
        {
            "experiment": job.experiment,
            "type": job.type,
            "display name": job.display_name,
            "status": job.status.value,
            "reused outputs of": job.reused_from,
            "started": job.start_time,
            "ended": job.end_time,
            "duration": f"{job.duration_seconds:.1f}s" if job.duration_seconds is not None else None,
            "error": job.error,
            "params": job.params,
            "metrics": job.metrics,
            "tags": job.tags,
            "inputs": [f"{i.kind} {i.name}:{i.version}" for i in job.inputs],
            "outputs": {o.name: o.asset_ref or o.artifact_path for o in outputs},
            "child jobs": {n or i: f"{i} {s.value}" for i, s, n in steps},
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
def metric_history(ctx: typer.Context, job_id: str, key: str) -> None:
    """Every logged point of one metric of a job."""
    points = client_of(ctx).jobs.metric_history(job_id, key)
    if printed_for_scripts([p.to_dict() for p in points]):
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
    output_name: Annotated[str | None, typer.Option("--output-name", help="only this output")] = None,
    artifact_path: Annotated[
        str | None, typer.Option("--artifact-path", help="only this artifact file or folder")
    ] = None,
) -> None:
    """Download a job's logs, outputs and artifacts (into DOWNLOAD_PATH/JOB_ID)."""
    target = client_of(ctx).jobs.download(job_id, download_path / job_id, artifact_path, output_name)
    if not printed_for_scripts({"id": job_id, "path": str(target)}):
        say(f"downloaded to {target}")


@app.command("experiments")
def experiments(ctx: typer.Context) -> None:
    """Experiments and how many jobs each holds."""
    rows = client_of(ctx).jobs.experiments()
    if not printed_for_scripts([{"name": n, "jobs": c} for n, c in rows]):
        print_table("experiments", ["name", "jobs"], rows)
