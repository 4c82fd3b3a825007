"""Spec warnings of a request returned with its response (`mlyard.entities.specs.spec_warnings`).

Each API request gets its own collection: strict when the client sent `x-mlyard-strict-specs: 1`
(`--strict` on its command line) or, looked up only when needed, when the workspace's
`strict_specs` setting is on (`served_workspace` adds that). The fields a spec had that mlyard
does not know come back in the `x-mlyard-spec-warnings` header (a JSON list of lines), which the
remote client hands on to its own caller, and in a JSON object body as `warnings`, for people
reading the API directly.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mlyard.entities.specs.spec_warnings import STRICT_HEADER, WARNINGS_HEADER, SpecChecks, checking_specs

API_PREFIX = "/api/"


class SpecWarningsMiddleware:
    """Opens the request's spec checks and adds what they found to the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        strict = Headers(scope=scope).get(STRICT_HEADER, "").lower() in ("1", "true", "yes")
        # The route runs in a worker thread with a copy of this context: it sees the same
        # collection object, so what it adds is here when the response starts.
        with checking_specs(strict) as checks:
            await self.app(scope, receive, _WithWarnings(send, checks))


class _WithWarnings:
    """A `send` that adds the warnings to the response head and to a JSON object body."""

    def __init__(self, send: Send, checks: SpecChecks) -> None:
        self.send, self.checks = send, checks
        self.held: Message | None = None  # the response head, while a JSON body is read whole
        self.body = bytearray()

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start" and self.checks.warnings:
            headers = MutableHeaders(scope=message)
            headers.append(WARNINGS_HEADER, json.dumps(self.checks.warnings))  # ASCII: a valid header
            if headers.get("content-type", "").startswith("application/json"):
                self.held = message
                return
        elif message["type"] == "http.response.body" and self.held is not None:
            self.body += message.get("body", b"")
            if message.get("more_body", False):
                return
            body = _with_warnings_field(bytes(self.body), self.checks.warnings)
            MutableHeaders(scope=self.held)["content-length"] = str(len(body))
            await self.send(self.held)
            await self.send({"type": "http.response.body", "body": body, "more_body": False})
            return
        await self.send(message)


def _with_warnings_field(body: bytes, warnings: list[str]) -> bytes:
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if not isinstance(data, dict) or "warnings" in data:
        return body
    return json.dumps({**data, "warnings": warnings}).encode()
