"""What is learned once from the reference: each column's kind, bins, bounds and categories.

Binning (documented, and the same for every drift metric and chart):
- A numerical column gets FINE_BINS = 1000 *quantile* bins of the reference (equal numbers of
  reference values), learned from a seeded sample (with replacement) of SAMPLE_SIZE reference values so that
  learning costs the same on a million rows as on a hundred thousand. The outer edges are the
  reference's exact minimum and (just above) its maximum, and two open-ended bins catch the
  production values below and above the reference range — which are also its out-of-bounds
  values. Repeated edges (a column with few distinct values) are merged.
- The chart histogram and the binned metrics (Jensen-Shannon, PSI) use every 50th of those edges:
  COARSE_BINS = 20 quantile bins (5 % of the reference each) plus the two open-ended bins.
  Wasserstein and Kolmogorov-Smirnov use the fine bins (see `drift.py`).
- A categorical column's categories are the reference's distinct values (as text); a production
  value outside them is out of bounds, and counts as its own category for drift.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

FINE_BINS = 1000
COARSE_BINS = 20
SAMPLE_SIZE = 100_000
LOOKUP_CELLS = 1 << 18  # equal-width cells of the reference range, for `ColumnLayout.bins`
Kind = Literal["numerical", "categorical"]


@dataclass(frozen=True)
class ColumnLayout:
    """One reference column: `edges` for numerical ones, `categories` for categorical ones."""

    name: str
    kind: Kind
    edges: np.ndarray = field(default_factory=lambda: np.empty(0))
    coarse_starts: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.intp))
    categories: tuple[str, ...] = ()
    lookup: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int16))

    def bins(self, values: np.ndarray) -> np.ndarray:
        """Each value's histogram bin: `np.searchsorted(edges, values, side="right")`, computed
        faster. Binary search over 1000 edges costs ~10 unpredictable branches a value; instead a
        value's equal-width cell is looked up, which gives its bin outright unless an edge lies in or
        next to that cell (`-1` in `lookup`), and only those few values are searched."""
        if not len(self.edges):
            return np.zeros(len(values), dtype=np.intp)
        low, high = self.edges[0], self.edges[-1]
        cells = (values - low) * (LOOKUP_CELLS / (high - low)) + 1.0
        np.clip(cells, 0, LOOKUP_CELLS + 1, out=cells)
        found = self.lookup[cells.astype(np.intp)].astype(np.intp)
        unsure = np.flatnonzero(found < 0)
        found[unsure] = np.searchsorted(self.edges, values[unsure], side="right")
        return np.asarray(found, dtype=np.intp)

    @property
    def minimum(self) -> float | None:
        return float(self.edges[0]) if len(self.edges) else None

    @property
    def maximum(self) -> float | None:
        """The reference's largest value (the last edge is the float just above it)."""
        return float(np.nextafter(self.edges[-1], -np.inf)) if len(self.edges) else None

    @property
    def coarse_edges(self) -> np.ndarray:
        """The edges between the chart histogram's bins (its first and last bins are open-ended)."""
        return self.edges[self.coarse_starts[1:] - 1] if len(self.edges) else self.edges


def column_kind(arrow_type: pa.DataType) -> Kind:
    """Numbers are numerical; text, booleans, dates and anything else are categorical."""
    import pyarrow.types as pt

    return "numerical" if pt.is_integer(arrow_type) or pt.is_floating(arrow_type) else "categorical"


