"""One shared test run against every registered metric (scikit-learn's estimator-check style):
each metric of `metrics.METRICS` is computed by mlyard and by an independent reference — SciPy's
exact statistics, scikit-learn's metrics, or the formula written out by hand — on the same samples.

Binned metrics (Jensen-Shannon, PSI, χ²) must match exactly on the documented bins. Wasserstein and
Kolmogorov-Smirnov are computed from the 1000 fine quantile bins (so that they merge across
files) and must come within the stated tolerance of SciPy's exact values on the raw samples.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon
from sklearn import metrics as skm

from mlyard.monitoring.layout import learn_layout
from mlyard.monitoring.metrics import METRICS, get_metric
from mlyard.monitoring.performance import Outcomes
from mlyard.monitoring.summaries import summarize_column

RNG = np.random.default_rng(7)
NUMERICAL_PAIRS = {
    "same distribution": (RNG.normal(0, 1, 20_000), RNG.normal(0, 1, 15_000)),
    "shifted": (RNG.normal(0, 1, 20_000), RNG.normal(0.3, 1.2, 15_000)),
    "skewed, small shift": (RNG.lognormal(0, 1, 20_000), RNG.lognormal(0.05, 1, 15_000)),
}
CATEGORIES = np.array(["a", "b", "c", "d", "e"])
CATEGORICAL_PAIRS = {
    "same distribution": (RNG.choice(CATEGORIES[:4], 5_000), RNG.choice(CATEGORIES[:4], 4_000)),
    "new category and shift": (
        RNG.choice(CATEGORIES[:4], 5_000, p=[0.4, 0.3, 0.2, 0.1]),
        RNG.choice(CATEGORIES, 4_000, p=[0.2, 0.2, 0.2, 0.2, 0.2]),
    ),
}


def _binned(reference: np.ndarray, production: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """The documented bins, rebuilt independently: the coarse quantile edges with open outer bins
    (np.histogram over them), or the categories of either side."""
    if kind == "categorical":
        names = sorted(set(reference) | set(production))
        return (
            np.array([np.sum(reference == n) for n in names]),
            np.array([np.sum(production == n) for n in names]),
        )
    edges = np.concatenate(
        [[-np.inf], learn_layout(pa.chunked_array([reference]), "x").coarse_edges, [np.inf]]
    )
    # np.histogram's bins are [a, b) like mlyard's, except the last, closed one ([x, inf] is the same).
    return np.histogram(reference, edges)[0], np.histogram(production, edges)[0]


def _psi(reference: np.ndarray, production: np.ndarray, kind: str) -> float:
    p, q = (np.maximum(c / c.sum(), 1e-4) for c in _binned(reference, production, kind))
    return float(sum((qi - pi) * math.log(qi / pi) for pi, qi in zip(p, q, strict=True)))


def _chi_squared(reference: np.ndarray, production: np.ndarray, kind: str) -> float:
    return float(
        stats.chi2_contingency(np.vstack(_binned(reference, production, kind)), correction=False).pvalue
    )


# metric name → (reference implementation, absolute tolerance)
DRIFT_REFERENCES: dict[str, tuple[Callable[[np.ndarray, np.ndarray, str], float], float]] = {
    "normalized_wasserstein_distance": (
        lambda r, p, _: stats.wasserstein_distance(r, p) / np.std(r),
        0.01,
    ),
    # A p-value moves fast with the statistic where there is no drift: held by the statistic instead.
    "two_sample_kolmogorov_smirnov_test": (lambda r, p, _: stats.ks_2samp(r, p, method="asymp").pvalue, 0.0),
    "jensen_shannon_distance": (lambda r, p, kind: jensenshannon(*_binned(r, p, kind), base=2), 1e-9),
    "population_stability_index": (_psi, 1e-9),
    "pearsons_chi_squared_test": (_chi_squared, 1e-9),
}


def _y(n: int = 400, classes: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(classes)
    actual = rng.integers(0, classes, n)
    score = np.clip(actual / max(classes - 1, 1) * 0.6 + rng.uniform(0, 0.5, n), 0, 1)
    predicted = np.where(rng.uniform(size=n) < 0.8, actual, rng.integers(0, classes, n))
    return actual, predicted, score


REGRESSION = (np.r_[np.random.default_rng(3).gamma(2, 2, 300), np.zeros(40)], None)
PERFORMANCE_REFERENCES: dict[str, Callable[[Outcomes], float]] = {
    "accuracy": lambda o: skm.accuracy_score(o.actual, o.predicted),
    "precision": lambda o: skm.precision_score(
        o.actual, o.predicted, average="binary" if len(set(o.actual)) == 2 else "macro"
    ),
    "recall": lambda o: skm.recall_score(
        o.actual, o.predicted, average="binary" if len(set(o.actual)) == 2 else "macro"
    ),
    "f1_score": lambda o: skm.f1_score(
        o.actual, o.predicted, average="binary" if len(set(o.actual)) == 2 else "macro"
    ),
    "auc": lambda o: skm.roc_auc_score(o.actual, o.score),
    "mae": lambda o: skm.mean_absolute_error(o.actual, o.predicted),
    "mse": lambda o: skm.mean_squared_error(o.actual, o.predicted),
    "rmse": lambda o: math.sqrt(skm.mean_squared_error(o.actual, o.predicted)),
    "mape": lambda o: skm.mean_absolute_percentage_error(o.actual[o.actual != 0], o.predicted[o.actual != 0]),
    "rmse_zero_target": lambda o: math.sqrt(
        skm.mean_squared_error(o.actual[o.actual == 0], o.predicted[o.actual == 0])
    ),
}


def _summaries(reference: np.ndarray, production: np.ndarray) -> tuple[Any, Any, Any]:
    layout = learn_layout(pa.chunked_array([reference]), "x")
    return (
        summarize_column(pa.chunked_array([reference]), layout),
        summarize_column(pa.chunked_array([production]), layout),
        layout,
    )


@pytest.mark.parametrize(("family", "kind", "name"), [m[:3] for m in METRICS], ids=lambda v: str(v))
def test_every_metric_matches_its_reference_implementation(family: str, kind: str, name: str) -> None:
    metric = get_metric(family, kind, name)
    assert metric.name == name
    if family == "drift":
        reference_value, tolerance = DRIFT_REFERENCES[name]
        for case, (ref, prod) in (NUMERICAL_PAIRS if kind == "numerical" else CATEGORICAL_PAIRS).items():
            got = metric(*_summaries(ref, prod))
            if name == "two_sample_kolmogorov_smirnov_test":
                _check_ks_p_value(got, ref, prod)
            else:
                assert got == pytest.approx(reference_value(ref, prod, kind), abs=tolerance), case
    elif family == "quality":
        _check_quality_metric(metric, kind)
    elif family == "attribution":
        _check_ndcg(metric)
    else:
        if kind == "classification":
            cases = [Outcomes(*_y(classes=2)[:2], score=_y(classes=2)[2])] + (
                [] if name == "auc" else [Outcomes(*_y(classes=3)[:2])]
            )
        else:
            actual = REGRESSION[0]
            predicted = actual + np.random.default_rng(4).normal(0, 1, len(actual))
            cases = [Outcomes(actual, predicted)]
        for outcomes in cases:
            assert metric(outcomes) == pytest.approx(PERFORMANCE_REFERENCES[name](outcomes), abs=1e-12)


def _check_ks_p_value(got: float | None, reference: np.ndarray, production: np.ndarray) -> None:
    """mlyard's p-value is SciPy's asymptotic one for a statistic within 0.003 of the exact D."""
    exact = stats.ks_2samp(reference, production, method="asymp")
    effective = np.round(len(reference) * len(production) / (len(reference) + len(production)))
    low, high = (stats.kstwo.sf(exact.statistic + d, effective) for d in (0.003, -0.003))
    assert got is not None and low - 1e-12 <= got <= high + 1e-12, (got, exact.pvalue)


def _check_quality_metric(metric: Any, kind: str) -> None:
    """Counted by hand on a column with 2 nulls, 1 text value among numbers, 2 values out of the
    reference's range (numerical) or 1 unseen category (categorical), out of 10 rows."""
    if kind == "numerical":
        reference = pa.chunked_array([pa.array([1.0, 2.0, 3.0, 4.0, 5.0])])
        production = pa.chunked_array([pa.array(["1", "2.5", None, "nan", "abc", "0.5", "7", "3", "4", "5"])])
        expected = {"null_value_rate": 2 / 10, "data_type_error_rate": 1 / 10, "out_of_bounds_rate": 2 / 7}
    else:
        reference = pa.chunked_array([pa.array(["a", "b", "c"])])
        production = pa.chunked_array([pa.array(["a", None, "b", "z", None, "c", "a", "a", "b", "c"])])
        expected = {"null_value_rate": 2 / 10, "data_type_error_rate": 0.0, "out_of_bounds_rate": 1 / 8}
    layout = learn_layout(reference, "x")
    assert metric(summarize_column(production, layout), layout) == pytest.approx(expected[metric.name])
    assert metric.default_threshold == 0.0


