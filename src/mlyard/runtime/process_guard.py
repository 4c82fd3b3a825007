"""`python -m mlyard.runtime.process_guard PARENT_PID COMMAND...`: a job's process that dies with
its worker.

A worker killed with `kill -9` cannot stop the job it ran, and the job's lease then sends it to
another worker: without this guard both would run. The guard asks Linux to signal it when its
parent (the worker) dies, runs the command in its own process group, and on that signal stops
the whole group: SIGTERM, then SIGKILL after the grace period. It imports nothing but the standard
library, so it costs a few milliseconds.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_PDEATHSIG = 1
GRACE_SECONDS = float(os.environ.get("MLYARD_CANCEL_GRACE", "10"))


def _die_with_parent(parent: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the worker's own SIGTERM still stops the group
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


def main(argv: list[str]) -> int:
    parent, command = int(argv[0]), argv[1:]
    child: subprocess.Popen[bytes] | None = None

    def stop(signum: int, _frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the group signal below reaches us too
        if child is None:
            os._exit(143)
        os.killpg(0, signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        while child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(0, signal.SIGKILL)

    signal.signal(signal.SIGTERM, stop)
    _die_with_parent(parent)
    child = subprocess.Popen(command)
    code = child.wait()
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
