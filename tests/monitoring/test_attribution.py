"""Feature attribution drift: forests' importances on both sides compared by NDCG, against
hand-checked cases — the same data ranks the same (1.0), a reversed order breaches."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from mlyard.errors import InvalidArgument
from mlyard.monitoring.attribution import feature_attribution_drift
from mlyard.monitoring.compare import compare
from mlyard.monitoring.signals import plan_signals

SIGNAL = {
    "type": "feature_attribution_drift",
    "data_column_names": {"target_column": "y", "prediction": "prediction"},
    "metric_thresholds": {"normalized_discounted_cumulative_gain": 0.9},
}


def table(weights: tuple[float, float, float], column: str, n: int = 3_000, seed: int = 1) -> pa.Table:
    """x1, x2, x3 uniform and a colour; `column` = the weighted sum of x1..x3 (+ a little noise)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (n, 3))
    colour = rng.choice(["red", "green", "blue"], n)
    y = x @ np.array(weights) + rng.normal(0, 0.01, n)
    return pa.table({"x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2], "colour": colour, column: y})


def plan(**changes: object) -> object:
    [found] = plan_signals({"attribution": {**SIGNAL, **changes}})
    return found


def by_metric(results, metric):  # type: ignore[no-untyped-def]
    return {r.feature: r for r in results if r.metric == metric}


def test_the_same_data_ranks_the_features_the_same_ndcg_one() -> None:
    reference = table((3.0, 1.0, 0.2), "y")
    production = reference.rename_columns(["x1", "x2", "x3", "colour", "prediction"])
    results = feature_attribution_drift(reference, production, plan())

    [ndcg] = by_metric(results, "normalized_discounted_cumulative_gain").values()
    assert ndcg.feature == "all_features" and ndcg.kind == "regression"
    assert ndcg.value == pytest.approx(1.0) and ndcg.threshold == 0.9 and not ndcg.breached
    ref = by_metric(results, "reference_feature_importance")
    assert list(ref) == ["x1", "x2", "x3", "colour"]  # the roles' columns are not features
    assert ref["x1"].value > ref["x2"].value > ref["x3"].value > ref["colour"].value
    assert sum(r.value for r in ref.values()) == pytest.approx(1.0)
    assert all(r.threshold is None and not r.breached for r in ref.values())


def test_a_reversed_importance_order_gives_a_low_ndcg_and_breaches() -> None:
    reference = table((3.0, 1.0, 0.2), "y")
    production = table((0.2, 1.0, 3.0), "prediction", seed=2)
    results = feature_attribution_drift(reference, production, plan())

    [ndcg] = by_metric(results, "normalized_discounted_cumulative_gain").values()
    assert ndcg.value < 0.8 and ndcg.breached
    prod = by_metric(results, "production_feature_importance")
    assert prod["x3"].value > prod["x2"].value > prod["x1"].value


def test_a_classifier_on_labels_and_a_listed_feature_subset() -> None:
    numbers = table((3.0, 1.0, 0.2), "y")
    labels = np.where(numbers.column("y").to_numpy() > 2.1, "yes", "no")
    reference = numbers.set_column(4, "y", pa.array(labels))
    production = reference.rename_columns(["x1", "x2", "x3", "colour", "prediction"])
    results = feature_attribution_drift(reference, production, plan(features=["x1", "x3"]))
    [ndcg] = by_metric(results, "normalized_discounted_cumulative_gain").values()
    assert ndcg.kind == "classification" and ndcg.value == pytest.approx(1.0)
    assert list(by_metric(results, "production_feature_importance")) == ["x1", "x3"]


def test_compare_leaves_attribution_to_the_monitor_run() -> None:
    reference = table((3.0, 1.0, 0.2), "y")
    assert compare(reference, reference, {"attribution": SIGNAL}) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"data_column_names": {"prediction": "p"}},
         r"monitoring_signals.attribution.data_column_names.target_column: feature attribution drift needs"),
        ({"metric_thresholds": {"normalized_discounted_cumulative_gai": 0.9}},
         r"monitoring_signals.attribution.metric_thresholds: unknown all_features metric "
         r"'normalized_discounted_cumulative_gai' \(did you mean "
         r"'normalized_discounted_cumulative_gain'\?\)"),
        ({"metric_thresholds": {"normalized_discounted_cumulative_gain": "high"}},
         r"metric_thresholds.normalized_discounted_cumulative_gain: expected a number, got 'high'"),
        ({"metric_thresholds": [0.9]}, r"metric_thresholds: expected a mapping of metric name to threshold"),
    ],
)  # fmt: skip
def test_bad_attribution_signals_are_refused_naming_the_field(changes: dict, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        plan_signals({"attribution": {**SIGNAL, **changes}})


def test_missing_columns_are_named_with_the_field_that_asked_for_them() -> None:
    reference = table((3.0, 1.0, 0.2), "y")
    missing = r"data_column_names.prediction: column 'prediction' is not in the production data"
    with pytest.raises(InvalidArgument, match=missing):
        feature_attribution_drift(reference, reference, plan())
    production = reference.rename_columns(["x1", "x2", "x3", "colour", "prediction"]).drop_columns(["x2"])
    with pytest.raises(InvalidArgument, match=r"features: column 'x2' is not in the production data"):
        feature_attribution_drift(reference, production, plan(features=["x1", "x2"]))
