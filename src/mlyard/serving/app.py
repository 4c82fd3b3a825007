"""The scoring instance's HTTP API: one raw ASGI callable, no framework on the hot path.

Routes (all answers JSON; errors are `{"error_code", "message"}`):

    GET  /  /live  /v2/health/live          200 while the process serves (liveness)
    GET  /ready  /v2/health/ready           200 once the model loaded / init() returned, else 503
    GET  /ping  /health                     MLflow's health routes (= /ready)
    POST /score                             Azure ML: a bare JSON array of predictions, or run()'s result
    POST /invocations                       MLflow: {"predictions": [...]}
    GET  /v2  /v2/models/{name}             V2 server and model metadata
    GET  /v2/models/{name}/ready            V2 model readiness
    POST /v2/models/{name}/infer            V2 inference (also under /versions/{v}/)
    GET  /swagger.json                      OpenAPI description of /score, from the signature

No-code flavors are scored inline on the event loop: they are vectorised calls that finish in
microseconds to milliseconds, and a thread hop would cost more than the work. A scoring script's
`run()` is arbitrary user code, so it runs in a pool of `max_concurrent_requests` threads and a
request over `request_timeout_ms` is answered 408 on time (the thread keeps its slot until run()
returns). Loading happens in a background thread so liveness answers while init() runs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from mlyard.errors import (
    InputMismatch,
    MlyardError,
    ModelError,
    NotFound,
    NotReady,
    PayloadTooLarge,
    RequestTimeout,
    TooManyRequests,
)
from mlyard.serving.asgi import Receive, Scope, Send
from mlyard.serving.inputs import parse_scoring_request
from mlyard.serving.outputs import to_json
from mlyard.serving.request_body import Disconnected, read_body
from mlyard.serving.schema import openapi_document
from mlyard.serving.score_script import ScoringScript, azure_headers
from mlyard.serving.scorers import Scorer, load_scorer
from mlyard.serving.v2 import infer_response, model_metadata, parse_infer_request

logger = logging.getLogger("mlyard.serving")

Handler = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024
REQUEST_ID_HEADER = b"x-request-id"
_JSON = (b"content-type", b"application/json")
_CLOSE = (b"connection", b"close")
_V2_MODELS = "/v2/models/"


class ScoringApp:
    """Serves one model folder (by its flavor) or one scoring script, as one deployment instance."""

    def __init__(
        self,
        model_dir: Path,
        *,
        scoring_script: Path | None = None,
        name: str = "model",
        version: str | None = None,
        max_concurrent_requests: int = 1,
        request_timeout_ms: int = 5000,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self.model_dir = model_dir
        self.scoring_script = scoring_script
        self.name = name
        self.version = version
        self.max_concurrent_requests = max(1, max_concurrent_requests)
        self.request_timeout_ms = request_timeout_ms
        self.max_body_bytes = max_body_bytes
        self.scorer: Scorer | None = None
        self.script: ScoringScript | None = None
        self.failure: str | None = None  # the traceback of a failed load / init()
        self.load_seconds: float | None = None
        self.in_flight = 0
        self._load_started = time.monotonic()
        self._loader: threading.Thread | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._swagger: bytes | None = None
        self._on_loaded: list[Callable[[ScoringApp], None]] = []
        self._routes: dict[tuple[str, str], Handler] = {
            ("POST", "/score"): self._score,
            ("POST", "/invocations"): self._invocations,
            ("GET", "/"): self._live,
            ("GET", "/live"): self._live,
            ("GET", "/ready"): self._ready,
            ("GET", "/ping"): self._ready,
            ("GET", "/health"): self._ready,
            ("GET", "/v2/health/live"): self._live,
            ("GET", "/v2/health/ready"): self._ready,
            ("GET", "/v2"): self._v2_server,
            ("GET", "/swagger.json"): self._swagger_json,
        }

    # --- loading -------------------------------------------------------------------------------

    @property
    def is_ready(self) -> bool:
        return self.scorer is not None or self.script is not None

    @property
    def flavor(self) -> str:
        loaded = self.scorer or self.script
        return loaded.flavor if loaded is not None else "unknown"

    def on_loaded(self, callback: Callable[[ScoringApp], None]) -> None:
        """Call `callback(app)` from the loading thread once loading ended, ready or failed."""
        self._on_loaded.append(callback)

    def start_loading(self) -> None:
        """Load in a background thread (once); readiness turns true when it succeeds."""
        if self._loader is None:
            self._loader = threading.Thread(target=self.load, name="mlyard-load", daemon=True)
            self._loader.start()

    def load(self) -> None:
        """Load the model or import the script and call its init(); a failure is kept, not raised."""
        self._load_started = time.monotonic()
        try:
            if self.scoring_script is not None:
                script = ScoringScript(self.scoring_script, self.model_dir)
                script.load()
                self._executor = concurrent.futures.ThreadPoolExecutor(
                    self.max_concurrent_requests, thread_name_prefix="mlyard-run"
                )
                self.script = script
            else:
                self.scorer = load_scorer(self.model_dir)
        except BaseException:
            self.failure = traceback.format_exc()
        self.load_seconds = time.monotonic() - self._load_started
        for callback in self._on_loaded:
            callback(self)

    def close(self) -> None:
        """Let go of the run() threads without waiting for a run() that never returns."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    def busy_threads(self) -> bool:
        return self._executor is not None and self.in_flight > 0

    def _not_ready(self) -> NotReady:
        if self.failure is not None:
            what = "init()" if self.scoring_script is not None else "loading the model"
            last = self.failure.strip().splitlines()[-1]
            return NotReady(f"{what} failed, so this instance will not score: {last}\n{self.failure}")
        seconds = time.monotonic() - self._load_started
        what = "init() is running" if self.scoring_script is not None else "the model is loading"
        return NotReady(f"not ready yet: {what} (for {seconds:.1f} s)")

    # --- ASGI ----------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            handler = self._routes.get((scope["method"], scope["path"]))
            if handler is None:
                handler = self._route_v2(scope) or self._unknown_route
            await handler(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.start_loading()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _route_v2(self, scope: Scope) -> Handler | None:
        path: str = scope["path"]
        if not path.startswith(_V2_MODELS):
            return None
        parts = path[len(_V2_MODELS) :].split("/")
        if len(parts) >= 3 and parts[1] == "versions":
            parts = [parts[0], *parts[3:]]
        action = (scope["method"], tuple(parts[1:]))
        if action == ("POST", ("infer",)):
            handler = self._v2_infer
        elif action == ("GET", ("ready",)):
            handler = self._v2_model_ready
        elif action == ("GET", ()):
            handler = self._v2_model
        else:
            return None
        if parts[0] != self.name:
            return self._unknown_model(parts[0])
        return handler

    # --- scoring -------------------------------------------------------------------------------

    async def _score(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._scoring(scope, receive, send, "score")

    async def _invocations(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._scoring(scope, receive, send, "invocations")

    async def _v2_infer(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._scoring(scope, receive, send, "v2")

    async def _scoring(self, scope: Scope, receive: Receive, send: Send, contract: str) -> None:
        begin = time.perf_counter()
        request_id = _header(scope, REQUEST_ID_HEADER)
        if self.in_flight >= self.max_concurrent_requests:
            await self._error(send, self._too_many(), request_id)
            return
        self.in_flight += 1
        release = True
        try:
            declared = _header(scope, b"content-length")
            body = await read_body(receive, declared, self.max_body_bytes, self._too_large)
            if self.scorer is not None:
                payload = self._predict(self.scorer, body, contract)
                elapsed_ms = (time.perf_counter() - begin) * 1000
                if elapsed_ms > self.request_timeout_ms:
                    raise self._timeout(elapsed_ms)
            elif self.script is not None:
                if contract != "score":
                    raise NotFound(
                        f"this deployment runs the scoring script {self.script.path.name}; send requests "
                        "to POST /score (the /invocations and V2 routes serve no-code models)"
                    )
                release = False  # the run() thread gives the slot back when it ends
                payload = await self._run_script(scope, body)
            else:
                raise self._not_ready()
            await _respond(send, 200, payload, request_id)
        except Disconnected:
            return
        except MlyardError as exc:
            await self._error(send, exc, request_id)
        except Exception as exc:  # a bug of ours: logged, answered in the usual shape
            logger.exception("unexpected error scoring %s %s", scope["method"], scope["path"])
            await self._error(send, ModelError(f"unexpected error while scoring: {exc!r}"), request_id)
        finally:
            if release:
                self.in_flight -= 1

    def _predict(self, scorer: Scorer, body: bytes, contract: str) -> bytes:
        if contract == "v2":
            batch, infer_id = parse_infer_request(body, scorer.schema)
        else:
            batch = parse_scoring_request(body, scorer.schema)
        try:
            predictions = scorer.predict(batch)
        except MlyardError:
            raise
        except (ValueError, TypeError) as exc:  # the model refused input that passed our checks
            raise InputMismatch(f"the model refused the input: {exc}") from exc
        except Exception as exc:
            logger.exception("the %s model raised while predicting", scorer.flavor)
            raise ModelError(f"the model raised {type(exc).__name__}: {exc}") from exc
        if contract == "score":
            return to_json(predictions)
        if contract == "invocations":
            return to_json({"predictions": predictions})
        response = infer_response(
            predictions,
            model_name=self.name,
            model_version=self.version,
            request_id=infer_id,
            output_names=scorer.output_names(),
        )
        return to_json(response)

    async def _run_script(self, scope: Scope, body: bytes) -> bytes:
        script, executor = self.script, self._executor
        assert script is not None and executor is not None
        headers = azure_headers(scope["headers"]) if script.wants_headers else {}
        future = asyncio.get_running_loop().run_in_executor(executor, script.run, body, headers)
        future.add_done_callback(self._release_slot)
        begin = time.perf_counter()
        try:
            result = await asyncio.wait_for(asyncio.shield(future), self.request_timeout_ms / 1000)
        except TimeoutError:
            raise self._timeout((time.perf_counter() - begin) * 1000) from None
        except Exception as exc:
            logger.error(
                "run() of %s raised:\n%s", script.path.name, "".join(traceback.format_exception(exc))
            )
            raise ModelError(f"run() of {script.path.name} raised {type(exc).__name__}: {exc}") from exc
        try:
            return to_json(result)
        except TypeError as exc:
            raise ModelError(
                f"run() of {script.path.name} returned something that is not JSON: {exc}"
            ) from exc

    def _release_slot(self, future: asyncio.Future[Any]) -> None:
        self.in_flight -= 1
        if not future.cancelled():
            future.exception()  # retrieved: a run() that failed after its 408 is not logged twice

    def _too_many(self) -> TooManyRequests:
        return TooManyRequests(
            f"this instance is already scoring {self.max_concurrent_requests} request(s), its "
            "max_concurrent_requests_per_instance; retry later or add instances"
        )

    def _timeout(self, elapsed_ms: float) -> RequestTimeout:
        return RequestTimeout(
            f"scoring took longer than the deployment's request_timeout_ms ({self.request_timeout_ms} ms; "
            f"answered after {elapsed_ms:.0f} ms)"
        )

    def _too_large(self, size: str) -> str:
        return (
            f"the request body is {size}; this instance takes at most {self.max_body_bytes:,} bytes "
            "(--max-body-bytes); send fewer rows per request"
        )

    # --- health, metadata ----------------------------------------------------------------------

    async def _live(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _respond(send, 200, b'{"status":"alive"}')

    async def _ready(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.is_ready:
            await _respond(send, 200, to_json({"status": "ready", "flavor": self.flavor}))
            return
        error = self._not_ready()
        body = {**error.to_dict(), "state": "failed" if self.failure else "loading"}
        if self.failure:
            body["traceback"] = self.failure
        await _respond(send, error.http_status, to_json(body))

    async def _v2_server(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _respond(send, 200, to_json({"name": "mlyard", "version": _mlyard_version(), "extensions": []}))

    async def _v2_model_ready(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.is_ready:
            await _respond(send, 200, to_json({"name": self.name, "ready": True}))
        else:
            await self._error(send, self._not_ready())

    async def _v2_model(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.scorer is None:
            await self._error(
                send,
                self._not_ready()
                if not self.is_ready
                else NotFound("a scoring-script deployment has no V2 model metadata; see GET /swagger.json"),
            )
            return
        metadata = model_metadata(
            self.name, self.version, self.scorer.flavor, self.scorer.schema, self.scorer.output_names()
        )
        await _respond(send, 200, to_json(metadata))

    async def _swagger_json(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.is_ready:
            await self._error(send, self._not_ready())
            return
        if self._swagger is None:
            schema = self.scorer.schema if self.scorer is not None else None
            document = openapi_document(
                schema, name=self.name, flavor=self.flavor, raw=self.script is not None
            )
            self._swagger = to_json(document)
        await _respond(send, 200, self._swagger)

    def _unknown_model(self, name: str) -> Handler:
        async def handler(scope: Scope, receive: Receive, send: Send) -> None:
            await self._error(
                send, NotFound(f"model {name!r} is not served here; this instance serves {self.name!r}")
            )

        return handler

    async def _unknown_route(self, scope: Scope, receive: Receive, send: Send) -> None:
        routes = sorted({f"{method} {path}" for method, path in self._routes})
        paths = {path for _, path in self._routes}
        if scope["path"] in paths:
            allowed = sorted(method for method, path in self._routes if path == scope["path"])
            message = f"{scope['method']} is not allowed on {scope['path']}; use {', '.join(allowed)}"
            await _respond(send, 405, to_json({"error_code": "METHOD_NOT_ALLOWED", "message": message}))
            return
        error = NotFound(
            f"no route {scope['method']} {scope['path']}; this instance serves: {', '.join(routes)}, "
            f"and {_V2_MODELS}{self.name}[/ready|/infer]"
        )
        await self._error(send, error)

    async def _error(self, send: Send, error: MlyardError, request_id: bytes | None = None) -> None:
        if error.http_status >= 500:
            logger.warning("%s: %s", error.error_code, error.message.splitlines()[0])
        extra = (_CLOSE,) if isinstance(error, PayloadTooLarge) else ()
        await _respond(send, error.http_status, to_json(error.to_dict()), request_id, extra)


def _mlyard_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("mlyard")
    except metadata.PackageNotFoundError:  # run from a source copy, as a packaged image does
        return "unknown"


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


async def _respond(
    send: Send,
    status: int,
    body: bytes,
    request_id: bytes | None = None,
    extra: tuple[tuple[bytes, bytes], ...] = (),
) -> None:
    headers = [_JSON, (b"content-length", b"%d" % len(body)), *extra]
    if request_id is not None:
        headers.append((REQUEST_ID_HEADER, request_id))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
