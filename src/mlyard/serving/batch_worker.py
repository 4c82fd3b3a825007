"""A batch job's scoring worker: a process that loads the model once and scores mini-batches on request.

    python -m mlyard.serving.batch_worker CONFIG_JSON REQUEST_FD REPLY_FD

The runner (runtime/batch_runner) writes one JSON task per line to REQUEST_FD (`{"index": 3,
"rows": [30, 40]}` or `{"index": 3, "files": [...]}`); the worker scores it, appends the result
to its own part file (services/batch_results) and only then answers one JSON line on REPLY_FD.
Its stdout and stderr — whatever score.py prints — go to the job's log. End of input ends it. A
worker whose runner died finishes the mini-batch it is on (so it is kept, not scored again), and
exits. With `"write_parts": false` (a worker on a Ray node) the reply carries the result rows
instead, and the runner writes them.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

from mlyard.services.batch.batch_results import PartWriter, note_worker
from mlyard.serving.batch_scoring import MiniBatchScorer

ORPHAN_CHECK_SECONDS = 1.0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print("usage: python -m mlyard.serving.batch_worker CONFIG_JSON REQUEST_FD REPLY_FD", file=sys.stderr)
        return 2
    config = json.loads(Path(args[0]).read_text())
    requests = os.fdopen(int(args[1]), "r", encoding="utf-8")
    replies = os.fdopen(int(args[2]), "w", encoding="utf-8")
    logging.basicConfig(level=str(config.get("logging_level", "info")).upper(), stream=sys.stderr)
    scorer = MiniBatchScorer(config)
    try:
        scorer.start()
    except BaseException:
        _send(replies, {"ready": False, "error": traceback.format_exc()})
        return 3
    state = Path(config["state_dir"])
    writer = None
    if config.get("write_parts", True):
        note_worker(state, os.getpid())
        writer = PartWriter(state / f"{config['slot']}-{os.getpid()}-{uuid.uuid4().hex[:8]}.part")
    busy_since: list[float | None] = [None]
    _watch_for_orphaning(busy_since, float(config.get("timeout", 30)))
    _send(replies, {"ready": True, "pid": os.getpid()})
    for line in requests:
        if not line.strip():
            continue
        busy_since[0] = time.monotonic()
        reply, header, payload = scorer.score(json.loads(line))
        if reply["ok"] and writer is not None:
            writer.write(reply["index"], reply["items"], reply["failed_items"], header, payload)
        elif reply["ok"]:
            reply.update(header=header.decode("utf-8"), rows=payload.decode("utf-8"))
        busy_since[0] = None
        if not _send(replies, reply):
            break  # the runner is gone; what was scored is in the part file
    if writer is not None:
        writer.close()
    scorer.shutdown()
    return 0


def _send(replies: Any, message: dict[str, Any]) -> bool:
    try:
        replies.write(json.dumps(message) + "\n")
        replies.flush()
    except (BrokenPipeError, OSError):
        return False
    return True


def _watch_for_orphaning(busy_since: list[float | None], timeout: float) -> None:
    """A worker whose runner died exits once idle, or when its mini-batch overruns the timeout."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(ORPHAN_CHECK_SECONDS)
            if os.getppid() == parent:
                continue
            started = busy_since[0]
            if started is None or time.monotonic() - started > timeout:
                os._exit(0)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
