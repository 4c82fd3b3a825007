"""Waiting in tests: poll a condition until a deadline, and fail loudly when the deadline passes.

A test never sleeps a fixed time in the hope that the other side has done something: it asks
`wait_until` for the state it needs. On timeout the error says what was awaited, the last value
seen, and — when the test has one — the tail of the server's or process's log, so a failure on a
loaded machine explains itself instead of falling through to a confusing later assertion.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
LOG_TAIL_LINES = 60


def wait_until(
    predicate: Callable[[], T | None],
    *,
    timeout: float,
    message: str,
    log: Callable[[], str] | None = None,
    interval: float = 0.05,
) -> T:
    """The first answer `predicate` gives; AssertionError naming `message` after `timeout` s.

    None, False and an empty string or collection mean "not yet"; anything else is the answer
    (returned, so a test can wait for a value and use it). `log` is read only on failure (a
    server's or instance's output so far); its last lines go into the error. `interval` is the
    pause between polls, not a synchronisation.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value is not None and _arrived(value):
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(_timed_out(timeout, message, value, log))
        time.sleep(interval)


def _arrived(value: object) -> bool:
    # Never bool(value) on arbitrary objects: a pandas DataFrame, for one, has no truth value.
    if value is False:
        return False
    if isinstance(value, str | bytes | list | tuple | dict | set):
        return len(value) > 0
    return True


def _timed_out(timeout: float, message: str, last: object, log: Callable[[], str] | None) -> str:
    text = f"timed out after {timeout:g} s waiting for {message} (last value: {last!r})"
    if log is not None:
        tail = log().splitlines()[-LOG_TAIL_LINES:]
        text += "\n--- log (last lines):\n" + "\n".join(tail)
    return text
