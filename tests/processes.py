"""mlyard commands as real processes for end-to-end tests: a server, workers, stopped by the test."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

MLYARD = [sys.executable, "-m", "mlyard.cli.main"]
START_TIMEOUT = 30.0


def clean_environment(**extra: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MLYARD_")}
    environment.update(extra)
    return environment


@dataclass
class Process:
    process: subprocess.Popen[bytes]
    log: Path
    url: str | None = None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 20.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        return int(self.process.returncode)

    def kill_hard(self) -> None:
        """kill -9: no cleanup, no goodbye — what a crashed machine looks like to the server."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


def start(args: list[str], log: Path, env: dict[str, str] | None = None) -> Process:
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*MLYARD, *args], stdout=sink, stderr=subprocess.STDOUT, env=env or clean_environment()
        )
    return Process(process, log)


def start_server(workspace: Path, log: Path, *options: str, env: dict[str, str] | None = None) -> Process:
    """`mlyard server start --port 0` over `workspace`, once it answers /healthz."""
    server = start(["--workspace", str(workspace), "server", "start", "--port", "0", *options], log, env)
    deadline = time.monotonic() + START_TIMEOUT
    while server.url is None:
        found = re.search(r"listening on (http://\S+) ", server.output())
        if found:
            server.url = found.group(1)
        elif server.process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise AssertionError(f"the server did not start:\n{server.output()}")
        else:
            time.sleep(0.05)
    while httpx.get(f"{server.url}/healthz", timeout=5).status_code != 200:
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.05)
    return server


def start_worker(url: str, key: str | None, log: Path, *options: str) -> Process:
    environment = clean_environment(**({"MLYARD_KEY": key} if key else {}))
    worker = start(["worker", "start", "--server", url, *options], log, environment)
    deadline = time.monotonic() + START_TIMEOUT
    while "takes" not in worker.output():
        if worker.process.poll() is not None or time.monotonic() > deadline:
            worker.stop()
            raise AssertionError(f"the worker did not start:\n{worker.output()}")
        time.sleep(0.05)
    return worker
