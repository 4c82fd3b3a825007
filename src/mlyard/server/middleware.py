"""ASGI middleware: request ids, Prometheus request metrics, the body size limit, the last-resort 500.

Pure ASGI (not Starlette's `BaseHTTPMiddleware`), so bodies stream through untouched and the
threadpool that runs the synchronous routes is not involved.
"""

from __future__ import annotations

import itertools
import logging
import re
import time
import uuid
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("mlyard.server")

REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")
UNMATCHED_ROUTE = "<unmatched>"  # any path no route matches: one label, not one per path
# A random prefix per process and a counter: unique like a uuid4, without reading os.urandom for
# every request (which showed in profiles of a busy server).
_ID_PREFIX = uuid.uuid4().hex[:20]
_ID_COUNTER = itertools.count()


def new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_ID_COUNTER) % 16**12:012x}"


class HttpMetrics:
    """Request count and latency by method, route template and status, in one app's own registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ("method", "route", "status")
        self.requests = Counter("mlyard_http_requests", "HTTP requests served", labels, registry=registry)
        self.latency = Histogram(
            "mlyard_http_request_duration_seconds",
            "Time from request start to the end of the response",
            labels,
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        values = (method, route, str(status))
        self.requests.labels(*values).inc()
        self.latency.labels(*values).observe(seconds)


def error_response(status: int, error_code: str, message: str) -> JSONResponse:
    return JSONResponse({"error_code": error_code, "message": message}, status_code=status)


class RequestContextMiddleware:
    """The outermost layer: gives each request an id, measures it, and turns a crash into JSON.

    An exception that escapes every handler is a bug; it is logged with the request id and
    answered with the usual error shape instead of a bare 500 page.
    """

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        begin = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            logger.exception(
                "unexpected error in %s %s (request %s)", scope["method"], scope["path"], request_id
            )
            if started:
                raise
            response = error_response(
                500,
                "INTERNAL_ERROR",
                f"unexpected server error (request id {request_id}); this is a bug, the server log "
                "has the details",
            )
            await response(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED_ROUTE
            self.metrics.observe(scope["method"], template, status, time.perf_counter() - begin)


class BodyLimitMiddleware:
    """Answer 413 to a body over `max_bytes`: at once from Content-Length, else while reading it.

    The body is read (up to the limit) before the app runs, so a chunked upload that grows past the
    limit is refused before any route has seen part of it. Requests for which `exempt` is true
    (file uploads that their route streams to disk under its own limit) pass untouched.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, exempt: Callable[[Scope], bool] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (self.exempt is not None and self.exempt(scope)):
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send, f"{int(declared):,} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send, f"more than {self.max_bytes:,} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as Starlette expects

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, size: str) -> None:
        response = error_response(
            413,
            "REQUEST_TOO_LARGE",
            f"request body is {size}; the limit is {self.max_bytes:,} bytes (server max_body_bytes). "
            "Send fewer metrics per batch",
        )
        response.headers["connection"] = "close"
        await response(scope, receive, send)
