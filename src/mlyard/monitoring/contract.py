"""The one small shape every monitoring metric has: a name, a default threshold, a direction.

A metric's `compute` takes what its family needs (drift: the two column summaries; quality: the
production summary; performance: actual and predicted arrays) and returns one float, or None when
the data holds nothing to measure (RMSE on zero targets with no zero target). `breached` is the
only place that decides whether a value crosses its threshold.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Direction = Literal["above", "below"]


@dataclass(frozen=True)
class Metric:
    """One metric: `compute(...)` → value; breached when the value is `direction` the threshold.

    Distances and error rates breach *above* their threshold; p-values of statistical tests and
    scores such as accuracy breach *below* it.
    """

    name: str
    compute: Callable[..., float | None]
    default_threshold: float | None
    direction: Direction = "above"

    def breached(self, value: float | None, threshold: float | None) -> bool:
        """True when `value` crosses `threshold`; never for a missing value or threshold."""
        if value is None or threshold is None or math.isnan(value):
            return False
        return value > threshold if self.direction == "above" else value < threshold

    def __call__(self, *args: Any) -> float | None:
        return self.compute(*args)
