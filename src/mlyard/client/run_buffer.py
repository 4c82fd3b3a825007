"""Every run with unwritten data in this process, so SDK reads and interpreter exit can flush them.

Kept apart from `run.py` so the operations modules can flush before reading (read-your-writes)
without importing the run machinery.
"""

from __future__ import annotations

import threading
import weakref
from typing import Protocol


class Flushable(Protocol):
    def flush(self) -> None: ...


_pending: weakref.WeakSet[Flushable] = weakref.WeakSet()
_lock = threading.Lock()


def flush_pending() -> None:
    """Write every buffered point of every run in this process."""
    with _lock:
        runs = list(_pending)
    for run in runs:
        run.flush()


def add_pending(run: Flushable) -> None:
    with _lock:
        _pending.add(run)


def discard_pending(run: Flushable) -> None:
    with _lock:
        _pending.discard(run)
