"""Talking to instances: a keep-alive HTTP/1.1 connection pool, and a minimal forwarding app.

`UpstreamPool` keeps connections to one instance (its Unix domain socket, or host:port) open
and reuses them, one request at a time per connection; responses are parsed with httptools in
an `asyncio.Protocol`, so a forwarded request costs one write and one read callback. A request
on a reused connection that the instance closed meanwhile (idle timeout, restart) is retried
once on a fresh connection, since nothing of it was answered.

`forwarding_app(pool)` is the smallest useful gateway: every request goes to the pool as it
came, the answer comes back as it was. It stands in for the endpoint gateway in the serving
benchmark, to measure what one proxy hop costs; run it with

    python -m mlyard.serving.upstream --upstream-uds /run/x.sock --port 8080
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import httptools

from mlyard.serving.asgi import Receive, Scope, Send

HOP_BY_HOP = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer", b"transfer-encoding", b"upgrade",
     b"host", b"content-length"}
)  # fmt: skip


@dataclass(frozen=True)
class UpstreamResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class UpstreamError(ConnectionError):
    """The instance could not be reached, or broke the connection before answering."""


class UpstreamTimeout(TimeoutError):
    """The instance did not answer within the request's timeout (its connection is closed)."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection; `waiter` resolves with the response to the request in flight."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[UpstreamResponse] | None = None
        self.closed = False
        self.received = False
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's are not asyncio.Transport subclasses

    def data_received(self, data: bytes) -> None:
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamError(f"the instance answered with malformed HTTP: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(UpstreamError("the instance closed the connection before answering"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.lower(), value))

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        response = UpstreamResponse(self.parser.get_status_code(), self._headers, b"".join(self._body))
        if not self.parser.should_keep_alive():
            self.close()
        self._headers, self._body = [], []
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(response)

    def send(self, request: bytes) -> asyncio.Future[UpstreamResponse]:
        assert self.transport is not None
        self.received = False
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self.waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def expire(self, timeout: float) -> None:
        """The answer is late: fail the request in flight and drop the connection (it is unusable)."""
        self._fail(UpstreamTimeout(f"the instance did not answer within {timeout * 1000:.0f} ms"))
        self.close()

    def _fail(self, error: Exception) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)


class UpstreamPool:
    """Keep-alive connections to one instance, over a Unix socket (`uds`) or TCP (`host`, `port`)."""

    def __init__(
        self, *, uds: str | None = None, host: str = "127.0.0.1", port: int | None = None, max_idle: int = 256
    ) -> None:
        if (uds is None) == (port is None):
            raise ValueError("give the instance's uds path or its port")
        self.uds, self.host, self.port = uds, host, port
        self.max_idle = max_idle
        self.authority = b"localhost" if uds else f"{host}:{port}".encode()
        self._idle: list[_Connection] = []

    async def request(
        self,
        method: str,
        target: str,
        headers: Sequence[tuple[bytes, bytes]] = (),
        body: bytes = b"",
        timeout: float | None = None,
    ) -> UpstreamResponse:
        """Send one request and wait for its whole response; UpstreamError if the instance is
        unreachable, UpstreamTimeout if it has not answered `timeout` seconds after sending."""
        head = [f"{method} {target} HTTP/1.1\r\n".encode("latin-1"), b"host: ", self.authority, b"\r\n"]
        for name, value in headers:
            if name not in HOP_BY_HOP:
                head += [name, b": ", value, b"\r\n"]
        head.append(b"content-length: %d\r\n\r\n" % len(body))
        request = b"".join(head) + body
        while self._idle:
            connection = self._idle.pop()
            if connection.closed:
                continue
            try:
                return await self._exchange(connection, request, timeout)
            except UpstreamError:
                if connection.received:  # part of an answer came: not safe to send again
                    raise
        return await self._exchange(await self._connect(), request, timeout)

    async def _exchange(
        self, connection: _Connection, request: bytes, timeout: float | None
    ) -> UpstreamResponse:
        waiter = connection.send(request)
        loop = asyncio.get_running_loop()
        timer = None if timeout is None else loop.call_later(timeout, connection.expire, timeout)
        try:
            response = await waiter
        except BaseException:
            connection.close()  # cancelled or failed mid-exchange: the connection's state is unknown
            raise
        finally:
            if timer is not None:
                timer.cancel()
        if not connection.closed and len(self._idle) < self.max_idle:
            self._idle.append(connection)
        return response

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            if self.uds is not None:
                _, protocol = await loop.create_unix_connection(_Connection, self.uds)
            else:
                assert self.port is not None
                _, protocol = await loop.create_connection(_Connection, self.host, self.port)
        except OSError as exc:
            where = self.uds or f"{self.host}:{self.port}"
            raise UpstreamError(f"cannot connect to the instance at {where}: {exc.strerror or exc}") from exc
        return protocol

    def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()


def forwarding_app(pool: UpstreamPool) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """An ASGI app sending every HTTP request to `pool` unchanged and its answer back (502 if unreachable)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    pool.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        target = scope["path"] + (
            "?" + scope["query_string"].decode("latin-1") if scope["query_string"] else ""
        )
        try:
            response = await pool.request(scope["method"], target, scope["headers"], b"".join(chunks))
        except UpstreamError as exc:
            status, headers, body = (
                502,
                [(b"content-type", b"application/json")],
                (b'{"error_code":"BAD_GATEWAY","message":"%s"}' % str(exc).replace('"', "'").encode()),
            )
        else:
            status, body = response.status, response.body
            headers = [(k, v) for k, v in response.headers if k not in HOP_BY_HOP]
        headers.append((b"content-length", b"%d" % len(body)))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def main(argv: Sequence[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m mlyard.serving.upstream", description=__doc__)
    parser.add_argument("--upstream-uds", help="the instance's Unix socket")
    parser.add_argument("--upstream-port", type=int, help="the instance's TCP port on 127.0.0.1")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    pool = UpstreamPool(uds=args.upstream_uds, port=args.upstream_port)
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.run(
            forwarding_app(pool), host=args.host, port=args.port, http="httptools", loop="uvloop",
            access_log=False, log_level="warning", server_header=False, date_header=False,
        )  # fmt: skip


if __name__ == "__main__":
    main()
