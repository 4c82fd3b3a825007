"""Helpers for endpoint tests: models and scoring scripts to deploy, and a bounded load generator.

`Load` sends scoring requests from a few threads (one keep-alive client each) until stopped, at
most `max_seconds`; every request's start and end time, status, serving deployment and error is
recorded, so a test can assert zero failures and count the split per traffic step.
"""

from __future__ import annotations

import json
import re
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.waiting import wait_until

COLUMNS = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]


def register_ridge(client: Any, alpha: float = 0.5, name: str = "ridge") -> Any:
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    features, target = load_diabetes(return_X_y=True, as_frame=True)
    model = Ridge(alpha=alpha).fit(features, target)
    return client.models.log(model, name, "sklearn", input_example=features.head(3)), model, features


def scoring_body(features: Any, rows: int = 1) -> dict[str, Any]:
    frame = features.head(rows)
    return {
        "input_data": {
            "columns": list(frame.columns),
            "index": list(range(rows)),
            "data": frame.values.tolist(),
        }
    }


def write_script(folder: Path, body: str) -> Path:
    """A code folder holding score.py with `body` (dedented)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "score.py").write_text(textwrap.dedent(body))
    return folder


ECHO_SCRIPT = """
    import json, os, time

    def init():
        global delay
        delay = float(os.environ.get("SLEEP_SECONDS", "0"))

    def run(raw):
        if delay:
            time.sleep(delay)
        return {"answer": os.environ.get("ANSWER", "ok"), "rows": len(json.loads(raw).get("data", []))}
"""

FAILING_RUN_SCRIPT = """
    def init():
        pass

    def run(raw):
        raise RuntimeError("this deployment always fails")
"""

FAILING_INIT_SCRIPT = """
    import os

    def init():
        raise ValueError("no weights in " + os.environ["AZUREML_MODEL_DIR"] + ": the model folder is empty")

    def run(raw):
        return []
"""


def instance_pids(logs: str) -> list[int]:
    """Pids of the instances the supervisor started, in order, from a deployment's log."""
    return [int(pid) for pid in re.findall(r"started instance \d+ \(pid (\d+)\)", logs)]


@dataclass
class Outcome:
    started: float
    ended: float
    status: int | None  # None: no HTTP answer at all
    deployment: str | None
    body: str
    error: str | None = None


@dataclass
class Load:
    """Requests to `url` with `key` from `threads` threads, for at most `max_seconds`."""

    url: str
    key: str
    body: dict[str, Any]
    threads: int = 4
    max_seconds: float = 60.0
    max_requests: int = 50_000
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []
        self._payload = json.dumps(self.body).encode()

    def start(self) -> Load:
        self._deadline = time.monotonic() + self.max_seconds
        for index in range(self.threads):
            worker = threading.Thread(target=self._run, name=f"load-{index}", daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def stop(self) -> list[Outcome]:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=30)
        return self.outcomes

    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status != 200]

    def answered_since(self, since: float) -> list[Outcome]:
        """Requests sent at or after `since` (monotonic clock) that have their outcome."""
        with self._lock:
            return [o for o in self.outcomes if o.started >= since]

    def wait_answered(self, count: int, since: float = float("-inf"), timeout: float = 30.0) -> float:
        """Until `count` requests sent since `since` are answered; returns the time that happened.

        Steps of a load test end on a number of requests seen, not after a fixed time, so a slow
        machine lengthens a step instead of leaving it too thin to judge.
        """
        wait_until(
            lambda: len(self.answered_since(since)) >= count,
            timeout=timeout,
            message=f"{count} requests of the load to be answered",
        )
        return time.monotonic()

    def between(self, start: float, end: float) -> list[Outcome]:
        """Requests sent after `start` and answered before `end` (monotonic clock)."""
        return [o for o in self.outcomes if o.started >= start and o.ended <= end]

    def _run(self) -> None:
        headers = {"authorization": f"Bearer {self.key}", "content-type": "application/json"}
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set() and time.monotonic() < self._deadline:
                with self._lock:
                    if len(self.outcomes) >= self.max_requests:
                        return
                started = time.monotonic()
                try:
                    response = client.post(self.url, content=self._payload, headers=headers)
                    served_by = response.headers.get("azureml-model-deployment")
                    outcome = Outcome(
                        started, time.monotonic(), response.status_code, served_by, response.text
                    )
                except httpx.HTTPError as exc:
                    outcome = Outcome(started, time.monotonic(), None, None, "", repr(exc))
                with self._lock:
                    self.outcomes.append(outcome)


@contextmanager
def load(url: str, key: str, body: dict[str, Any], **options: Any) -> Iterator[Load]:
    generator = Load(url, key, body, **options).start()
    try:
        yield generator
    finally:
        generator.stop()


def within_binomial(observed: int, total: int, percent: int, sigmas: float = 4.5) -> bool:
    """Whether `observed` of `total` draws is what weight `percent` gives, within `sigmas` SDs."""
    p = percent / 100
    if p in (0.0, 1.0):
        return observed == round(p * total)
    spread = sigmas * (total * p * (1 - p)) ** 0.5
    return abs(observed - total * p) <= spread + 1
