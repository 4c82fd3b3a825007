"""Reading an ASGI request body under a size limit: one rule for instances and the gateway.

A declared `content-length` over the limit is refused before anything is read; a chunked or
undeclared body is refused as soon as what arrived passes the limit, so an oversize request never
sits in memory whole.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from mlyard.errors import PayloadTooLarge


class Disconnected(Exception):
    """The client went away before its body arrived."""


async def read_body(
    receive: Callable[[], Awaitable[Mapping[str, Any]]],
    declared: bytes | None,
    limit: int,
    too_large: Callable[[str], str],
) -> bytes:
    """The whole body; PayloadTooLarge with `too_large(size)` as its message past `limit` bytes."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(too_large(f"{int(declared):,} bytes"))
    message = await receive()
    if message["type"] != "http.request":
        raise Disconnected
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        if len(body) > limit:
            raise PayloadTooLarge(too_large(f"{len(body):,} bytes"))
        return body
    chunks, size = [body], len(body)
    while message.get("more_body", False):
        message = await receive()
        if message["type"] != "http.request":
            raise Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(too_large(f"more than {limit:,} bytes"))
        chunks.append(chunk)
    return b"".join(chunks)
