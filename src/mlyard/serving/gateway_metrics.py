"""What the gateway measures: Prometheus series, and a rolling window for `online-endpoint metrics`.

Prometheus (in the server's registry, served at `/metrics`):

    mlyard_endpoint_requests_total{workspace, endpoint, deployment, status}
    mlyard_endpoint_request_duration_seconds{workspace, endpoint, deployment}   (histogram)
    mlyard_endpoint_mirror_requests_total{workspace, endpoint, deployment, outcome}

Requests refused before a deployment was chosen (401, 404, 413) have `deployment=""`; requests
for unknown endpoints `endpoint="<unknown>"`, so a scan of names cannot grow the series.

The rolling window keeps, per deployment and second, the request count, the count per status, a
latency histogram (services/online/latency_buckets: 8 %-wide log buckets, so P50/P95/P99 are within
4 %) and mirror copies by outcome, for the last `MAX_WINDOW_SECONDS`. Everything is updated and read
on the event loop's thread only. The finished seconds are handed over as per-minute records by
`unflushed` to the flush task (serving/metrics_flush), which persists them off the request path;
`live_minutes` are the seconds not persisted yet, for reads that add them to the persisted ones.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from mlyard.entities.endpoints.endpoint import EndpointMetrics, TrafficMinute
from mlyard.services.online.endpoint_metrics_history import traffic_summary
from mlyard.services.online.latency_buckets import bucket

MAX_WINDOW_SECONDS = 900
UNKNOWN_ENDPOINT = "<unknown>"
_PROMETHEUS_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class _Second:
    __slots__ = ("second", "count", "statuses", "histogram", "mirrors", "flushed")

    def __init__(self, second: int) -> None:
        self.second = second
        self.count = 0
        self.statuses: dict[int, int] = {}
        self.histogram: dict[int, int] = {}  # bucket index → count: a few keys, where a list had 230
        self.mirrors: dict[str, int] = {}
        self.flushed: _Second | None = None  # what of this second is persisted already

    def copy(self) -> _Second:
        copied = _Second(self.second)
        copied.count, copied.statuses = self.count, dict(self.statuses)
        copied.histogram, copied.mirrors = dict(self.histogram), dict(self.mirrors)
        return copied

    def changed_since_flush(self) -> bool:
        """Counts only grow: equal totals mean nothing new (a cheap test for 900 seconds a flush)."""
        flushed = self.flushed
        return flushed is None or (flushed.count, sum(flushed.mirrors.values())) != (
            self.count, sum(self.mirrors.values()),
        )  # fmt: skip

    def minus(self, flushed: _Second | None) -> _Second:
        """What this second counted beyond what was flushed of it."""
        if flushed is None:
            return self
        delta = _Second(self.second)
        delta.count = self.count - flushed.count
        delta.statuses = _minus(self.statuses, flushed.statuses)
        delta.histogram = _minus(self.histogram, flushed.histogram)
        delta.mirrors = _minus(self.mirrors, flushed.mirrors)
        return delta


K = TypeVar("K", int, str)


def _minus(a: dict[K, int], b: dict[K, int]) -> dict[K, int]:
    return {key: count - b.get(key, 0) for key, count in a.items() if count != b.get(key, 0)}


class DeploymentStats:
    """The rolling window of one deployment (or of an endpoint's unrouted requests), plus its
    Prometheus children, looked up once and kept (a `labels()` call per request costs microseconds)."""

    def __init__(self, metrics: GatewayMetrics, workspace: str, endpoint: str, deployment: str) -> None:
        self._metrics = metrics
        self._labels = (workspace, endpoint, deployment)
        self.workspace, self.endpoint, self.deployment = self._labels
        self._slots: list[_Second | None] = [None] * MAX_WINDOW_SECONDS
        self._counters: dict[int, Any] = {}
        self._latency = metrics.latency.labels(*self._labels)

    def observe(self, status: int, seconds: float) -> None:
        slot = self._slot(int(time.monotonic()))
        slot.count += 1
        slot.statuses[status] = slot.statuses.get(status, 0) + 1
        index = bucket(seconds)
        slot.histogram[index] = slot.histogram.get(index, 0) + 1
        counter = self._counters.get(status)
        if counter is None:
            counter = self._counters[status] = self._metrics.requests.labels(*self._labels, str(status))
        counter.inc()
        self._latency.observe(seconds)

    def observe_mirror(self, outcome: str) -> None:
        """A mirror copy sent to this deployment: `outcome` is its status, "error" or "dropped"."""
        slot = self._slot(int(time.monotonic()))
        slot.mirrors[outcome] = slot.mirrors.get(outcome, 0) + 1
        self._metrics.mirrored.labels(*self._labels, outcome).inc()

    def _slot(self, second: int) -> _Second:
        index = second % MAX_WINDOW_SECONDS
        slot = self._slots[index]
        if slot is None or slot.second != second:
            slot = self._slots[index] = _Second(second)
        return slot

    def seconds(self, window: int, now: int | None = None) -> list[_Second]:
        current = int(time.monotonic()) if now is None else now
        oldest = current - window + 1
        return [slot for slot in self._slots if slot is not None and oldest <= slot.second <= current]

    def unflushed(self, through: int) -> list[tuple[_Second, _Second]]:
        """(second, a copy of its counts now) for every second up to `through` (monotonic) that
        counted something since it was last flushed."""
        return [
            (slot, slot.copy()) for slot in self._slots
            if slot is not None and slot.second <= through and slot.changed_since_flush()
        ]  # fmt: skip

    @property
    def persisted(self) -> bool:
        """Whether this window's counts belong in a workspace's history (not an unknown endpoint's)."""
        return bool(self.workspace) and self.endpoint != UNKNOWN_ENDPOINT


@dataclass
class PendingFlush:
    """What a flush hands to the database: per workspace, per-minute records of what each second
    counted since its last flush; `done` records those counts as flushed once they are written."""

    minutes: dict[str, list[TrafficMinute]] = field(default_factory=dict)
    snapshots: dict[str, list[tuple[_Second, _Second]]] = field(default_factory=dict)

    def done(self, workspace: str) -> None:
        for slot, snapshot in self.snapshots.get(workspace, ()):
            slot.flushed = snapshot


class GatewayMetrics:
    """The Prometheus series of every endpoint; the rolling windows by (workspace, endpoint, deployment)."""

    def __init__(self, registry: Any) -> None:
        from prometheus_client import Counter, Histogram

        labels = ("workspace", "endpoint", "deployment")
        self.requests = Counter(
            "mlyard_endpoint_requests", "Scoring requests answered by the endpoint gateway",
            (*labels, "status"), registry=registry,
        )  # fmt: skip
        self.latency = Histogram(
            "mlyard_endpoint_request_duration_seconds", "Scoring latency at the gateway, request to answer",
            labels, registry=registry, buckets=_PROMETHEUS_BUCKETS,
        )  # fmt: skip
        self.mirrored = Counter(
            "mlyard_endpoint_mirror_requests", "Mirror copies sent to deployments, by outcome",
            (*labels, "outcome"), registry=registry,
        )  # fmt: skip
        self._stats: dict[tuple[str, str, str], DeploymentStats] = {}
        # Held by a flush from its snapshot until its marks moved, and by a read of persisted plus
        # live minutes, so that read never counts a second twice nor misses one.
        self.flush_lock = asyncio.Lock()

    def stats(self, workspace: str, endpoint: str, deployment: str) -> DeploymentStats:
        key = (workspace, endpoint, deployment)
        found = self._stats.get(key)
        if found is None:
            found = self._stats[key] = DeploymentStats(self, workspace, endpoint, deployment)
        return found

    def summary(
        self, workspace: str, endpoint: str, window: int, deployment: str | None = None
    ) -> EndpointMetrics:
        """Requests/s, errors and latency percentiles of `endpoint` (one deployment's, if named) over
        the last `window` seconds of this process."""
        window = max(1, min(window, MAX_WINDOW_SECONDS))
        now = int(time.monotonic())
        per_deployment: dict[str, TrafficMinute] = {}
        for stats in self._windows(workspace, endpoint, deployment):
            slots = stats.seconds(window, now)
            if slots:
                per_deployment[stats.deployment] = _record(stats, slots, datetime.now(UTC))
        return EndpointMetrics(
            endpoint=endpoint,
            window_seconds=window,
            total=traffic_summary(per_deployment.values(), window),
            deployments={
                name: traffic_summary([record], window)
                for name, record in sorted(per_deployment.items())
                if name
            },  # fmt: skip
        )

    def unflushed(self, through: int) -> PendingFlush:
        """Per-minute records of every window's seconds after its last flush, through `through`."""
        pending = PendingFlush()
        offset = time.time() - time.monotonic()
        for stats in list(self._stats.values()):
            if not stats.persisted:
                continue
            snapshots = stats.unflushed(through)
            if snapshots:
                deltas = [snapshot.minus(slot.flushed) for slot, snapshot in snapshots]
                pending.minutes.setdefault(stats.workspace, []).extend(_minutes(stats, deltas, offset))
                pending.snapshots.setdefault(stats.workspace, []).extend(snapshots)
        return pending

    def live_minutes(
        self, workspace: str, endpoint: str, deployment: str | None = None
    ) -> list[TrafficMinute]:
        """Per-minute records of `endpoint`'s seconds not flushed yet (the current one included)."""
        now, offset = int(time.monotonic()), time.time() - time.monotonic()
        return [
            minute
            for stats in self._windows(workspace, endpoint, deployment)
            for minute in _minutes(
                stats, [snapshot.minus(slot.flushed) for slot, snapshot in stats.unflushed(now)], offset
            )
        ]

    def _windows(self, workspace: str, endpoint: str, deployment: str | None) -> list[DeploymentStats]:
        return [
            stats for (ws, ep, name), stats in list(self._stats.items())
            if ws == workspace and ep == endpoint and deployment in (None, name)
        ]  # fmt: skip


def _minutes(stats: DeploymentStats, slots: Iterable[_Second], offset: float) -> list[TrafficMinute]:
    """Seconds (monotonic) as per-minute records of wall-clock minutes; `offset` = wall - monotonic."""
    by_minute: dict[int, list[_Second]] = {}
    for slot in slots:
        by_minute.setdefault(int((slot.second + offset) // 60), []).append(slot)
    return [
        _record(stats, seconds, datetime.fromtimestamp(minute * 60, UTC))
        for minute, seconds in sorted(by_minute.items())
    ]


def _record(stats: DeploymentStats, slots: Iterable[_Second], minute: datetime) -> TrafficMinute:
    requests = errors = 0
    statuses: dict[str, int] = {}
    histogram: dict[int, int] = {}
    mirrors: dict[str, int] = {}
    for slot in slots:
        requests += slot.count
        for status, count in slot.statuses.items():
            statuses[str(status)] = statuses.get(str(status), 0) + count
            if status >= 400:
                errors += count
        for index, count in slot.histogram.items():
            histogram[index] = histogram.get(index, 0) + count
        for outcome, count in slot.mirrors.items():
            mirrors[outcome] = mirrors.get(outcome, 0) + count
    return TrafficMinute(
        endpoint=stats.endpoint, deployment=stats.deployment, minute=minute, requests=requests,
        errors=errors, status_counts=statuses, latency_buckets=histogram, mirror_outcomes=mirrors,
    )  # fmt: skip
