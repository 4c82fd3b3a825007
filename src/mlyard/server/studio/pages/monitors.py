"""Monitors: every monitor with its target, signals, schedule, latest run and where it stands
(breached signals, ok, signal errors); a monitor's page — per signal the metric history against
its threshold, per feature the reference and production histograms of the latest run, the latest
verdicts, the alert states and the alert events, which reference was used, its runs — and "Run
now" for operators, which queues a monitor run by the same service `mlyard monitor run` uses."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import RedirectResponse

from mlyard.entities.jobs.job import QUEUE
from mlyard.runtime.child_jobs import notify_queued
from mlyard.server.studio import monitor_views
from mlyard.server.studio.context import StudioContext, StudioRoute
from mlyard.services.monitors import alerts, monitors, runs

router = APIRouter(route_class=StudioRoute, include_in_schema=False)
RUNS_SHOWN = 20


@router.get("/w/{ws}/monitors")
def monitor_list(studio: StudioContext) -> Response:
    found = monitor_views.statuses(studio.workspace)
    return studio.render("monitors.html", found=found)


@router.get("/w/{ws}/monitors/{name}")
def monitor_page(studio: StudioContext, name: str) -> Response:
    workspace = studio.workspace
    status = monitor_views.status_of(workspace, monitors.get_monitor(workspace, name), runs=RUNS_SHOWN)
    verdicts = status.details.verdicts
    references: dict[str, str] = {}
    for verdict in verdicts:
        if verdict.reference:
            references.setdefault(verdict.signal, verdict.reference)
    return studio.render(
        "monitor.html", status=status, monitor=status.monitor, details=status.details,
        charts=monitor_views.signal_charts(workspace, name, verdicts),
        histograms=monitor_views.histograms(verdicts), states=alerts.alert_states(workspace, name),
        events=monitor_views.monitor_events(workspace, status.monitor), references=references,
        shown=RUNS_SHOWN,
    )  # fmt: skip


@router.post("/w/{ws}/monitors/{name}/run")
def run_now(studio: StudioContext, name: str) -> Response:
    """Queue a monitor run (the server's workers run it, as they run a schedule's) and open its job."""
    studio.require("operator")
    job = runs.submit_monitor_run(studio.workspace, name, dispatch=QUEUE)
    notify_queued()  # this server's workers look at once
    return RedirectResponse(studio.url(f"/jobs/{job.id}"), status_code=303)
