"""What every MLflow route shares: its paths, its error shape, the caller's role, the default workspace.

Every route is served under `/mlflow/{ws}/api/2.0/...`, so `MLFLOW_TRACKING_URI=http://host:port/mlflow/dev`
reaches workspace `dev`. `/api/2.0/mlflow...` (what a bare `http://host:port` URI gives) is
rewritten to that prefix for the default workspace by `DefaultWorkspacePaths`, before routing.

Errors are MLflow's: `{"error_code", "message"}` with the status MLflow's client expects for the
code (`RESOURCE_ALREADY_EXISTS` is 400 there, not 409; a conflict with stored state is
`INVALID_PARAMETER_VALUE`), also for request validation and authentication.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from mlyard.entities.governance.access import Role
from mlyard.errors import (
    AlreadyExists,
    Conflict,
    InvalidArgument,
    MlyardError,
    NotFound,
    PermissionDenied,
    StoreError,
    Unauthenticated,
)
from mlyard.server.auth import require
from mlyard.server.config import DEFAULT_WORKSPACE_NAME, WorkspaceLocation
from mlyard.server.error_handlers import describe_validation_errors
from mlyard.server.middleware import error_response
from mlyard.services.workspaces.workspace import Workspace

WORKSPACE_PREFIX = "/mlflow/{ws}"
API_PREFIX = f"{WORKSPACE_PREFIX}/api/2.0/mlflow"
ARTIFACTS_PREFIX = f"{WORKSPACE_PREFIX}/api/2.0/mlflow-artifacts"
_DEFAULT_PATHS = ("/api/2.0/mlflow", "/api/3.0/mlflow")  # mlflow-artifacts too
_UPLOAD = re.compile(r"^/mlflow/[^/]+/api/2\.0/mlflow-artifacts/artifacts/.")

Reader = Annotated[Workspace, Depends(require(Role.READER, via="mlflow"))]
Contributor = Annotated[Workspace, Depends(require(Role.CONTRIBUTOR, via="mlflow"))]
Operator = Annotated[Workspace, Depends(require(Role.OPERATOR, via="mlflow"))]

# (error class, MLflow error code, HTTP status), most specific first.
_ERRORS: tuple[tuple[type[MlyardError], str, int], ...] = (
    (Unauthenticated, "UNAUTHENTICATED", 401),
    (PermissionDenied, "PERMISSION_DENIED", 403),
    (NotFound, "RESOURCE_DOES_NOT_EXIST", 404),
    (AlreadyExists, "RESOURCE_ALREADY_EXISTS", 400),
    (InvalidArgument, "INVALID_PARAMETER_VALUE", 400),
    (Conflict, "INVALID_PARAMETER_VALUE", 400),
    (StoreError, "TEMPORARILY_UNAVAILABLE", 503),
)


def mlflow_error(exc: MlyardError) -> JSONResponse:
    """The MLflow shape and status of one of our errors."""
    code, status = next(
        ((code, status) for kind, code, status in _ERRORS if isinstance(exc, kind)),
        ("INTERNAL_ERROR", exc.http_status),
    )
    response = error_response(status, code, exc.message)
    if isinstance(exc, Unauthenticated):
        response.headers["www-authenticate"] = 'Bearer realm="mlyard"'
    return response


class MlflowRoute(APIRoute):
    """A route answering every refusal in MLflow's shape, also those of validation and of `require`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except MlyardError as exc:
                return mlflow_error(exc)
            except RequestValidationError as exc:
                return mlflow_error(InvalidArgument(describe_validation_errors(exc.errors())))

        return route


def mlflow_router(prefix: str, tag: str) -> APIRouter:
    return APIRouter(prefix=prefix, route_class=MlflowRoute, tags=[tag])


def ok(body: dict[str, Any] | None = None) -> JSONResponse:
    return JSONResponse(body or {})


EMPTY = b"{}"


def empty() -> Response:
    """`{}`, the answer of every call that returns nothing (prebuilt: the logging calls are hot)."""
    return Response(EMPTY, media_type="application/json")


def default_workspace(workspaces: dict[str, WorkspaceLocation]) -> str | None:
    """The workspace behind `/api/2.0/mlflow`: `default`, else the only one served, else none."""
    if DEFAULT_WORKSPACE_NAME in workspaces:
        return DEFAULT_WORKSPACE_NAME
    return next(iter(workspaces)) if len(workspaces) == 1 else None


def is_artifact_upload(scope: Scope) -> bool:
    """An artifact PUT: its body is streamed to disk by the route, not buffered by the body limit."""
    return scope.get("method") == "PUT" and bool(_UPLOAD.match(scope.get("path", "")))


class DefaultWorkspacePaths:
    """Serve `/api/2.0/mlflow…` and `/api/3.0/mlflow…` as `/mlflow/<default workspace>/…`.

    Pure ASGI, like the other middleware; the scope is changed in place so the outer layers
    (request metrics) see the route that answered.
    """

    def __init__(self, app: ASGIApp, workspace: str | None, served: list[str]) -> None:
        self.app = app
        self.prefix = f"/mlflow/{workspace}" if workspace else None
        self.served = served

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(_DEFAULT_PATHS):
            if self.prefix is None:
                await self._no_default(scope, receive, send)
                return
            scope["path"] = self.prefix + scope["path"]
            scope["raw_path"] = self.prefix.encode() + scope.get("raw_path", b"")
        await self.app(scope, receive, send)

    async def _no_default(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            404,
            "RESOURCE_DOES_NOT_EXIST",
            f"this server serves several workspaces ({', '.join(self.served)}) and none is named "
            f"{DEFAULT_WORKSPACE_NAME!r}: set MLFLOW_TRACKING_URI to http://HOST:PORT/mlflow/<workspace>",
        )
        await response(scope, receive, send)
