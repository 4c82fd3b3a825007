"""A job's log as its runner writes it, and the outcome a runner returns.

The log is kept in a local file while the job runs and mirrored to where the job is recorded
(the artifact store, or a team server) at most every `LOG_SYNC_SECONDS`, so `mlyard job stream`
on any machine follows it; its last lines become the error of a failed job.
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlyard.entities.jobs.job import JobStatus
from mlyard.runtime.job_host import JobHost, as_host
from mlyard.services.workspaces.workspace import Workspace

LOG_SYNC_SECONDS = 1.0
ERROR_LOG_LINES = 20

LogCallback = Callable[[str], None]


@dataclass(frozen=True)
class RunResult:
    """How a runner's job ended; `exit_code` is the command's, when there was a command."""

    status: JobStatus
    error: str | None = None
    exit_code: int | None = None


class JobLog:
    """The job's stdout+stderr: kept in a local file, mirrored to the artifact store every second.

    Readers (`mlyard job stream`, another machine) read the stored copy, so they need nothing
    but the workspace.
    """

    def __init__(self, place: Workspace | JobHost, job_id: str, on_log: LogCallback | None) -> None:
        self._host = as_host(place)
        self._job_id = job_id
        self._on_log = on_log
        self._lock = threading.Lock()
        # Open for the job's whole life (closed in `close`), so not a `with` block.
        self._file = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix=f"mlyard-{job_id}-", suffix=".log", delete=False
        )
        self._path = Path(self._file.name)
        self._dirty = False
        self._last_sync = 0.0
        self._tail: deque[str] = deque(maxlen=ERROR_LOG_LINES)
        self._partial = ""

    def write(self, text: str) -> None:
        data = text.encode("utf-8", errors="replace")
        self._write_bytes(data)

    def _write_bytes(self, data: bytes) -> None:
        text = data.decode("utf-8", errors="replace")
        with self._lock:
            self._file.write(data)
            self._file.flush()
            self._dirty = True
            lines = (self._partial + text).split("\n")
            self._partial = lines.pop()
            self._tail.extend(lines)
        if self._on_log is not None:
            self._on_log(text)

    def pump(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        stream = process.stdout
        while chunk := stream.read1(65536):  # type: ignore[attr-defined]
            self._write_bytes(chunk)
            self.sync_if_due()

    def tail(self) -> str:
        with self._lock:
            lines = [*self._tail, *([self._partial] if self._partial else [])]
        return "\n".join(lines[-ERROR_LOG_LINES:])

    def sync_if_due(self) -> None:
        if self._dirty and time.monotonic() - self._last_sync >= LOG_SYNC_SECONDS:
            self.sync()

    def sync(self) -> None:
        with self._lock:
            if not self._dirty:
                return
            self._dirty = False
            self._last_sync = time.monotonic()
            self._host.sync_log(self._job_id, self._path)

    def close(self) -> None:
        with self._lock:
            self._file.close()
            self._dirty = True
        try:
            self.sync()
        finally:
            self._path.unlink(missing_ok=True)