def learn_layout(column: pa.ChunkedArray[Any], name: str, kind: Kind | None = None) -> ColumnLayout:
    """The layout of one reference column (see the module docstring for the binning)."""
    kind = kind or column_kind(column.type)
    if kind == "categorical":
        return ColumnLayout(name, kind, categories=tuple(sorted(category_counts(column))))
    values = numeric_values(column)[0]
    values = values[~np.isnan(values)]
    if not len(values):
        return ColumnLayout(name, kind)
    sample = values
    if len(values) > SAMPLE_SIZE:
        sample = values[np.random.default_rng(0).integers(0, len(values), SAMPLE_SIZE)]
    # NumPy's default (linear) quantiles, read off one sort: cheaper than np.quantile's partitions.
    ordered = np.sort(sample)
    quantiles = np.interp(
        np.linspace(0.0, len(ordered) - 1.0, FINE_BINS + 1), np.arange(len(ordered)), ordered
    )
    quantiles[0], quantiles[-1] = values.min(), np.nextafter(values.max(), np.inf)
    quantiles = np.maximum.accumulate(quantiles)  # the exact extremes may undercut a sampled edge
    edges = np.unique(quantiles)
    coarse = np.unique(quantiles[:: FINE_BINS // COARSE_BINS])
    # Histogram bin i holds the values with i edges at or below them; a coarse edge at position p
    # of `edges` starts coarse bin p + 1, so `np.add.reduceat(fine, starts)` coarsens.
    starts = np.concatenate([[0], np.searchsorted(edges, coarse) + 1]).astype(np.intp)
    return ColumnLayout(name, kind, edges=edges, coarse_starts=starts, lookup=_bin_lookup(edges))


def _bin_lookup(edges: np.ndarray) -> np.ndarray:
    """For cell k of `ColumnLayout.bins` (k - 1 equal-width cells above the lowest edge; 0 below
    it, the last one at or above the highest), the bin of every value in it, or -1 when an edge
    lies in that cell or a neighbour (a neighbour too, as rounding may put a value one cell off)."""
    low, high = edges[0], edges[-1]
    cell = np.arange(LOOKUP_CELLS + 2)
    width = (high - low) / LOOKUP_CELLS
    lowest = np.searchsorted(edges, low + (cell - 2) * width, side="right")
    highest = np.searchsorted(edges, low + (cell + 1) * width, side="right")
    highest[-1] = len(edges)
    return np.where(lowest == highest, lowest, -1).astype(np.int16)


def numeric_values(column: pa.ChunkedArray[Any]) -> tuple[np.ndarray, int]:
    """A column as float64 with NaN for nulls, and how many values were not numbers (text that does
    not parse as one: a data type error)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.types as pt

    type_errors = 0
    numbers: Any = column  # pyarrow's stubs do not follow compute functions through chunked arrays
    if pt.is_string(column.type) or pt.is_large_string(column.type):
        trimmed: Any = pc.utf8_trim_whitespace(column)
        parses = pc.match_substring_regex(
            trimmed, r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^(?i:nan|[-+]?inf)$"
        )
        # An empty cell (as CSV writes a missing value in a text column) is a null, not a type error.
        present = pc.and_(pc.is_valid(trimmed), pc.greater(pc.utf8_length(trimmed), pa.scalar(0)))
        errors: Any = pc.sum(pc.cast(pc.and_(present, pc.invert(parses)), pa.int64()))
        type_errors = int(errors.as_py() or 0)
        numbers = pc.cast(pc.if_else(parses, trimmed, pa.scalar(None, pa.string())), pa.float64())
    elif pt.is_boolean(column.type) or not (pt.is_integer(column.type) or pt.is_floating(column.type)):
        return np.full(len(column), np.nan), int(column.length() - column.null_count)
    else:
        numbers = pc.cast(column, pa.float64())
    values: np.ndarray = numbers.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    return values, type_errors


def category_counts(column: pa.ChunkedArray[Any]) -> dict[str, int]:
    """Counts of each non-null value, as text: dictionary-encoded chunks count their indices
    (NumPy's bincount), other columns go through pyarrow's hash aggregation."""
    import pyarrow as pa
    import pyarrow.compute as pc

    counts: Counter[str] = Counter()
    chunk: Any  # pyarrow's stubs type chunks as plain arrays, without a dictionary's fields
    for chunk in column.chunks:
        if pa.types.is_dictionary(chunk.type):
            indices = chunk.indices.drop_null().to_numpy(zero_copy_only=False)
            found = np.bincount(indices, minlength=len(chunk.dictionary))
            names = pc.cast(chunk.dictionary, pa.string()).to_pylist()
            counts.update({str(n): int(c) for n, c in zip(names, found, strict=True) if c})
            continue
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            chunk = pc.cast(chunk, pa.string())
        counted: Any = pc.value_counts(chunk)
        pairs = zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True)
        counts.update({str(v): int(c) for v, c in pairs if v is not None})
    return dict(counts)
