"""The studio: mlyard's web UI, served by the team server at `/`.

Server-rendered Jinja2 pages (autoescaped), htmx for partial updates, server-sent events for live
logs, uPlot for metric charts and dagre for pipeline graphs — vendored from npm into `static/vendor`
(`scripts/vendor_frontend.py`), so nothing is fetched at run time. Pages live under `/w/{ws}/…`
and call the same `services/` functions as the REST routes, with the same roles (see context.py).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
STATIC_PREFIX = "/studio/static"


def install(app: FastAPI) -> None:
    """Add the studio's pages and static files to the server's app."""
    from mlyard.server.studio.pages import ROUTERS

    for router in ROUTERS:
        app.include_router(router)
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC), name="studio-static")
