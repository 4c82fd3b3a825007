"""`mlyard schedule create|show|list|update|enable|disable|delete|trigger`: Azure ML schedule YAML
(cron, recurrence) and event triggers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlyard.cli.context import client_of
from mlyard.cli.output import print_fields, print_table, printed_for_scripts, say

if TYPE_CHECKING:
    from mlyard.entities.automation.schedule import Schedule

app = typer.Typer(help="Jobs created on a timer (cron, recurrence) or by events.", no_args_is_help=True)
FileOption = Annotated[Path, typer.Option("--file", "-f", help="the schedule YAML")]


@app.command("create")
def create(ctx: typer.Context, file: FileOption) -> None:
    """Create a schedule; the trigger, time zone and job are all checked first."""
    created = client_of(ctx, create=True).schedules.create(file)
    _print(created, "created")


@app.command("update")
def update(ctx: typer.Context, file: FileOption) -> None:
    """Replace the schedule the YAML names with what it says."""
    _print(client_of(ctx).schedules.update(file), "updated")


@app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", "-n")],
) -> None:
    """The schedule, its next five firing times and the jobs it created."""
    details = client_of(ctx).schedules.show(name)
    if printed_for_scripts(details.model_dump(mode="json")):
        return
    schedule = details.schedule
    print_fields(
        f"schedule {name}", schedule.model_dump(exclude={"create_job"}) | {"create_job": _job(schedule)}
    )
    print_table("next firings (UTC)", ["when"], [[when] for when in details.next_firings])
    print_table(
        f"{len(details.firings)} latest firing(s)",
        ["fired", "for", "reason", "state", "job", "error"],
        [[f.fired_at, f.scheduled_for, f.reason, f.state, f.job_id, f.error] for f in details.firings],
    )


@app.command("list")
def list_schedules(ctx: typer.Context) -> None:
    found = client_of(ctx).schedules.list()
    if printed_for_scripts([s.model_dump(mode="json") for s in found]):
        return
    print_table(
        f"{len(found)} schedule(s)",
        ["name", "trigger", "enabled", "next firing", "last fired", "job"],
        [[s.name, _trigger(s), s.enabled, s.next_fire_at, s.last_fired_at, _job(s)] for s in found],
    )


@app.command("enable")
def enable(ctx: typer.Context, name: Annotated[str, typer.Option("--name", "-n")]) -> None:
    """Fire again, from the next firing on (none of those missed while disabled)."""
    schedule = client_of(ctx).schedules.enable(name)
    if not printed_for_scripts(schedule.model_dump(mode="json")):
        say(f"schedule {name} enabled; next firing {schedule.next_fire_at or '(on its event)'}")


@app.command("disable")
def disable(ctx: typer.Context, name: Annotated[str, typer.Option("--name", "-n")]) -> None:
    schedule = client_of(ctx).schedules.disable(name)
    if not printed_for_scripts(schedule.model_dump(mode="json")):
        say(f"schedule {name} disabled")


@app.command("delete")
def delete(ctx: typer.Context, name: Annotated[str, typer.Option("--name", "-n")]) -> None:
    """Remove a schedule; the jobs it created stay."""
    client_of(ctx).schedules.delete(name)
    if not printed_for_scripts({"name": name, "deleted": True}):
        say(f"deleted schedule {name}")


@app.command("trigger")
def trigger(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", "-n")],
) -> None:
    """Fire once now; prints the job it created."""
    from mlyard.errors import InvalidArgument

    firing = client_of(ctx).schedules.trigger(name)
    if printed_for_scripts(firing.model_dump(mode="json")):
        return
    elif firing.job_id:
        say(f"schedule {name} fired: job {firing.job_id}")
        typer.echo(firing.job_id)
    if not firing.job_id:
        raise InvalidArgument(f"schedule {name} fired but created no job: {firing.error}")


def _print(schedule: Schedule, what: str) -> None:
    if printed_for_scripts(schedule.model_dump(mode="json")):
        return
    when = schedule.next_fire_at.isoformat() if schedule.next_fire_at else "on its event"
    say(f"{what} schedule {schedule.name}: {_trigger(schedule)}; next firing {when}")


def _trigger(schedule: Schedule) -> str:
    trigger = schedule.trigger
    if trigger["type"] == "cron":
        return f"cron {trigger['expression']} {trigger.get('time_zone', 'UTC')}"
    if trigger["type"] == "recurrence":
        return f"every {trigger.get('interval', 1)} {trigger['frequency']} {trigger.get('time_zone', 'UTC')}"
    return f"event {trigger['event_type']}"


def _job(schedule: Schedule) -> str:
    job = schedule.create_job
    if job.get("kind") == "monitor":
        return f"monitor {job['monitor']}"
    if job.get("kind") == "job":
        return f"azureml:{job['job_id']}"
    spec = job.get("spec", {})
    return f"{spec.get('type', 'command')} job" + (
        f" in {spec['experiment_name']}" if spec.get("experiment_name") else ""
    )
