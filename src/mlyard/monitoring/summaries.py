"""Mergeable summaries of a table's columns against a reference layout.

A summary holds only what adds up across files: row, null and type-error counts, the count, mean
and sum of squared deviations of the numbers (merged with Chan's parallel formula), their minimum
and maximum, the histogram over the layout's fine bins, and per-category counts. Summarising each
file of a window separately and merging gives the same result as summarising them all at once,
so the work can be spread over Ray tasks or processes.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from mlyard.monitoring.layout import ColumnLayout, category_counts, numeric_values

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass
class ColumnSummary:
    """What one column of one or more files holds, relative to its reference layout."""

    rows: int = 0
    nulls: int = 0
    type_errors: int = 0
    count: int = 0  # the valid values: not null, not NaN, not a type error
    mean: float = 0.0
    m2: float = 0.0  # sum of squared deviations from the mean
    minimum: float = np.inf
    maximum: float = -np.inf
    histogram: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # How far the values in the two open-ended bins lie beyond the reference's range, summed
    # (Σ (minimum − x) below it, Σ (x − maximum edge) above it): Wasserstein's outer part, exactly.
    below_distance: float = 0.0
    above_distance: float = 0.0
    categories: Counter[str] = field(default_factory=Counter)

    @property
    def std(self) -> float:
        """The population standard deviation (ddof 0, as NumPy's and Evidently's)."""
        return float(np.sqrt(self.m2 / self.count)) if self.count else float("nan")

    def merged(self, other: ColumnSummary) -> ColumnSummary:
        """The summary of both parts' rows together."""
        count = self.count + other.count
        delta = other.mean - self.mean
        mean = self.mean + delta * other.count / count if count else 0.0
        m2 = self.m2 + other.m2 + delta * delta * self.count * other.count / count if count else 0.0
        histogram = self.histogram + other.histogram if len(self.histogram) else other.histogram.copy()
        return ColumnSummary(
            rows=self.rows + other.rows,
            nulls=self.nulls + other.nulls,
            type_errors=self.type_errors + other.type_errors,
            count=count,
            mean=mean,
            m2=m2,
            minimum=min(self.minimum, other.minimum),
            maximum=max(self.maximum, other.maximum),
            histogram=histogram,
            below_distance=self.below_distance + other.below_distance,
            above_distance=self.above_distance + other.above_distance,
            categories=self.categories + other.categories,
        )


TableSummary = dict[str, ColumnSummary]


def summarize_column(column: pa.ChunkedArray[Any], layout: ColumnLayout) -> ColumnSummary:
    """One column summarised against its layout, vectorised (NumPy over the Arrow buffers)."""
    rows = len(column)
    if layout.kind == "categorical":
        counts = category_counts(column)
        return ColumnSummary(
            rows=rows, nulls=column.null_count, count=sum(counts.values()), categories=Counter(counts)
        )
    values, type_errors = numeric_values(column)
    # Filtering costs a pass and a copy; a column without nulls or NaN (the sum says) skips it.
    total = float(values.sum())
    if column.null_count or np.isnan(total):
        values = values[~np.isnan(values)]
        total = float(values.sum())
    valid = values
    bins = layout.bins(valid)
    histogram = np.bincount(bins, minlength=len(layout.edges) + 1).astype(np.int64)
    summary = ColumnSummary(
        rows=rows,
        nulls=rows - len(valid) - type_errors,
        type_errors=type_errors,
        count=len(valid),
        histogram=histogram,
    )
    if len(layout.edges) and (histogram[0] or histogram[-1]):
        summary.below_distance = float(np.sum(layout.edges[0] - valid[bins == 0])) if histogram[0] else 0.0
        last = len(layout.edges)
        summary.above_distance = (
            float(np.sum(valid[bins == last] - layout.edges[-1])) if histogram[-1] else 0.0
        )
    if len(valid):
        summary.mean = total / len(valid)
        deviations = valid - summary.mean
        summary.m2 = float(np.dot(deviations, deviations))
        summary.minimum, summary.maximum = float(valid.min()), float(valid.max())
    return summary


def summarize(table: pa.Table, layouts: Mapping[str, ColumnLayout]) -> TableSummary:
    """Every laid-out column of `table` summarised (the caller has checked they are present), the
    columns spread over a thread per core (NumPy and Arrow release the GIL in their loops)."""
    from concurrent.futures import ThreadPoolExecutor

    names = list(layouts)
    with ThreadPoolExecutor(max_workers=min(len(names), os.cpu_count() or 1) or 1) as pool:
        summaries = pool.map(lambda name: summarize_column(table.column(name), layouts[name]), names)
        return dict(zip(names, summaries, strict=True))


def merge_summaries(parts: Iterable[TableSummary]) -> TableSummary:
    """Per-file summaries combined into the summary of all the files."""
    merged: TableSummary = {}
    for part in parts:
        for name, summary in part.items():
            merged[name] = merged[name].merged(summary) if name in merged else summary
    return merged
