"""Compare 2–N runs: params and metrics side by side ("differences only" on demand) and overlaid
metric charts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from mlyard.errors import InvalidArgument
from mlyard.server.studio.context import StudioContext, StudioRoute
from mlyard.services.tracking import jobs

router = APIRouter(route_class=StudioRoute, include_in_schema=False)
MAX_COMPARED = 20


@router.get("/w/{ws}/compare")
def compare_runs(
    studio: StudioContext,
    job: Annotated[list[str] | None, Query(max_length=MAX_COMPARED)] = None,
    diff: bool = False,
) -> Response:
    chosen = list(dict.fromkeys(job or []))  # the order given, each once
    if len(chosen) == 1:
        raise InvalidArgument("choose at least 2 runs to compare (tick them in the runs table)")
    found = [jobs.get_job(studio.workspace, job_id) for job_id in chosen]
    rows = []
    for kind in ("params", "metrics"):
        keys = sorted({key for run in found for key in getattr(run, kind)})
        for key in keys:
            values = [getattr(run, kind).get(key) for run in found]
            differs = len({repr(value) for value in values}) > 1
            if differs or not diff:
                rows.append((kind, key, values, differs))
    metric_keys = sorted({key for run in found for key in run.metrics})
    return studio.render("compare.html", runs=found, rows=rows, diff=diff, metric_keys=metric_keys)
