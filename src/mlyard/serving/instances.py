"""Instance processes as the supervisor runs them: start, watch, probe, stop.

Each is `python -m mlyard.serving.instance --uds …` in the deployment's environment, in its own
session (a Ctrl-C of the server's terminal does not reach it: the supervisor stops it), told the
server's pid so it exits by itself if the server dies without stopping it. Its stdout and stderr
go line by line into the deployment's log; the last stderr lines are kept to say why it died.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import IO

from mlyard.serving.deployment_log import DeploymentLog

STDERR_TAIL_LINES = 40
_READY = "mlyard-instance ready"
_FAILED = "mlyard-instance init-failed"


class InstanceProcess:
    """One running (or ended) instance process and what it said about itself."""

    def __init__(
        self, label: str, command: list[str], env: dict[str, str], cwd: Path, uds: Path, log: DeploymentLog
    ) -> None:
        self.label, self.command, self.env, self.cwd, self.uds, self.log = label, command, env, cwd, uds, log
        self.process: subprocess.Popen[str] | None = None
        self.loaded: str | None = None  # "ready" or "failed" once loading ended
        self.started_at = 0.0
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self._readers: list[threading.Thread] = []

    def start(self) -> None:
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            self.command, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, errors="replace", bufsize=1, start_new_session=True,
        )  # fmt: skip
        source = f"{self.label} pid {self.process.pid}"
        assert self.process.stdout is not None and self.process.stderr is not None
        self._readers = [
            _reader(self.process.stdout, lambda line: self._stdout(line, source)),
            _reader(self.process.stderr, lambda line: self._stderr(line, source)),
        ]

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def returncode(self) -> int | None:
        return self.process.poll() if self.process else None

    def describe_exit(self) -> str:
        code = self.returncode
        if code is None:
            return "still running"
        if code < 0:
            with contextlib.suppress(ValueError):
                return f"killed by {signal.Signals(-code).name}"
        return f"exited with code {code}"

    def probe(self, path: str, timeout: float) -> int | None:
        """The HTTP status of `GET path` on the instance's socket, or None if it did not answer."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                connection.settimeout(timeout)
                connection.connect(str(self.uds))
                connection.sendall(
                    f"GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n".encode()
                )
                head = connection.recv(64)
            return int(head.split(b" ", 2)[1])
        except (OSError, ValueError, IndexError):
            return None

    def terminate(self) -> None:
        """SIGTERM: the instance stops accepting, finishes what is in flight, and exits."""
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def wait(self, timeout: float) -> bool:
        if self.process is None:
            return True
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        for reader in self._readers:
            reader.join(timeout=2)
        return True

    def _signal(self, sig: signal.Signals) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)

    def _stdout(self, line: str, source: str) -> None:
        if line.startswith(_READY):
            self.loaded = "ready"
        elif line.startswith(_FAILED):
            self.loaded = "failed"
        self.log.write(line, source)

    def _stderr(self, line: str, source: str) -> None:
        self.stderr_tail.append(line)
        self.log.write(line, source)


def _reader(stream: IO[str], handle: Callable[[str], None]) -> threading.Thread:
    def drain() -> None:
        try:
            with contextlib.suppress(ValueError, OSError):  # the pipe closed under us at shutdown
                for line in stream:
                    handle(line.rstrip("\n"))
        finally:
            stream.close()

    thread = threading.Thread(target=drain, name="mlyard-instance-output", daemon=True)
    thread.start()
    return thread


def socket_folder() -> Path:
    """A short folder for instance sockets (a Unix socket path is limited to ~100 bytes)."""
    import tempfile

    base = Path(tempfile.gettempdir())
    if len(str(base)) > 40:
        base = Path("/tmp")
    folder = Path(tempfile.mkdtemp(prefix="mlyard-ep-", dir=base))
    os.chmod(folder, 0o700)
    return folder
