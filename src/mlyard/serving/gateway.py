"""The endpoint gateway: a raw ASGI app in front of every deployment's instances.

    POST /endpoints/{name}/score          → an instance's /score        (Azure ML's scoring URI)
    POST /endpoints/{name}/invocations    → /invocations                (MLflow's contract)
    *    /endpoints/{name}/v2/...         → /v2/...                     (Open Inference Protocol V2)
    GET  /endpoints/{name}/swagger.json   → /swagger.json               (the input schema)
    the same below /workspaces/{ws}/endpoints/{name}/… for a workspace other than the default one

Per request, on the event loop and with no framework: find the endpoint in the routing table,
check `Authorization: Bearer <key or token>` (constant-time compare; tokens verified in memory),
read the body (413 past the limit), pick a deployment by the traffic weights or the
`azureml-model-deployment` header, take a slot on its least busy instance (waiting at most
`max_queue_wait_ms`, else 429), forward over the instance's Unix socket with a keep-alive pool
(408 after `request_timeout_ms`), and copy the answer back with `x-request-id` and
`azureml-model-deployment` added. An instance that breaks the connection before answering (it
crashed, was killed) has the request retried once on another instance — scoring is idempotent —
so a dying instance is invisible to callers. Mirror copies go out after the caller has its answer;
their outcome only reaches the metrics. Errors are `{"error_code", "message"}`; the gateway never
answers 500 itself (an instance's 500 for a failing model is passed through).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
from dataclasses import dataclass

from mlyard.errors import BadGateway, GatewayError, MlyardError, NotFound, RequestTimeout
from mlyard.serving.asgi import Receive, Scope, Send
from mlyard.serving.gateway_http import (
    PREFIXES,
    authenticate,
    choose_deployment,
    instance_target,
    new_request_id,
    parse_path,
    scan_headers,
    send_answer,
    send_error,
    skip_access_log,
    too_large,
)
from mlyard.serving.gateway_metrics import UNKNOWN_ENDPOINT, GatewayMetrics
from mlyard.serving.request_body import Disconnected, read_body
from mlyard.serving.routing import DeploymentRoute, EndpointRoute, InstanceRoute, RoutingTable
from mlyard.serving.upstream import UpstreamError, UpstreamResponse, UpstreamTimeout

__all__ = ["PREFIXES", "Gateway"]
logger = logging.getLogger("mlyard.gateway")

TIMEOUT_MARGIN_SECONDS = 0.25  # past the instance's own 408, so it answers first when it can


@dataclass(slots=True)
class ForwardedRequest:
    """What goes to an instance — and, after the answer, to the collector and the mirror."""

    method: str
    target: str
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def parts(self) -> tuple[str, str, list[tuple[bytes, bytes]], bytes]:
        return self.method, self.target, self.headers, self.body


class Gateway:
    """The ASGI app the team server sends `/endpoints/…` to; the supervisor swaps its `table`."""

    def __init__(self, metrics: GatewayMetrics, max_body_bytes: int) -> None:
        self.table = RoutingTable()
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self._too_large = functools.partial(too_large, limit=max_body_bytes)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._unknown = metrics.stats("", UNKNOWN_ENDPOINT, "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        skip_access_log(send)
        begin = time.perf_counter()
        request_id = b""
        endpoint: EndpointRoute | None = None
        deployment: DeploymentRoute | None = None
        try:
            workspace, name, rest = parse_path(scope["path"])
            endpoint = self.table.find(workspace, name)
            headers, auth, request_id, pin, declared = scan_headers(scope["headers"])
            if endpoint is None:
                raise self._unknown_endpoint(workspace, name)
            target = instance_target(scope["method"], rest, scope.get("query_string", b""))
            authenticate(endpoint, auth)
            body = await read_body(receive, declared, self.max_body_bytes, self._too_large)
            deployment = choose_deployment(endpoint, pin)
            request = ForwardedRequest(scope["method"], target, headers, body)
            response, deployment = await self._forward(endpoint, deployment, request)
        except MlyardError as error:
            await send_error(send, error, request_id or new_request_id(), deployment)
            stats = deployment.stats if deployment else endpoint.unrouted if endpoint else self._unknown
            stats.observe(error.http_status, time.perf_counter() - begin)
            return
        except Disconnected:
            return
        except Exception:  # a bug of ours: logged, and answered in the usual shape rather than a bare 500
            logger.exception("the gateway failed on %s %s", scope["method"], scope["path"])
            bug = GatewayError("unexpected error in the endpoint gateway; the server log has its traceback")
            await send_error(send, bug, request_id or new_request_id(), None)
            return
        await send_answer(send, response, request_id, deployment.name_header)
        deployment.stats.observe(response.status, time.perf_counter() - begin)
        if response.status == 200 and target in ("/score", "/invocations"):
            self._after_answer(endpoint, deployment, pin, request, response, request_id)

    # --- forwarding ----------------------------------------------------------------------------

    async def _forward(
        self, endpoint: EndpointRoute, deployment: DeploymentRoute, request: ForwardedRequest
    ) -> tuple[UpstreamResponse, DeploymentRoute]:
        """The instance's answer, retried once on another instance if the first broke the connection."""
        for attempt in (1, 2):
            instance = await deployment.acquire()
            try:
                response = await instance.pool.request(
                    *request.parts(), deployment.limits.timeout_seconds + TIMEOUT_MARGIN_SECONDS
                )
                return response, deployment
            except UpstreamTimeout:
                raise RequestTimeout(
                    f"deployment {deployment.name!r} did not answer within its request_timeout_ms "
                    f"({deployment.limits.timeout_seconds * 1000:.0f} ms)"
                ) from None
            except UpstreamError as exc:
                instance.broken = True
                logger.warning("instance %s of %s/%s: %s", instance.key, endpoint.name, deployment.name, exc)
                if attempt == 2:
                    raise BadGateway(
                        f"deployment {deployment.name!r}: the instance closed the connection without "
                        f"answering, and so did the one it was retried on ({exc}); see its logs: mlyard "
                        f"online-deployment get-logs --name {deployment.name} --endpoint-name {endpoint.name}"
                    ) from None
                deployment = self._retry_target(endpoint, deployment, instance)
            finally:
                instance.owner.release(instance)
        raise AssertionError("unreachable")

    def _retry_target(
        self, endpoint: EndpointRoute, deployment: DeploymentRoute, failed: InstanceRoute
    ) -> DeploymentRoute:
        """Another instance of the same deployment when it has one; else the deployment the current
        traffic split picks (the failed one may be draining away)."""
        if any(i is not failed and not i.broken for i in deployment.instances):
            return deployment
        current = self.table.find(endpoint.workspace, endpoint.name)
        if current is not None:
            replacement = current.deployments.get(deployment.name)
            if replacement is not None and any(not i.broken for i in replacement.instances):
                return replacement
            chosen = current.choose()
            if chosen is not None:
                return chosen
        return deployment

    def _after_answer(
        self,
        endpoint: EndpointRoute,
        deployment: DeploymentRoute,
        pin: bytes | None,
        request: ForwardedRequest,
        response: UpstreamResponse,
        request_id: bytes,
    ) -> None:
        """Off the caller's path: data collection, and a mirror copy for the mirror deployment."""
        if deployment.collector is not None and random.random() < deployment.sampling_rate:
            deployment.collector.add(request_id.decode(), time.time(), request.body, response.body)
        mirror = endpoint.mirror
        if (
            mirror is not None
            and pin is None
            and mirror is not deployment
            and random.random() < endpoint.mirror_fraction
        ):
            task = asyncio.get_running_loop().create_task(self._mirror(mirror, request))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _mirror(self, mirror: DeploymentRoute, request: ForwardedRequest) -> None:
        """A copy of a live request: sent only if a slot is free at once, its answer discarded."""
        instance = mirror.try_acquire()
        if instance is None:
            mirror.stats.observe_mirror("dropped")
            return
        outcome = "error"
        try:
            response = await instance.pool.request(*request.parts(), mirror.limits.timeout_seconds)
            outcome = str(response.status)
        except (UpstreamError, UpstreamTimeout):
            pass
        except Exception:  # a mirror must never hurt anything: log and move on
            logger.exception("mirror request to %s failed", mirror.name)
        finally:
            instance.owner.release(instance)
            mirror.stats.observe_mirror(outcome)

    # --- request parts -------------------------------------------------------------------------

    def _unknown_endpoint(self, workspace: str | None, name: str) -> NotFound:
        served = self.table.workspaces.get(workspace if workspace is not None else self.table.default or "")
        if served is None:
            if workspace is None:
                return NotFound(
                    f"no online endpoint {name!r}: this server has no default workspace; use "
                    f"/workspaces/<workspace>/endpoints/{name}/score"
                )
            return NotFound(f"workspace {workspace!r} is not served here, so neither is endpoint {name!r}")
        # Not the list of names: whoever asks has not shown a key yet.
        return NotFound(f"no online endpoint {name!r} here; list them with: mlyard online-endpoint list")

    def close(self) -> None:
        for task in list(self._background):
            task.cancel()
