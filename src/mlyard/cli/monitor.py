"""`mlyard monitor create|show|list|run|history|delete`: Azure ML's `create_monitor`, the short path.

`monitor create --file` takes the same YAML as `schedule create` (a trigger makes it a schedule
too; without one the monitor runs when asked). `monitor run` runs it now and waits: its exit code
says whether the run failed, never whether a threshold was breached (that is the verdicts' job).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mlyard.cli.context import client_of
from mlyard.cli.output import print_fields, print_table, printed_for_scripts, say

if TYPE_CHECKING:
    from mlyard.entities.automation.monitor import MonitorResult

app = typer.Typer(
    help="Monitors of deployed models and data (drift, quality, performance).", no_args_is_help=True
)
NameOption = Annotated[str, typer.Option("--name", "-n")]
HISTORY_SHOWN = 5


@app.command("create")
def create(
    ctx: typer.Context, file: Annotated[Path, typer.Option("--file", "-f", help="the monitor YAML")]
) -> None:
    """Create a monitor; its target, signals, metrics and data are all checked first."""
    monitor = client_of(ctx, create=True).monitors.create(file)
    if printed_for_scripts(monitor.model_dump(mode="json")):
        return
    how = f"on schedule {monitor.schedule}" if monitor.schedule else "when run: mlyard monitor run"
    say(
        f"monitor {monitor.name} created ({len(monitor.spec['monitoring_signals'])} signal(s)); it runs {how}"
    )


@app.command("show")
def show(ctx: typer.Context, name: NameOption) -> None:
    """The latest verdicts (per signal, feature and metric) and the last runs."""
    details = client_of(ctx).monitors.show(name)
    # -o json: one object per signal, feature and metric of the latest run (the shape).
    if printed_for_scripts([_verdict(v) for v in details.verdicts]):
        return
    monitor = details.monitor
    watched = f"{monitor.endpoint}:{monitor.deployment}" if monitor.endpoint else "data assets"
    print_fields(
        f"monitor {name}",
        {"target": f"{watched} ({monitor.target_kind})", "model": monitor.model, "schedule": monitor.schedule,
         "lookback": monitor.lookback, "latest run": details.latest_job,
         "reference used": "; ".join(sorted({v.reference for v in details.verdicts if v.reference}))},
    )  # fmt: skip
    print_table(
        "latest verdicts",
        ["signal", "feature", "metric", "value", "threshold", "verdict"],
        [[v.signal, v.feature, v.metric, _value(v.value), v.threshold, _word(v)] for v in details.verdicts],
    )
    print_table(
        f"last {len(details.runs)} run(s)",
        ["job", "status", "created", "breached", "signal errors"],
        [[r.job_id, r.status, r.created_at, r.breached, r.errors] for r in details.runs],
    )


@app.command("list")
def list_monitors(ctx: typer.Context) -> None:
    found = client_of(ctx).monitors.list()
    if printed_for_scripts([m.model_dump(mode="json") for m in found]):
        return
    print_table(
        f"{len(found)} monitor(s)",
        ["name", "target", "model", "signals", "schedule"],
        [[m.name, f"{m.endpoint}:{m.deployment}" if m.endpoint else "data", m.model,
          ", ".join(m.spec["monitoring_signals"]), m.schedule] for m in found],
    )  # fmt: skip


@app.command("run")
def run(ctx: typer.Context, name: NameOption) -> None:
    """Run the monitor now and wait; exit non-zero when the run fails (not when a threshold is breached)."""
    client = client_of(ctx)
    job = client.monitors.run(name)
    say(f"monitor {name}: job {job.id} started")
    ended = client.jobs.wait(job.id)
    details = client.monitors.show(name)
    verdicts = [v for v in details.verdicts if v.job_id == ended.id]
    if not printed_for_scripts({"job": ended.summary(), "verdicts": [_verdict(v) for v in verdicts]}):
        breached = sorted({v.signal for v in verdicts if v.breached})
        say(f"job {ended.id} {ended.status.value}; breached: {', '.join(breached) or 'none'}")
        if ended.error:
            say(ended.error)
    if ended.status.value != "Completed":
        raise typer.Exit(1)


@app.command("history")
def history(
    ctx: typer.Context,
    name: NameOption,
    signal: Annotated[str, typer.Option("--signal", "-s")],
    feature: Annotated[str, typer.Option("--feature", "-f")],
    metric: Annotated[str | None, typer.Option("--metric", "-m")] = None,
) -> None:
    """A signal's values for one feature across runs, oldest first."""
    found = client_of(ctx).monitors.history(name, signal, feature, metric)
    if printed_for_scripts([_verdict(v) | {"job_id": v.job_id, "created_at": v.created_at.isoformat()}
                            for v in found]):  # fmt: skip
        return
    print_table(
        f"{name} {signal} {feature}: {len(found)} value(s)",
        ["run at", "job", "metric", "value", "threshold", "verdict"],
        [[v.created_at, v.job_id, v.metric, _value(v.value), v.threshold, _word(v)] for v in found],
    )


@app.command("delete")
def delete(ctx: typer.Context, name: NameOption) -> None:
    """Remove the monitor and its schedule; its runs and results stay."""
    client_of(ctx).monitors.delete(name)
    if not printed_for_scripts({"name": name, "deleted": True}):
        say(f"monitor {name} deleted (its runs and results stay)")


def _verdict(result: MonitorResult) -> dict[str, Any]:
    """`-o json`'s object per feature: feature, metric, value, threshold, breached (plus signal)."""
    return {"signal": result.signal, "signal_type": result.signal_type, "feature": result.feature,
            "metric": result.metric, "value": result.value, "threshold": result.threshold,
            "breached": bool(result.breached), "error": result.error}  # fmt: skip


def _value(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def _word(result: MonitorResult) -> str:
    if result.error:
        return f"error: {result.error}"
    return "BREACHED" if result.breached else "ok"
