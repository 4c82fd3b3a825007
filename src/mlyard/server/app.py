"""`create_app`: the FastAPI application of the team server, built from a `ServerConfig`.

Middleware, outermost first: request context (request id, metrics, last-resort 500) → the MLflow
API's default-workspace paths → body size limit (not for streamed artifact uploads) → FastAPI's
exception handlers (the JSON error shape) → routes. Scoring requests (`/endpoints/…`) skip all of
it: they go straight to the endpoint gateway (`serving/gateway.py`), which has its own limits,
errors and metrics.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from prometheus_client import CollectorRegistry
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from mlyard.entities.specs.names import validate_name
from mlyard.errors import InvalidArgument
from mlyard.server import mlflow, studio
from mlyard.server.auth import Authenticator
from mlyard.server.config import ServerConfig, WorkspaceLocation
from mlyard.server.error_handlers import install_error_handlers
from mlyard.server.middleware import BodyLimitMiddleware, HttpMetrics, RequestContextMiddleware
from mlyard.server.registries import RegistryPaths
from mlyard.server.routes import (
    access,
    assets,
    endpoints,
    events,
    files,
    jobs,
    maturity,
    monitors,
    promotions,
    queue,
    registries,
    registry,
    system,
)
from mlyard.server.routes.batch_endpoints import router as batch_endpoints_router
from mlyard.server.schemas.common import ErrorBody
from mlyard.server.spec_warnings import SpecWarningsMiddleware
from mlyard.server.uploads import Uploads
from mlyard.server.uploads import default_root as default_uploads_root
from mlyard.server.workspaces import ServedWorkspaces
from mlyard.serving.gateway import PREFIXES as GATEWAY_PREFIXES
from mlyard.serving.gateway import Gateway
from mlyard.serving.gateway_metrics import GatewayMetrics
from mlyard.serving.metrics_flush import MetricsFlusher
from mlyard.version import __version__

# Documented on every route: the shape all refusals share.
_ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 413, 500, 503)
}


class _ServerApp(FastAPI):
    """FastAPI, except that scoring requests go to the gateway before any middleware or routing."""

    gateway: Gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(GATEWAY_PREFIXES):
            await self.gateway(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(config: ServerConfig) -> FastAPI:
    """The app serving `config.workspaces`; opens nothing until a request (or `serve`) needs it."""
    _check_config(config)
    app = _ServerApp(
        lifespan=_lifespan,
        dependencies=[Depends(_refuse_nul_characters)],
        title="mlyard",
        version=__version__,
        description="The mlyard team server: REST API over the workspaces it serves.",
        responses=_ERROR_RESPONSES,
    )
    app.state.workspaces = ServedWorkspaces(config.workspaces, _registries(config))
    app.state.authenticator = Authenticator(app.state.workspaces, config.auth)
    app.state.uploads = Uploads(config.uploads_dir or default_uploads_root())
    app.state.config = config
    app.state.metrics_registry = CollectorRegistry(auto_describe=True)
    app.gateway = app.state.gateway = Gateway(
        GatewayMetrics(app.state.metrics_registry), config.max_body_bytes
    )
    app.state.local_secret = secrets.token_bytes(32)  # local clients' keys in server.json derive from it
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=config.max_body_bytes, exempt=_streams_its_body)
    app.add_middleware(
        mlflow.DefaultWorkspacePaths,
        workspace=mlflow.default_workspace(config.workspaces),
        served=sorted(config.workspaces),
    )
    app.add_middleware(RegistryPaths)
    app.add_middleware(SpecWarningsMiddleware)
    app.add_middleware(RequestContextMiddleware, metrics=HttpMetrics(app.state.metrics_registry))
    app.include_router(system.router)
    app.include_router(jobs.router)
    app.include_router(registries.router)
    app.include_router(registry.router)
    app.include_router(assets.router)
    app.include_router(files.router)
    app.include_router(queue.router)
    app.include_router(promotions.router)
    app.include_router(batch_endpoints_router)
    app.include_router(access.router)
    app.include_router(access.whoami_router)
    app.include_router(endpoints.router)
    app.include_router(events.router)
    app.include_router(maturity.router)
    app.include_router(monitors.router)
    for router in mlflow.ROUTERS:
        app.include_router(router)
    studio.install(app)  # last: its pages are under `/` and `/w/…`, after every API route
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the background loops with the server and stop them with it (when configured)."""
    config: ServerConfig = app.state.config
    if not config.background:
        yield
        return
    from mlyard.server.background import Background, BackgroundSettings

    settings = BackgroundSettings(config.workers, config.lease_seconds, config.job_retries)
    background = Background(
        app.state.workspaces, app.state.uploads, settings, app.state.gateway,
        getattr(app.state, "url", None), app.state.local_secret,
    )  # fmt: skip
    await run_in_threadpool(background.start)
    app.state.background = background
    flusher = MetricsFlusher(app.state.gateway.metrics, app.state.workspaces, config.metrics_flush_seconds)
    flushing = asyncio.get_running_loop().create_task(flusher.run(), name="mlyard-metrics-flush")
    try:
        yield
    finally:
        await run_in_threadpool(background.stop)
        await flusher.stop(flushing)  # after the instances stopped: the last answers are counted


def _streams_its_body(scope: Scope) -> bool:
    """File uploads stream to disk under their route's own limit, past the JSON body limit."""
    return files.is_streamed_upload(scope) or mlflow.is_artifact_upload(scope)


def _registries(config: ServerConfig) -> dict[str, WorkspaceLocation]:
    """The registries given to the server, or else every one of this machine's index."""
    if config.registries is not None:
        return config.registries
    from mlyard.services.registries.registries import list_registries

    return {
        entry["name"]: WorkspaceLocation(Path(entry["path"]), entry.get("db"), entry.get("artifacts"))
        for entry in list_registries()
    }


def _check_config(config: ServerConfig) -> None:
    if not config.workspaces:
        raise InvalidArgument("the server needs at least one workspace to serve")
    for name in config.workspaces:
        validate_name(name, "workspace name")
    if config.max_body_bytes <= 0:
        raise InvalidArgument(f"max_body_bytes must be positive, got {config.max_body_bytes}")


async def _refuse_nul_characters(request: Request) -> None:
    """NUL in a path or query value is refused (PostgreSQL text cannot hold it); bodies check their own."""
    if "\x00" in request.scope["path"]:
        raise InvalidArgument("the path must not contain NUL characters (%00)")
    for name, value in request.query_params.multi_items():
        if "\x00" in name or "\x00" in value:
            raise InvalidArgument(f"query parameter {name!r} must not contain NUL characters (%00)")