def _check_ndcg(metric: Any) -> None:
    """By hand: production ranks three features in the reverse of the reference's order, so the
    gains 0.1, 0.2, 0.7 come at ranks 1, 2, 3: DCG = 0.1 + 0.2/log2(3) + 0.7/2, and the ideal
    DCG = 0.7 + 0.2/log2(3) + 0.1/2."""
    reference = np.array([0.7, 0.2, 0.1])
    dcg = 0.1 + 0.2 / math.log2(3) + 0.7 / 2
    ideal = 0.7 + 0.2 / math.log2(3) + 0.1 / 2
    assert metric(reference, reference[::-1]) == pytest.approx(dcg / ideal, abs=1e-12)
    assert metric(reference, reference) == pytest.approx(1.0)
    assert metric(reference, np.array([0.5, 0.3, 0.2])) == pytest.approx(1.0)  # same order, other values
    assert metric(np.array([1.0]), np.array([1.0])) is None  # one feature: nothing to rank
    assert metric.default_threshold == 0.9 and metric.direction == "below"
    assert metric.breached(dcg / ideal, 0.9) and not metric.breached(1.0, 0.9)


def test_azure_default_thresholds_and_directions() -> None:
    assert get_metric("drift", "numerical", "normalized_wasserstein_distance").default_threshold == 0.1
    assert get_metric("drift", "categorical", "jensen_shannon_distance").default_threshold == 0.1
    ks = get_metric("drift", "numerical", "two_sample_kolmogorov_smirnov_test")
    assert ks.breached(0.01, 0.05) and not ks.breached(0.2, 0.05)  # a p-value breaches below
    assert get_metric("performance", "classification", "accuracy").breached(0.7, 0.8)
    assert not get_metric("performance", "regression", "mae").breached(1.0, None)  # no threshold, no verdict


def test_rmse_on_zero_targets_is_none_when_no_target_is_zero() -> None:
    metric = get_metric("performance", "regression", "rmse_zero_target")
    assert metric(Outcomes(np.array([1.0, 2.0]), np.array([1.5, 2.0]))) is None
