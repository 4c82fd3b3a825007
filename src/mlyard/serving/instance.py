"""One deployment instance: `python -m mlyard.serving.instance --model-dir DIR (--port N | --uds PATH)`.

Serves `ScoringApp` over HTTP/1.1 with uvicorn (httptools parser, uvloop event loop), on a TCP
port, a Unix domain socket, or both at once (the gateway's hop over a UDS skips TCP). The
sockets are bound before the model loads, so a supervisor can probe liveness at once.

It prints one line a supervisor can parse on stdout when it listens, and one when loading ended:

    mlyard-instance listening name=diabetes pid=4242 http=127.0.0.1:5001 uds=/run/x.sock
    mlyard-instance ready name=diabetes flavor=sklearn load_seconds=0.41
    mlyard-instance init-failed name=diabetes load_seconds=0.02      (the traceback on stderr)

A failed load keeps the process up, answering /ready and scoring routes with 503 and the
traceback, so the failure can be read instead of seen as a crash loop. SIGTERM (or SIGINT) stops
accepting, finishes in-flight requests (at most --graceful-timeout seconds), and exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import signal
import socket
import stat
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from mlyard.serving.app import DEFAULT_MAX_BODY_BYTES, ScoringApp

logger = logging.getLogger("mlyard.serving")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m mlyard.serving.instance", description="Serve one model as one deployment instance."
    )
    parser.add_argument("--model-dir", required=True, type=Path, help="the model folder (AZUREML_MODEL_DIR)")
    parser.add_argument("--code-dir", type=Path, help="folder of the scoring script")
    parser.add_argument("--scoring-script", help="file name of the scoring script inside --code-dir")
    parser.add_argument("--port", type=int, help="TCP port to listen on (0: pick a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address for --port (default 127.0.0.1)")
    parser.add_argument("--uds", type=Path, help="Unix domain socket path to listen on")
    parser.add_argument("--name", default="model", help="deployment/model name (V2 routes, logs)")
    parser.add_argument("--model-version", help="model version reported by V2 metadata")
    parser.add_argument("--max-concurrent-requests", type=int, default=1, help="answer 429 beyond this many")
    parser.add_argument("--request-timeout-ms", type=int, default=5000, help="answer 408 after this long")
    parser.add_argument(
        "--max-body-bytes", type=int, default=DEFAULT_MAX_BODY_BYTES, help="answer 413 beyond"
    )
    parser.add_argument("--graceful-timeout", type=float, default=30.0, help="seconds to drain on SIGTERM")
    parser.add_argument("--access-log", action="store_true", help="log every request (costs throughput)")
    parser.add_argument(
        "--parent-pid", type=int, help="drain and exit once this process (a supervisor) is gone"
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    args = parser.parse_args(argv)
    if args.port is None and args.uds is None:
        parser.error("give --port N, --uds PATH, or both")
    if (args.code_dir is None) != (args.scoring_script is None):
        parser.error("--code-dir and --scoring-script go together")
    return args


def build_app(args: argparse.Namespace) -> ScoringApp:
    script = None
    if args.scoring_script is not None:
        script = (args.code_dir / args.scoring_script).resolve()
    return ScoringApp(
        args.model_dir.resolve(),
        scoring_script=script,
        name=args.name,
        version=args.model_version,
        max_concurrent_requests=args.max_concurrent_requests,
        request_timeout_ms=args.request_timeout_ms,
        max_body_bytes=args.max_body_bytes,
    )


def bind_sockets(args: argparse.Namespace) -> tuple[list[socket.socket], list[str]]:
    """The listening sockets and their descriptions ("http=127.0.0.1:5001", "uds=/run/x.sock")."""
    sockets, where = [], []
    if args.port is not None:
        family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
        tcp = socket.socket(family, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        tcp.bind((args.host, args.port))
        tcp.listen(2048)
        sockets.append(tcp)
        host, port = tcp.getsockname()[:2]
        where.append(f"http={host}:{port}")
    if args.uds is not None:
        path = Path(args.uds)
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISSOCK(path.stat().st_mode):
                path.unlink()  # a stale socket of an earlier instance
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        unix.bind(str(path))
        os.chmod(path, 0o660)
        unix.listen(2048)
        sockets.append(unix)
        where.append(f"uds={path}")
    return sockets, where


def _announce(app: ScoringApp) -> None:
    if app.is_ready:
        # The model and the libraries it loaded are here for good: keep the collector from
        # scanning them again and again, which shows as tail latency under load.
        gc.freeze()
        print(
            f"mlyard-instance ready name={app.name} flavor={app.flavor} load_seconds={app.load_seconds:.3f}",
            flush=True,
        )
    else:
        logger.error("loading %s failed:\n%s", app.model_dir, app.failure)
        print(f"mlyard-instance init-failed name={app.name} load_seconds={app.load_seconds:.3f}", flush=True)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    app = build_app(args)
    app.on_loaded(_announce)
    sockets, where = bind_sockets(args)
    config = uvicorn.Config(
        app,
        http=_available("httptools", "auto"),
        loop=_available("uvloop", "asyncio"),
        lifespan="on",
        access_log=args.access_log,
        log_level=args.log_level,
        timeout_graceful_shutdown=args.graceful_timeout,
        timeout_keep_alive=75,  # longer than a gateway's pool keeps idle connections
        server_header=False,
        date_header=False,
        proxy_headers=False,
    )
    server = _server_class()(config)
    if args.parent_pid is not None:
        _exit_with_parent(args.parent_pid, server)
    print(f"mlyard-instance listening name={args.name} pid={os.getpid()} {' '.join(where)}", flush=True)
    try:
        server.run(sockets=sockets)
    finally:
        for sock in sockets:
            sock.close()
        if args.uds is not None:
            with contextlib.suppress(FileNotFoundError):
                Path(args.uds).unlink()
    print(f"mlyard-instance stopped name={args.name}", flush=True)
    if app.busy_threads():
        # A run() still going after the drain would hold interpreter exit; the drain is over.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0


def _exit_with_parent(parent: int, server: Any) -> None:
    """A supervisor killed without stopping its instances leaves them to init: stop then, as SIGTERM would."""

    def watch() -> None:
        while not server.should_exit:
            if os.getppid() != parent:
                logger.warning("the supervisor (pid %d) is gone; stopping", parent)
                server.should_exit = True
                return
            time.sleep(0.5)

    threading.Thread(target=watch, name="mlyard-parent-watch", daemon=True).start()


def _server_class() -> type:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, but a drained SIGTERM ends in exit code 0, after our own clean-up.

        uvicorn re-raises the signal it caught once it has shut down, which kills the process
        before the UDS file is removed and the "stopped" line is printed.
        """

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            handled = (signal.SIGINT, signal.SIGTERM)
            original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
            try:
                yield
            finally:
                for sig, handler in original.items():
                    signal.signal(sig, handler)

    return Server


def _available(module: str, fallback: str) -> str:
    import importlib.util

    return module if importlib.util.find_spec(module) is not None else fallback


def main(argv: Sequence[str] | None = None) -> int:
    return serve(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
