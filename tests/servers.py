"""Team servers for tests: the real app under uvicorn on a free 127.0.0.1 port, in a thread of the
test process (fast to start: mlyard is imported already), with its background loops running."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.waiting import wait_until


@dataclass
class ThreadServer:
    url: str
    server: Any
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def serve_in_thread(path: Path, **options: Any) -> ThreadServer:
    from mlyard.server.config import ServerConfig
    from mlyard.server.main import prepare

    config = ServerConfig.single(path)
    config.background = True
    config.lease_seconds = 5.0
    for name, value in options.items():
        setattr(config, name, value)
    server, listener, url = prepare(config, "127.0.0.1", 0, own_logging=False)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="test-server", daemon=True
    )
    thread.start()

    def started() -> bool:
        if not thread.is_alive():  # its exception is in the test's captured stderr
            raise AssertionError(f"the test server at {url} stopped before it started")
        return bool(server.started)

    wait_until(started, timeout=20, message=f"the test server at {url} to start", interval=0.01)
    return ThreadServer(url, server, thread)
