"""The gateway's latency histogram: 8 %-wide logarithmic buckets from 10 µs to 10 minutes.

One scheme for the live window (serving/gateway_metrics) and the persisted minutes
(endpoint_metrics_history), so a percentile over either is the same number for the same requests:
bucket 0 holds everything up to 10 µs, bucket i > 0 holds (10 µs · 1.08^(i-1), 10 µs · 1.08^i],
and a percentile is reported as its bucket's geometric middle, so it is within 4 % of the truth.
Histograms are stored sparsely as {bucket index: count}.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from mlyard.entities.endpoints.endpoint import LatencySummary

BASE_SECONDS = 1e-5  # the lowest bucket's upper edge
GROWTH = 1.08
_LOG_GROWTH = math.log(GROWTH)
BUCKETS = int(math.log(600 / BASE_SECONDS) / _LOG_GROWTH) + 1  # up to 10 minutes
_WANTED = {"p50": 0.50, "p95": 0.95, "p99": 0.99}


def bucket(seconds: float) -> int:
    """The bucket index of a latency in seconds (longer than 10 minutes: the last bucket)."""
    if seconds <= BASE_SECONDS:
        return 0
    return min(BUCKETS - 1, int(math.log(seconds / BASE_SECONDS) / _LOG_GROWTH) + 1)


def bucket_value_ms(index: int) -> float:
    """The middle of a bucket (geometric), in milliseconds."""
    if index == 0:
        return BASE_SECONDS * 1000
    return float(BASE_SECONDS * GROWTH ** (index - 0.5) * 1000)


def percentiles(histogram: Mapping[int, int]) -> LatencySummary:
    """P50, P95 and P99 of a sparse histogram; all None when it is empty."""
    total = sum(histogram.values())
    if total == 0:
        return LatencySummary()
    found: dict[str, float] = {}
    seen = 0
    for index in sorted(histogram):
        count = histogram[index]
        if count <= 0:
            continue
        seen += count
        for name, fraction in _WANTED.items():
            if name not in found and seen >= math.ceil(fraction * total):
                found[name] = round(bucket_value_ms(index), 3)
        if len(found) == len(_WANTED):
            break
    return LatencySummary(**found)
