"""The parts of one scoring request as the gateway handles them: path, headers, credentials, answer.

Pure functions over ASGI's raw scope and messages (bytes, no framework), kept apart from the
forwarding logic of `serving.gateway`.
"""

from __future__ import annotations

import hmac
import os
import re
import time

from mlyard.errors import MlyardError, NotFound, NotReady, PayloadTooLarge, TooManyRequests, Unauthenticated
from mlyard.services.online.endpoint_auth import check_token
from mlyard.serving.asgi import Send
from mlyard.serving.routing import DeploymentRoute, EndpointRoute
from mlyard.serving.upstream import HOP_BY_HOP, UpstreamResponse

PREFIXES = ("/endpoints/", "/workspaces/")
DEPLOYMENT_HEADER = b"azureml-model-deployment"
REQUEST_ID_HEADER = b"x-request-id"
_VALID_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._\-]{1,128}$")
_DROPPED_ANSWER_HEADERS = HOP_BY_HOP | {REQUEST_ID_HEADER, b"content-type"}
_JSON = b"application/json"
_SCORING = {"score": "/score", "invocations": "/invocations"}
_ROUTES = "POST score, POST invocations, GET swagger.json, /v2/... (Open Inference Protocol)"


def skip_access_log(send: Send) -> None:
    """Scoring requests are counted by the gateway's metrics, not written to uvicorn's access log:
    a log line per request costs more than the gateway's whole work. (uvicorn's `send` is a bound
    method of its request cycle, whose `access_log` flag it checks; elsewhere this does nothing.)"""
    cycle = getattr(send, "__self__", None)
    if getattr(cycle, "access_log", False):
        cycle.access_log = False  # type: ignore[union-attr]


def parse_path(path: str) -> tuple[str | None, str, str]:
    """(workspace or None for the default, endpoint name, the rest of the path)."""
    workspace = None
    if path.startswith("/endpoints/"):
        tail = path[len("/endpoints/") :]
    else:
        workspace, _, tail = path[len("/workspaces/") :].partition("/")
        if not tail.startswith("endpoints/"):
            raise NotFound(f"no route {path}; endpoints answer at /endpoints/<name>/score")
        tail = tail[len("endpoints/") :]
    name, _, rest = tail.partition("/")
    if not name:
        raise NotFound(f"no route {path}; endpoints answer at /endpoints/<name>/score")
    return workspace, name, rest


def instance_target(method: str, rest: str, query: bytes) -> str:
    """The instance path for the gateway path's remainder (404 for what no instance serves)."""
    if method == "POST" and rest in _SCORING:
        target = _SCORING[rest]
    elif method == "GET" and rest == "swagger.json":
        target = "/swagger.json"
    elif rest == "v2" or rest.startswith("v2/"):
        target = "/" + rest
    else:
        raise NotFound(f"no route {method} …/{rest} on an online endpoint; they serve: {_ROUTES}")
    return f"{target}?{query.decode('latin-1')}" if query else target


def scan_headers(
    raw: list[tuple[bytes, bytes]],
) -> tuple[list[tuple[bytes, bytes]], bytes | None, bytes, bytes | None, bytes | None]:
    """One pass over the headers: what to forward, the credential, request id, pin, content-length."""
    forward: list[tuple[bytes, bytes]] = []
    auth = pin = declared = None
    request_id = b""
    for name, value in raw:
        if name == b"authorization":
            auth = value
        elif name == REQUEST_ID_HEADER:
            if _VALID_REQUEST_ID.match(value):
                request_id = value
        elif name == DEPLOYMENT_HEADER:
            pin = value.strip()
        elif name == b"content-length":
            declared = value
        elif name not in HOP_BY_HOP:
            forward.append((name, value))
    if not request_id:
        request_id = new_request_id()
    forward.append((REQUEST_ID_HEADER, request_id))
    return forward, auth, request_id, pin, declared


def new_request_id() -> bytes:
    return os.urandom(16).hex().encode()


def authenticate(endpoint: EndpointRoute, auth: bytes | None) -> None:
    if auth is None:
        raise Unauthenticated(
            f"endpoint {endpoint.name!r} needs 'Authorization: Bearer <{_credential(endpoint)}>'; get it "
            f"with: mlyard online-endpoint get-credentials --name {endpoint.name}"
        )
    if auth[:7].lower() != b"bearer ":
        raise Unauthenticated("the Authorization header must be 'Bearer <key or token>'")
    token = auth[7:].strip()
    if endpoint.auth_mode == "key":
        primary = hmac.compare_digest(token, endpoint.keys[0])
        secondary = hmac.compare_digest(token, endpoint.keys[1])
        if not (primary | secondary):
            raise Unauthenticated(
                f"the key is not valid for endpoint {endpoint.name!r} (wrong, or regenerated); get the "
                f"current keys with: mlyard online-endpoint get-credentials --name {endpoint.name}"
            )
        return
    problem = check_token(token, endpoint.token_secret, endpoint.name, time.time())
    if problem is not None:
        raise Unauthenticated(f"endpoint {endpoint.name!r} refused the token: {problem}")


def _credential(endpoint: EndpointRoute) -> str:
    return "key" if endpoint.auth_mode == "key" else "token"


def choose_deployment(endpoint: EndpointRoute, pin: bytes | None) -> DeploymentRoute:
    if pin:
        name = pin.decode("latin-1")
        chosen = endpoint.deployments.get(name)
        if chosen is None:
            known = ", ".join(sorted(endpoint.deployments)) or "none"
            raise NotFound(
                f"the azureml-model-deployment header names {name!r}, which is not a deployment of endpoint "
                f"{endpoint.name!r} (deployments: {known})"
            )
        return chosen
    chosen = endpoint.choose()
    if chosen is None:
        raise NotReady(
            f"endpoint {endpoint.name!r} sends no traffic to any deployment (every weight is 0); set some "
            f'with: mlyard online-endpoint update --name {endpoint.name} --traffic "DEPLOYMENT=100", or pin '
            "one with the azureml-model-deployment header"
        )
    return chosen


def too_large(size: str, limit: int) -> str:
    return (
        f"the request body is {size}; online endpoints take at most {limit:,} bytes per request "
        "(the server's max_body_bytes); send fewer rows per request"
    )


async def send_answer(send: Send, response: UpstreamResponse, request_id: bytes, deployment: bytes) -> None:
    content_type = _JSON
    headers = []
    for name, value in response.headers:
        if name == b"content-type":
            content_type = value
        elif name not in _DROPPED_ANSWER_HEADERS:
            headers.append((name, value))
    body = response.body
    headers += [
        (b"content-type", content_type), (b"content-length", b"%d" % len(body)),
        (REQUEST_ID_HEADER, request_id), (DEPLOYMENT_HEADER, deployment),
    ]  # fmt: skip
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_error(
    send: Send, error: MlyardError, request_id: bytes, deployment: DeploymentRoute | None
) -> None:
    import orjson

    body = orjson.dumps(error.to_dict())
    headers = [
        (b"content-type", _JSON),
        (b"content-length", b"%d" % len(body)),
        (REQUEST_ID_HEADER, request_id),
    ]
    if deployment is not None:
        headers.append((DEPLOYMENT_HEADER, deployment.name_header))
    if isinstance(error, Unauthenticated):
        headers.append((b"www-authenticate", b'Bearer realm="mlyard-endpoint"'))
    if isinstance(error, PayloadTooLarge):
        headers.append((b"connection", b"close"))
    if isinstance(error, TooManyRequests):
        headers.append((b"retry-after", b"1"))
    await send({"type": "http.response.start", "status": error.http_status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
