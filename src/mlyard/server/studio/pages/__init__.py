"""The studio's pages, one module per concept; `ROUTERS` in the order the app includes them (the
catch-all 404 page of `/w/{ws}/…` last)."""

from __future__ import annotations

from fastapi import APIRouter

from mlyard.server.studio.pages import (
    access,
    assets,
    compare,
    dashboards,
    data_assets,
    endpoints,
    entry,
    events,
    job_detail,
    jobs,
    models,
    overview,
    schedules,
)

ROUTERS: list[APIRouter] = [
    entry.router,
    overview.router,
    jobs.router,
    job_detail.router,
    compare.router,
    models.router,
    data_assets.router,
    endpoints.router,
    assets.router,
    dashboards.router,
    schedules.router,
    events.router,
    access.router,
    entry.fallback,
]
