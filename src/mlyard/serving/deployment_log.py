"""A deployment's log in the artifact store: the supervisor's events and what its instances print.

Lines are buffered and appended to `endpoints/<endpoint>/<deployment>/logs/<uid>.log` when the
supervisor flushes (every pass, and at once for a failure), so `get-logs` works from any machine
that reaches the artifact store. Each line starts with a UTC timestamp and where it comes from:

    2026-12-01T22:49:17.496Z [supervisor] generation 2: instance 1 ready in 0.8 s
    2026-12-01T22:49:18.012Z [g2/i1 pid 4242] Traceback (most recent call last): …

Past `MAX_BYTES` the log keeps its newest half.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from mlyard.artifacts import ArtifactStore
from mlyard.errors import MlyardError, NotFound

MAX_BYTES = 8 * 2**20


class DeploymentLog:
    def __init__(self, artifacts: ArtifactStore, path: str) -> None:
        self.artifacts, self.path = artifacts, path
        self._pending: list[str] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        try:
            self._offset = artifacts.size(path)
        except NotFound:
            self._offset = 0

    def write(self, text: str, source: str = "supervisor") -> None:
        """Add `text` (one or more lines) from `source`; written at the next `flush`."""
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        lines = [f"{stamp} [{source}] {line}\n" for line in text.rstrip("\n").splitlines() or [""]]
        with self._lock:
            self._pending.extend(lines)

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        if not pending:
            return
        data = "".join(pending).encode()
        with self._write_lock:
            try:
                if self._offset + len(data) > MAX_BYTES:
                    self._keep_newest_half()
                self._offset = self.artifacts.write_at(self.path, self._offset, data)
            except MlyardError:  # the store is unreachable: keep the lines for the next flush
                with self._lock:
                    self._pending[:0] = pending

    def _keep_newest_half(self) -> None:
        start = max(0, self._offset - MAX_BYTES // 2)
        tail = self.artifacts.read_range(self.path, start, self._offset - start)
        tail = tail[tail.find(b"\n") + 1 :]
        self._offset = self.artifacts.write_at(self.path, 0, b"(older lines removed)\n" + tail)
