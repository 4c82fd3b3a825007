"""`serve`: run the team server with uvicorn on a loopback address."""

from __future__ import annotations

import copy
import gc
import socket
from collections.abc import Callable
from typing import Any

from mlyard.errors import Conflict, PermissionDenied
from mlyard.server.config import ServerConfig, check_listen_address, is_loopback


def serve(
    config: ServerConfig,
    host: str = "127.0.0.1",
    port: int = 8080,
    announce: Callable[[str], None] = print,
) -> None:
    """Check the address, open every workspace, bind, announce the URL, and serve until stopped.

    Everything that can be refused (a public address, an unusable workspace, a port in use) is
    refused before the server starts. `port=0` picks a free port; the announced URL names it.
    """
    server, listener, url = prepare(config, host, port)
    app = server.config.app
    access = "API keys required" if _auth_everywhere(app) else "no API key needed (loopback only)"
    workers = f"{config.workers} worker slot(s) per workspace" if config.workers else "no embedded worker"
    announce(f"mlyard server listening on {url} (API docs: {url}/docs); serving workspaces: "
             + ", ".join(app.state.workspaces.names()) + f"; {access}; {workers}")  # fmt: skip
    # Everything loaded so far (the app, its routes, the ORM, the workspaces) lives as long as the
    # server: frozen, the garbage collector stops rescanning it. Its full collections over that heap
    # were pauses of tens of ms, the P99 of scoring requests through the gateway at 64 connections.
    gc.freeze()
    server.run(sockets=[listener])


def prepare(
    config: ServerConfig, host: str = "127.0.0.1", port: int = 0, own_logging: bool = True
) -> tuple[Any, socket.socket, str]:
    """The uvicorn server, its bound socket and URL — everything `serve` runs (tests run it in a
    thread, with `own_logging=False` so uvicorn leaves the process's logging alone)."""
    import uvicorn

    from mlyard.server.app import create_app

    check_listen_address(host, config.auth)
    app = create_app(config)
    for name in app.state.workspaces.names():
        app.state.workspaces.open(name)
    if not is_loopback(host):
        _check_public(app, host, _auth_everywhere(app))
    listener = _bind(host, port)
    bound_port = listener.getsockname()[1]
    url = f"http://{f'[{host}]' if ':' in host else host}:{bound_port}"
    app.state.url = url  # the background writes it to server.json, for local clients of the gateway
    logging_options: dict[str, Any] = (
        {"log_config": _log_config()} if own_logging else {"log_config": None, "access_log": False}
    )
    server = uvicorn.Server(uvicorn.Config(app, timeout_graceful_shutdown=10, **logging_options))
    return server, listener, url


def _auth_everywhere(app: Any) -> bool:
    return all(app.state.authenticator.is_enabled(name) for name in app.state.workspaces.names())


def _check_public(app: Any, host: str, auth: bool) -> None:
    """Beyond loopback: authentication on, and a key in every served workspace (else none can use it)."""
    from mlyard.services.workspaces.keys import has_keys

    keyless = [name for name in app.state.workspaces.names() if not has_keys(app.state.workspaces.open(name))]
    if keyless:
        raise PermissionDenied(
            f"refusing to listen on {host!r}: workspace {', '.join(keyless)} has no API key, so nobody "
            "could use it; create one first: mlyard key create --owner YOU --role admin"
        )
    check_listen_address(host, auth)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and without
    # it every keep-alive response waits ~40 ms for the client's delayed ACK (Nagle).
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise Conflict(f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port") from exc
    listener.listen(2048)
    return listener


def _log_config() -> dict[str, Any]:
    """uvicorn's logging, plus the `mlyard` loggers (unexpected errors with their request id)."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["mlyard"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
