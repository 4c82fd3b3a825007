"""Schedules: every schedule with its next firings (the timing rule of services/schedules/timing.py,
the same the scheduler fires by), its last firing and the job it created; a schedule's history
(jobs created, firings failed, firings missed before each) and its spec; enable and disable for
operators — by the same service calls and roles as the REST API (`routes/events.py`)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import RedirectResponse

from mlyard.server.studio.context import Studio, StudioContext, StudioRoute
from mlyard.services.schedules import schedules

router = APIRouter(route_class=StudioRoute, include_in_schema=False)
HISTORY = 100


@router.get("/w/{ws}/schedules")
def schedule_list(studio: StudioContext) -> Response:
    return studio.render("schedules.html", found=schedules.due_next(studio.workspace))


@router.get("/w/{ws}/schedules/{name}")
def schedule_page(studio: StudioContext, name: str) -> Response:
    details = schedules.show_schedule(studio.workspace, name, firings=HISTORY)
    missed = schedules.missed_firings(studio.workspace, name, details.firings)
    return studio.render("schedule.html", details=details, missed=missed, shown=HISTORY)


def _set_enabled(studio: Studio, name: str, enabled: bool) -> Response:
    studio.require("operator")
    schedules.set_enabled(studio.workspace, name, enabled)
    back = "/schedules" if studio.form.get("back") == "list" else f"/schedules/{name}"
    return RedirectResponse(studio.url(back), status_code=303)


@router.post("/w/{ws}/schedules/{name}/enable")
def enable(studio: StudioContext, name: str) -> Response:
    return _set_enabled(studio, name, True)


@router.post("/w/{ws}/schedules/{name}/disable")
def disable(studio: StudioContext, name: str) -> Response:
    return _set_enabled(studio, name, False)
