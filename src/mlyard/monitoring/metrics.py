"""Every monitoring metric, registered by name in one table (Metaflow-style: a dotted path per
metric, imported only when used — so listing or validating names imports no NumPy or SciPy).

Adding a metric is one function + `Metric(...)` in its module and one line here. The families'
compute signatures are in `drift.py`, `quality.py`, `performance.py` and `attribution.py`;
`contract.py` is the shape.
"""

from __future__ import annotations

import importlib

from mlyard.entities.specs.spec_files import did_you_mean
from mlyard.errors import InvalidArgument
from mlyard.monitoring.contract import Metric

# (family, kind, metric name, where it lives) — names exactly Azure ML's (plus seed 004's mape and
# rmse_zero_target); `kind` is the feature type (drift, quality) or the ml_task (performance).
METRICS: tuple[tuple[str, str, str, str], ...] = (
    ("drift", "numerical", "normalized_wasserstein_distance", "drift"),
    ("drift", "numerical", "jensen_shannon_distance", "drift"),
    ("drift", "numerical", "population_stability_index", "drift"),
    ("drift", "numerical", "two_sample_kolmogorov_smirnov_test", "drift"),
    ("drift", "categorical", "jensen_shannon_distance", "drift"),
    ("drift", "categorical", "population_stability_index", "drift"),
    ("drift", "categorical", "pearsons_chi_squared_test", "drift"),
    ("quality", "numerical", "null_value_rate", "quality"),
    ("quality", "numerical", "data_type_error_rate", "quality"),
    ("quality", "numerical", "out_of_bounds_rate", "quality"),
    ("quality", "categorical", "null_value_rate", "quality"),
    ("quality", "categorical", "data_type_error_rate", "quality"),
    ("quality", "categorical", "out_of_bounds_rate", "quality"),
    ("performance", "classification", "accuracy", "performance"),
    ("performance", "classification", "precision", "performance"),
    ("performance", "classification", "recall", "performance"),
    ("performance", "classification", "f1_score", "performance"),
    ("performance", "classification", "auc", "performance"),
    ("performance", "regression", "mae", "performance"),
    ("performance", "regression", "mse", "performance"),
    ("performance", "regression", "rmse", "performance"),
    ("performance", "regression", "mape", "performance"),
    ("performance", "regression", "rmse_zero_target", "performance"),
    # One value over all features (Azure's thresholds name it without a feature kind).
    ("attribution", "all_features", "normalized_discounted_cumulative_gain", "attribution"),
)

# What a signal computes when its metric_thresholds name none (Azure's SDK defaults for drift and
# quality; every metric of the task for performance, which has no default in Azure).
DEFAULT_METRICS: dict[tuple[str, str], tuple[str, ...]] = {
    ("drift", "numerical"): ("normalized_wasserstein_distance",),
    ("drift", "categorical"): ("jensen_shannon_distance",),
    ("quality", "numerical"): ("null_value_rate", "data_type_error_rate", "out_of_bounds_rate"),
    ("quality", "categorical"): ("null_value_rate", "data_type_error_rate", "out_of_bounds_rate"),
    ("performance", "classification"): ("accuracy", "precision", "recall", "f1_score", "auc"),
    ("performance", "regression"): ("mae", "mse", "rmse", "mape", "rmse_zero_target"),
    ("attribution", "all_features"): ("normalized_discounted_cumulative_gain",),
}


def kinds(family: str) -> list[str]:
    """The feature kinds (or ml tasks) a family's thresholds are grouped by."""
    return sorted({kind for f, kind, _, _ in METRICS if f == family})


def metric_names(family: str, kind: str) -> list[str]:
    """The metric names a family offers for a kind, in the table's order."""
    return [name for f, k, name, _ in METRICS if f == family and k == kind]


def check_metric_name(family: str, kind: str, name: str, where: str) -> None:
    """An unknown metric is an error naming where it was written, with a did-you-mean."""
    names = metric_names(family, kind)
    if name not in names:
        raise InvalidArgument(
            f"{where}: unknown {kind} metric {name!r}{did_you_mean(name, names)}; "
            f"known ones are {', '.join(names)}"
        )


def get_metric(family: str, kind: str, name: str) -> Metric:
    """The registered metric, imported on first use."""
    check_metric_name(family, kind, name, "metric")
    module = next(m for f, k, n, m in METRICS if (f, k, n) == (family, kind, name))
    metric = getattr(importlib.import_module(f"mlyard.monitoring.{module}"), name)
    assert isinstance(metric, Metric)
    return metric
