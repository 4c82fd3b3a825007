"""mlyard commands as real processes for end-to-end tests: a server, workers, stopped by the test."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.waiting import wait_until

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


def announced_url(process: subprocess.Popen[bytes], log: Path, timeout: float = START_TIMEOUT) -> str:
    """The URL a server announces ("listening on http://…") once it also answers /healthz.

    Fails at once, with the log, when the process exits first; with the log's tail at the deadline.
    """

    def output() -> str:
        return log.read_text(errors="replace")

    def url_once_healthy() -> str | None:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode} before it was up:\n{output()}")
        found = re.search(r"listening on (http://\S+) ", output())
        return found.group(1) if found and _answers_healthz(found.group(1)) else None

    message = "the server to announce its URL and answer /healthz"
    return wait_until(url_once_healthy, timeout=timeout, message=message, log=output)


def _answers_healthz(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def start_server(workspace: Path, log: Path, *options: str, env: dict[str, str] | None = None) -> Process:
    """`mlyard server start --port 0` over `workspace`, once it answers /healthz."""
    server = start(["--workspace", str(workspace), "server", "start", "--port", "0", *options], log, env)
    try:
        server.url = announced_url(server.process, log)
    except AssertionError:
        server.stop()
        raise
    return server


def start_worker(url: str, key: str | None, log: Path, *options: str) -> Process:
    """`mlyard worker start --server URL`, once it says it takes jobs."""
    environment = clean_environment(**({"MLYARD_KEY": key} if key else {}))
    worker = start(["worker", "start", "--server", url, *options], log, environment)

    def taking_jobs() -> bool:
        if worker.process.poll() is not None:
            raise AssertionError(f"the worker exited with {worker.process.returncode}:\n{worker.output()}")
        return "takes" in worker.output()

    try:
        wait_until(taking_jobs, timeout=START_TIMEOUT, message="the worker to start", log=worker.output)
    except AssertionError:
        worker.stop()
        raise
    return worker


def wait_answering(
    process: subprocess.Popen[str], url: str, timeout: float, status: int | None = None
) -> None:
    """Until `process` answers GET `url` (with `status`, when given).

    When it exits first or the deadline passes, it is killed and the error shows what it printed
    on the pipes it was started with, so a broken start explains itself.
    """

    def answering() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the process exited with {process.returncode} before {url} answered")
        try:
            response = httpx.get(url, timeout=1)
        except httpx.TransportError:
            return False
        return status is None or response.status_code == status

    try:
        wait_until(answering, timeout=timeout, message=f"{url} to answer")
    except AssertionError as failure:
        if process.poll() is None:
            process.kill()
        out, err = process.communicate(timeout=10)
        raise AssertionError(f"{failure}\n--- stdout:\n{out or ''}\n--- stderr:\n{err or ''}") from None
