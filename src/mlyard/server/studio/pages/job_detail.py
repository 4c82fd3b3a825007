"""One job: overview, metric charts (series downsampled here), live log tail (SSE), artifacts with
previews, child jobs, a pipeline's step graph, and a sweep's trials with their charts."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from mlyard.artifacts import safe_relpath
from mlyard.errors import Conflict
from mlyard.runtime.streaming import read_log
from mlyard.server.studio import previews
from mlyard.server.studio.context import StudioContext, StudioRoute
from mlyard.server.studio.graph import pipeline_graph
from mlyard.server.studio.series import series, x_axis
from mlyard.server.studio.sweep import sweep_trials
from mlyard.server.studio.templating import query
from mlyard.services.execution import job_runs
from mlyard.services.tracking import job_artifacts, job_deletion, jobs

router = APIRouter(route_class=StudioRoute, include_in_schema=False)
LOG_SHOWN_BYTES = 256 * 1024  # the page shows the log's tail; the rest is a download away
LOG_POLL_SECONDS = 0.5
LOG_STREAM_SECONDS = 3600.0  # the browser reconnects after this


@router.get("/w/{ws}/jobs/{job_id}")
def job_page(studio: StudioContext, job_id: str) -> Response:
    workspace = studio.workspace
    job = jobs.get_job(workspace, job_id)
    steps = [jobs.get_job(workspace, child) for child, _, _ in job_runs.children(workspace, job_id)]
    graph = sweep = None
    if job.type in ("pipeline", "sweep"):
        try:
            spec = job_runs.get_spec(workspace, job_id)
        except Conflict:  # a tracked run has no spec
            spec = None
        if job.type == "pipeline" and spec is not None:
            graph = pipeline_graph(spec, steps)
        if job.type == "sweep":
            sweep = sweep_trials(job, spec, steps)
    log = read_log(workspace, job_id)
    return studio.render(
        "job.html",
        job=job,
        steps=steps,
        graph=graph,
        sweep=sweep,
        outputs=job_runs.job_outputs(workspace, job_id),
        artifacts=job_artifacts.list_job_artifacts(workspace, job_id),
        log=log[-LOG_SHOWN_BYTES:].decode("utf-8", "replace"),
        log_offset=len(log),
        live=not job.status.is_terminal,
    )


@router.get("/w/{ws}/jobs/{job_id}/series")
def metric_series(
    studio: StudioContext,
    job_id: str,
    key: Annotated[str, Query(min_length=1, max_length=500)],
    x: Annotated[str, Query(max_length=20)] = "step",
) -> Response:
    """One metric as `{"x": [...], "y": [...]}`, at most 2,000 points (LTTB)."""
    axis = x_axis(x)
    points = jobs.metric_history(studio.workspace, job_id, key)
    return JSONResponse({"job": job_id, "key": key, "axis": axis, **series(points, axis)})


@router.get("/w/{ws}/jobs/{job_id}/log/events")
async def log_events(
    studio: StudioContext, job_id: str, request: Request, offset: Annotated[int, Query(ge=0)] = 0
) -> Response:
    """The log from `offset` on as server-sent events (`log` chunks, `status` changes), ending
    with `end` once the job has ended and everything it wrote was sent."""
    workspace = studio.workspace
    await run_in_threadpool(jobs.ensure_job_exists, workspace, job_id)

    async def events() -> AsyncIterator[str]:
        position, last_status, started = offset, None, time.monotonic()
        while time.monotonic() - started < LOG_STREAM_SECONDS and not await request.is_disconnected():
            status = await run_in_threadpool(job_runs.status_of, workspace, job_id)
            data = await run_in_threadpool(read_log, workspace, job_id, position)
            if data:
                position += len(data)
                yield f"event: log\ndata: {json.dumps(data.decode('utf-8', 'replace'))}\n\n"
            if status != last_status:
                last_status = status
                yield f"event: status\ndata: {json.dumps(status.value)}\n\n"
            if status.is_terminal and not data:
                yield "event: end\ndata: {}\n\n"
                return
            await asyncio.sleep(LOG_POLL_SECONDS)

    headers = {"cache-control": "no-cache", "x-accel-buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


@router.get("/w/{ws}/jobs/{job_id}/artifact")
def artifact_preview(
    studio: StudioContext, job_id: str, path: Annotated[str, Query(min_length=1, max_length=2000)]
) -> Response:
    """A logged file shown by kind: text, JSON (indented), CSV (a table), image, or its size only."""
    jobs.ensure_job_exists(studio.workspace, job_id)
    relative = safe_relpath(path)
    stored = f"{job_artifacts.job_artifact_root(job_id)}/{relative}"
    preview = previews.preview(studio.workspace, stored, relative)
    return studio.render("artifact.html", job_id=job_id, path=relative, preview=preview)


@router.get("/w/{ws}/jobs/{job_id}/artifact/raw")
def artifact_raw(
    studio: StudioContext, job_id: str, path: Annotated[str, Query(min_length=1, max_length=2000)]
) -> Response:
    """An image artifact's bytes for its preview (any other kind is served as a download)."""
    jobs.ensure_job_exists(studio.workspace, job_id)
    relative = safe_relpath(path)
    stored = f"{job_artifacts.job_artifact_root(job_id)}/{relative}"
    data, media_type = previews.raw(studio.workspace, stored)
    headers = {} if media_type.startswith("image/") else {"content-disposition": "attachment"}
    return Response(data, media_type=media_type, headers=headers)


@router.post("/w/{ws}/jobs/{job_id}/delete")
def delete_job(studio: StudioContext, job_id: str) -> Response:
    """Admins only: a confirmation page first; the form it posts back deletes the job for good
    (services/tracking/job_deletion, as `mlyard job delete --permanent`)."""
    studio.require("admin")
    job = jobs.get_job(studio.workspace, job_id)
    if studio.form.get("confirm") != "yes":
        below = len(job_runs.children(studio.workspace, job_id))
        return studio.render("job_delete.html", job=job, below=below)
    job_deletion.delete_job_permanently(studio.workspace, job_id)
    return RedirectResponse(studio.url("/jobs") + query(experiment=job.experiment), status_code=303)
