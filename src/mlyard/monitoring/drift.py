"""Drift metrics between a reference and a production column summary, names exactly Azure's.

Each is a `Metric` (contract.py) whose compute takes `(reference, production, layout)` and
returns a float, or None when either side has no values. How each is computed:

- `normalized_wasserstein_distance`: the first Wasserstein distance divided by the reference's
  population standard deviation (as Evidently and Azure normalise it), from the 1000 fine
  quantile bins: each side's CDF is taken as linear inside a bin and ∫|F − G| is integrated
  exactly on those lines; beyond the reference's range it is exact, from the summed distances of
  the values there. A reference with no spread (std 0) gives the plain distance.
- `two_sample_kolmogorov_smirnov_test`: the p-value (two-sided, asymptotic: SciPy's
  `kstwo.sf(D, round(n·m/(n+m)))`, as `ks_2samp(method="asymp")`) of the largest CDF gap D at the
  fine bin edges. A p-value: breached *below* its threshold.
- `jensen_shannon_distance`: √(JS divergence), base 2 (so in [0, 1], as SciPy's
  `jensenshannon(p, q, base=2)`), over the 20 coarse bins + 2 open bins, or the categories.
- `population_stability_index`: Σ (q − p)·ln(q / p) over the same bins, an empty bin counting as a
  proportion of 0.0001 (the usual convention, also Evidently's) so the sum stays finite.
- `pearsons_chi_squared_test`: the p-value of Pearson's χ² test of independence on the 2 × K table
  of category counts (reference, production; categories seen on either side), without Yates'
  correction — SciPy's `chi2_contingency(table, correction=False)`.

Binned and fine-bin values approximate the exact sample statistics within the bins' resolution
(the shared test holds them to SciPy's exact values on the same samples).
"""

from __future__ import annotations

import numpy as np

from mlyard.monitoring.contract import Metric
from mlyard.monitoring.layout import ColumnLayout
from mlyard.monitoring.summaries import ColumnSummary

EMPTY_BIN_PROPORTION = 1e-4


def binned_counts(
    reference: ColumnSummary, production: ColumnSummary, layout: ColumnLayout
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The two sides' counts over the same bins — the coarse bins of a numerical column, or the
    categories of either side — and the bins' labels (for charts)."""
    if layout.kind == "numerical":
        edges = [f"{edge:.6g}" for edge in layout.coarse_edges]
        labels = ["(no values)"]
        if edges:
            inner = [f"[{a}, {b})" for a, b in zip(edges, edges[1:], strict=False)]
            labels = [f"< {edges[0]}", *inner, f"≥ {edges[-1]}"]
        return (
            np.add.reduceat(reference.histogram, layout.coarse_starts),
            np.add.reduceat(production.histogram, layout.coarse_starts),
            labels,
        )
    names = sorted(set(reference.categories) | set(production.categories))
    return (
        np.array([reference.categories[n] for n in names], dtype=np.int64),
        np.array([production.categories[n] for n in names], dtype=np.int64),
        names,
    )


def _proportions(counts: np.ndarray) -> np.ndarray:
    return np.asarray(counts / counts.sum(), dtype=np.float64)


def _empty(reference: ColumnSummary, production: ColumnSummary) -> bool:
    return reference.count == 0 or production.count == 0


def _cdfs(
    reference: ColumnSummary, production: ColumnSummary, layout: ColumnLayout
) -> tuple[np.ndarray, ...]:
    """Both CDFs at the fine bin edges (from the lowest to the highest edge)."""
    f = np.cumsum(reference.histogram[:-1]) / reference.count
    g = np.cumsum(production.histogram[:-1]) / production.count
    return layout.edges, f, g


def _wasserstein(reference: ColumnSummary, production: ColumnSummary, layout: ColumnLayout) -> float | None:
    if _empty(reference, production):
        return None
    edges, f, g = _cdfs(reference, production, layout)
    gap = f - g
    a, b, width = gap[:-1], gap[1:], np.diff(edges)
    same_sign = a * b >= 0
    total = np.abs(a) + np.abs(b)
    # ∫|line from a to b| over the width: a trapezoid, or two triangles where the line crosses zero.
    with np.errstate(invalid="ignore", divide="ignore"):
        crossing = np.where(total > 0, (a * a + b * b) / (2 * total), 0.0)
    inside = float(np.sum(width * np.where(same_sign, total / 2, crossing)))
    # Beyond the reference's range one side's CDF is flat (0 below, 1 above; the reference has no
    # values there), so ∫|F − G| there is the mean distance of the other side's values beyond it.
    below = abs(reference.below_distance / reference.count - production.below_distance / production.count)
    above = abs(reference.above_distance / reference.count - production.above_distance / production.count)
    distance = inside + below + above
    std = reference.std
    return distance / std if std > 0 else distance


def _kolmogorov_smirnov(
    reference: ColumnSummary, production: ColumnSummary, layout: ColumnLayout
) -> float | None:
    from scipy.stats import kstwo

    if _empty(reference, production):
        return None
    _, f, g = _cdfs(reference, production, layout)
    statistic = float(np.max(np.abs(f - g)))
    n, m = reference.count, production.count
    return float(np.clip(kstwo.sf(statistic, np.round(n * m / (n + m))), 0.0, 1.0))


def _jensen_shannon(
    reference: ColumnSummary, production: ColumnSummary, layout: ColumnLayout
) -> float | None:
    if _empty(reference, production):
        return None
    p, q = (_proportions(c) for c in binned_counts(reference, production, layout)[:2])
    mixture = (p + q) / 2

    def divergence(x: np.ndarray) -> float:
        nonzero = x > 0
        return float(np.sum(x[nonzero] * np.log2(x[nonzero] / mixture[nonzero])))

    return float(np.sqrt(max((divergence(p) + divergence(q)) / 2, 0.0)))


def _population_stability(
    reference: ColumnSummary, production: ColumnSummary, layout: ColumnLayout
) -> float | None:
    if _empty(reference, production):
        return None
    p, q = (
        np.maximum(_proportions(c), EMPTY_BIN_PROPORTION)
        for c in binned_counts(reference, production, layout)[:2]
    )
    return float(np.sum((q - p) * np.log(q / p)))


def _chi_squared(reference: ColumnSummary, production: ColumnSummary, layout: ColumnLayout) -> float | None:
    from scipy.stats import chi2

    if _empty(reference, production):
        return None
    table = np.vstack(binned_counts(reference, production, layout)[:2]).astype(np.float64)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 1.0  # one category on both sides: nothing differs
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    return float(chi2.sf(statistic, table.shape[1] - 1))


# Default thresholds: Azure's SDK sets 0.1 for its two default metrics (Wasserstein, and
# Jensen-Shannon); for the others it has none, so mlyard uses the usual ones (PSI 0.2, p < 0.05).
normalized_wasserstein_distance = Metric("normalized_wasserstein_distance", _wasserstein, 0.1)
jensen_shannon_distance = Metric("jensen_shannon_distance", _jensen_shannon, 0.1)
population_stability_index = Metric("population_stability_index", _population_stability, 0.2)
two_sample_kolmogorov_smirnov_test = Metric(
    "two_sample_kolmogorov_smirnov_test", _kolmogorov_smirnov, 0.05, direction="below"
)
pearsons_chi_squared_test = Metric("pearsons_chi_squared_test", _chi_squared, 0.05, direction="below")
