"""Metric series for the studio's charts, downsampled on the server so a million points draw at once.

Largest-Triangle-Three-Buckets (Steinarsson, 2013) keeps the first and last points and, from each
of `limit - 2` equal buckets, the point forming the largest triangle with the point kept before it
and the mean of the next bucket: the visual shape (peaks, drops) survives, unlike with striding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from mlyard.entities.jobs.job import Metric
from mlyard.errors import InvalidArgument

MAX_POINTS = 2000
XAxis = Literal["step", "time", "relative"]
X_AXES: tuple[XAxis, ...] = ("step", "time", "relative")


def x_axis(value: str) -> XAxis:
    for axis in X_AXES:
        if axis == value:
            return axis
    raise InvalidArgument(f"x must be one of {', '.join(X_AXES)}, got {value!r}")


def series(points: Sequence[Metric], axis: XAxis, limit: int = MAX_POINTS) -> dict[str, list[float]]:
    """`{"x": [...], "y": [...]}` in x order, at most `limit` points. Time axes are in seconds
    (wall time since the epoch, or since the first point)."""
    if axis == "step":
        pairs = [(float(p.step), p.value) for p in points]
    else:
        origin = points[0].timestamp if axis == "relative" and points else 0
        pairs = [((p.timestamp - origin) / 1000.0, p.value) for p in points]
    pairs.sort(key=lambda pair: pair[0])
    kept = lttb(pairs, limit)
    return {"x": [x for x, _ in kept], "y": [y for _, y in kept]}


def lttb(points: Sequence[tuple[float, float]], limit: int) -> list[tuple[float, float]]:
    """At most `limit` (≥ 3) of `points` (sorted by x), chosen by Largest-Triangle-Three-Buckets."""
    if limit < 3:
        raise InvalidArgument(f"a downsampled series keeps at least 3 points, not {limit}")
    count = len(points)
    if count <= limit:
        return list(points)
    kept = [points[0]]
    bucket = (count - 2) / (limit - 2)
    previous = points[0]
    for index in range(limit - 2):
        start = int(index * bucket) + 1
        end = int((index + 1) * bucket) + 1
        next_start, next_end = end, min(int((index + 2) * bucket) + 1, count)
        following = points[next_start:next_end] or [points[-1]]
        mean_x = sum(x for x, _ in following) / len(following)
        mean_y = sum(y for _, y in following) / len(following)
        best, best_area = points[start], -1.0
        for candidate in points[start:end]:
            area = abs(
                (previous[0] - mean_x) * (candidate[1] - previous[1])
                - (previous[0] - candidate[0]) * (mean_y - previous[1])
            )
            if area > best_area:
                best, best_area = candidate, area
        kept.append(best)
        previous = best
    kept.append(points[-1])
    return kept
