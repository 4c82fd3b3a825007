"""Data quality metrics of the production data, with types and bounds learned from the reference.

Each is a `Metric` whose compute takes `(production, layout)` and returns a rate in [0, 1]
(None for no rows); the default threshold is Azure's 0.0, so any bad value breaches.

- `null_value_rate`: nulls (and NaN) ÷ rows.
- `data_type_error_rate`: values whose type is not the reference's ÷ rows — for a numerical
  column, text that does not parse as a number; a categorical column takes any value as text.
- `out_of_bounds_rate`: valid values outside the reference ÷ valid values — below its minimum or
  above its maximum (numerical), or a category the reference never had (categorical).
"""

from __future__ import annotations

from mlyard.monitoring.contract import Metric
from mlyard.monitoring.layout import ColumnLayout
from mlyard.monitoring.summaries import ColumnSummary


def out_of_bounds_count(production: ColumnSummary, layout: ColumnLayout) -> int:
    """Valid production values outside the reference (the histogram's two open-ended bins)."""
    if layout.kind == "categorical":
        known = set(layout.categories)
        return sum(count for value, count in production.categories.items() if value not in known)
    if not len(layout.edges):
        return production.count  # the reference had no values at all: every value is new
    return int(production.histogram[0] + production.histogram[-1])


def _null_rate(production: ColumnSummary, layout: ColumnLayout) -> float | None:
    return production.nulls / production.rows if production.rows else None


def _type_error_rate(production: ColumnSummary, layout: ColumnLayout) -> float | None:
    return production.type_errors / production.rows if production.rows else None


def _out_of_bounds_rate(production: ColumnSummary, layout: ColumnLayout) -> float | None:
    return out_of_bounds_count(production, layout) / production.count if production.count else None


null_value_rate = Metric("null_value_rate", _null_rate, 0.0)
data_type_error_rate = Metric("data_type_error_rate", _type_error_rate, 0.0)
out_of_bounds_rate = Metric("out_of_bounds_rate", _out_of_bounds_rate, 0.0)
