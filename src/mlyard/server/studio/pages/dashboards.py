"""Dashboards (seed 004): the training dashboard — recent pipeline runs with their steps, and the
models tagged by partition as a grid, each cell the partition, its model and its run's metric,
shaded by rank so a glance over 56 models finds the weak ones; the monitoring dashboard — model
performance over time per monitor, the latest drift per monitor and feature (breaches
highlighted), stale models (model_staleness verdicts and `mlyard.model.stale` events); the scoring
dashboard — batch scoring runs with rows scored and failed and a summary of their predictions
(services/batch)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import RedirectResponse

from mlyard.entities.automation.event import MODEL_STALE
from mlyard.entities.jobs.job import Job
from mlyard.errors import NotFound
from mlyard.server.studio import monitor_views
from mlyard.server.studio.context import Studio, StudioContext, StudioRoute
from mlyard.services.batch import scoring_summary
from mlyard.services.events import outbox
from mlyard.services.execution import job_runs
from mlyard.services.model_registry import models
from mlyard.services.tracking import jobs

router = APIRouter(route_class=StudioRoute, include_in_schema=False)
PIPELINE_RUNS = 15
SHADES = 5  # rank buckets: 0 best … 4 worst
SCORING_RUNS = 50
DRIFT_TYPES = ("data_drift", "prediction_drift")
STALE_EVENTS = 20


@dataclass
class Cell:
    """One partition's model in the grid: its latest version and its producing run's metrics."""

    partition: str
    model: str
    version: str
    metrics: dict[str, float] = field(default_factory=dict)
    shade: int | None = None  # None: no value of the chosen metric to rank


@router.get("/w/{ws}/dashboards")
def dashboards(studio: StudioContext) -> Response:
    return RedirectResponse(studio.url("/dashboards/training"), status_code=303)


@router.get("/w/{ws}/dashboards/training")
def training_dashboard(
    studio: StudioContext,
    tag: Annotated[str, Query(min_length=1, max_length=250)] = "partition",
    metric: Annotated[str | None, Query(max_length=250)] = None,
    goal: Literal["minimize", "maximize"] = "minimize",
) -> Response:
    pipelines = jobs.search_jobs(
        studio.workspace, "attributes.type = 'pipeline'", max_results=PIPELINE_RUNS, parent=""
    )
    steps = {run.id: _steps(studio, run) for run in pipelines}
    cells = _partition_cells(studio, tag)
    counts = Counter(key for cell in cells for key in cell.metrics)
    chosen = metric or (counts.most_common(1)[0][0] if counts else None)
    if chosen:
        _shade(cells, chosen, goal)
    view = {"tag": tag, "metric": chosen, "goal": goal}
    return studio.render(
        "dashboard_training.html", pipelines=pipelines, steps=steps, cells=cells, view=view,
        metrics=sorted(counts),
    )  # fmt: skip


def _steps(studio: Studio, run: Job) -> list[Job]:
    children = job_runs.children(studio.workspace, run.id)
    return [jobs.get_job(studio.workspace, child) for child, _, _ in children]


def _partition_cells(studio: Studio, tag: str) -> list[Cell]:
    """The latest version of each model carrying `tag` (on the version, or on the model)."""
    cells = []
    for model in models.list_models(studio.workspace):
        if model.latest_version is None:
            continue
        version = models.get_model_version(studio.workspace, f"{model.name}:{model.latest_version}")
        partition = version.tags.get(tag) or model.tags.get(tag)
        if partition is None:
            continue
        cells.append(Cell(partition, model.name, version.version, _metrics_of(studio, version.job_id)))
    return sorted(cells, key=lambda cell: (cell.partition, cell.model))


def _metrics_of(studio: Studio, job_id: str | None) -> dict[str, float]:
    if job_id is None:
        return {}
    try:
        return jobs.get_job(studio.workspace, job_id).metrics
    except NotFound:  # the producing run was deleted
        return {}


def _shade(cells: list[Cell], metric: str, goal: str) -> None:
    """Rank the cells by `metric` (best first for `goal`) into SHADES equal buckets."""
    ranked = sorted(
        (cell for cell in cells if metric in cell.metrics),
        key=lambda cell: cell.metrics[metric],
        reverse=goal == "maximize",
    )
    for rank, cell in enumerate(ranked):
        cell.shade = rank * SHADES // len(ranked)


@router.get("/w/{ws}/dashboards/scoring")
def scoring_dashboard(studio: StudioContext) -> Response:
    runs = scoring_summary.scoring_runs(studio.workspace, SCORING_RUNS)
    totals = {
        "runs": len(runs),
        "rows": sum(run.rows_scored or 0 for run in runs),
        "failed": sum(run.rows_failed or 0 for run in runs),
    }
    return studio.render("dashboard_scoring.html", runs=runs, totals=totals, shown=SCORING_RUNS)


@router.get("/w/{ws}/dashboards/monitoring")
def monitoring_dashboard(studio: StudioContext) -> Response:
    workspace = studio.workspace
    statuses = monitor_views.statuses(workspace)
    performance = [
        chart
        for status in statuses
        for chart in monitor_views.signal_charts(
            workspace, status.monitor.name, status.details.verdicts, ["model_performance"]
        )
    ]
    latest = [(status.monitor, v) for status in statuses for v in status.details.verdicts]
    return studio.render(
        "dashboard_monitoring.html", statuses=statuses, performance=performance,
        drift=[(m, v) for m, v in latest if v.signal_type in DRIFT_TYPES],
        stale=[(m, v) for m, v in latest if v.signal_type == "model_staleness"],
        stale_events=outbox.list_events(workspace, [MODEL_STALE], limit=STALE_EVENTS),
        alerts=monitor_views.open_alerts(workspace),
    )  # fmt: skip
