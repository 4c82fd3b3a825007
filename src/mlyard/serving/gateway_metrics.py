"""What the gateway measures: Prometheus series, and a rolling window for `online-endpoint metrics`.

Prometheus (in the server's registry, served at `/metrics`):

    mlyard_endpoint_requests_total{workspace, endpoint, deployment, status}
    mlyard_endpoint_request_duration_seconds{workspace, endpoint, deployment}   (histogram)
    mlyard_endpoint_mirror_requests_total{workspace, endpoint, deployment, outcome}

Requests refused before a deployment was chosen (401, 404, 413) have `deployment=""`; requests
for unknown endpoints `endpoint="<unknown>"`, so a scan of names cannot grow the series.

The rolling window keeps, per deployment and second, the request count, the count per status and
a latency histogram with 8 %-wide logarithmic buckets (so P50/P95/P99 are within 4 %), for the
last `MAX_WINDOW_SECONDS`. Everything is updated and read on the event loop's thread only.
"""

from __future__ import annotations

import math
import time
from typing import Any

from mlyard.entities.endpoint import EndpointMetrics, LatencySummary, TrafficSummary

MAX_WINDOW_SECONDS = 900
UNKNOWN_ENDPOINT = "<unknown>"
_BASE = 1e-5  # 10 µs: the lowest bucket's upper edge
_GROWTH = 1.08
_LOG_GROWTH = math.log(_GROWTH)
_BUCKETS = int(math.log(600 / _BASE) / _LOG_GROWTH) + 1  # up to 10 minutes
_PROMETHEUS_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


def _bucket(seconds: float) -> int:
    if seconds <= _BASE:
        return 0
    return min(_BUCKETS - 1, int(math.log(seconds / _BASE) / _LOG_GROWTH) + 1)


def _bucket_value_ms(index: int) -> float:
    """The middle of a bucket (geometric), in milliseconds."""
    if index == 0:
        return _BASE * 1000
    return float(_BASE * _GROWTH ** (index - 0.5) * 1000)


class _Second:
    __slots__ = ("second", "count", "statuses", "histogram", "mirrored", "mirror_errors")

    def __init__(self, second: int) -> None:
        self.second = second
        self.count = 0
        self.statuses: dict[int, int] = {}
        self.histogram = [0] * _BUCKETS
        self.mirrored = 0
        self.mirror_errors = 0


class DeploymentStats:
    """The rolling window of one deployment (or of an endpoint's unrouted requests), plus its
    Prometheus children, looked up once and kept (a `labels()` call per request costs microseconds)."""

    def __init__(self, metrics: GatewayMetrics, workspace: str, endpoint: str, deployment: str) -> None:
        self._metrics = metrics
        self._labels = (workspace, endpoint, deployment)
        self._slots: list[_Second | None] = [None] * MAX_WINDOW_SECONDS
        self._counters: dict[int, Any] = {}
        self._latency = metrics.latency.labels(*self._labels)

    def observe(self, status: int, seconds: float) -> None:
        slot = self._slot(int(time.monotonic()))
        slot.count += 1
        slot.statuses[status] = slot.statuses.get(status, 0) + 1
        slot.histogram[_bucket(seconds)] += 1
        counter = self._counters.get(status)
        if counter is None:
            counter = self._counters[status] = self._metrics.requests.labels(*self._labels, str(status))
        counter.inc()
        self._latency.observe(seconds)

    def observe_mirror(self, outcome: str) -> None:
        """A mirror copy sent to this deployment: `outcome` is its status, "error" or "dropped"."""
        slot = self._slot(int(time.monotonic()))
        slot.mirrored += 1
        if outcome != "200":
            slot.mirror_errors += 1
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

    def stats(self, workspace: str, endpoint: str, deployment: str) -> DeploymentStats:
        key = (workspace, endpoint, deployment)
        found = self._stats.get(key)
        if found is None:
            found = self._stats[key] = DeploymentStats(self, workspace, endpoint, deployment)
        return found

    def summary(self, workspace: str, endpoint: str, window: int) -> EndpointMetrics:
        """Requests/s, errors and latency percentiles of `endpoint` over the last `window` seconds."""
        window = max(1, min(window, MAX_WINDOW_SECONDS))
        now = int(time.monotonic())
        per_deployment: dict[str, list[_Second]] = {}
        for (ws, ep, deployment), stats in list(self._stats.items()):
            if ws == workspace and ep == endpoint:
                per_deployment.setdefault(deployment, []).extend(stats.seconds(window, now))
        everything = [slot for slots in per_deployment.values() for slot in slots]
        deployments = {
            name: _summarise(slots, window) for name, slots in per_deployment.items() if name and slots
        }
        return EndpointMetrics(
            endpoint=endpoint,
            window_seconds=window,
            total=_summarise(everything, window),
            deployments=deployments,
        )


def _summarise(slots: list[_Second], window: int) -> TrafficSummary:
    requests = sum(slot.count for slot in slots)
    statuses: dict[str, int] = {}
    histogram = [0] * _BUCKETS
    for slot in slots:
        for status, count in slot.statuses.items():
            statuses[str(status)] = statuses.get(str(status), 0) + count
        for index, count in enumerate(slot.histogram):
            if count:
                histogram[index] += count
    errors = sum(count for status, count in statuses.items() if int(status) >= 400)
    return TrafficSummary(
        requests=requests,
        requests_per_second=requests / window,
        errors=errors,
        error_rate=errors / requests if requests else 0.0,
        status_counts=dict(sorted(statuses.items())),
        latency_ms=_percentiles(histogram, requests),
        mirrored=sum(slot.mirrored for slot in slots),
        mirror_errors=sum(slot.mirror_errors for slot in slots),
    )


def _percentiles(histogram: list[int], total: int) -> LatencySummary:
    if total == 0:
        return LatencySummary()
    wanted = {"p50": 0.50, "p95": 0.95, "p99": 0.99}
    found: dict[str, float] = {}
    seen = 0
    for index, count in enumerate(histogram):
        if not count:
            continue
        seen += count
        for name, fraction in wanted.items():
            if name not in found and seen >= math.ceil(fraction * total):
                found[name] = round(_bucket_value_ms(index), 3)
        if len(found) == len(wanted):
            break
    return LatencySummary(**found)
