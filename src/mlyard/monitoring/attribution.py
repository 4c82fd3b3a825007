"""Feature attribution drift: do the features that drove the target in training still drive the
model's predictions in production?

Azure ML's `feature_attribution_drift` signal compares the feature importances of the reference
(training data *with its target*) with those of production (the model's inputs *with its
predictions*) by `normalized_discounted_cumulative_gain`, breached when it falls *below* the
threshold (0.9 in Azure's examples). Azure's documentation does not say how it computes the
importances (its monitoring component fits a surrogate model and explains it; the details are not
documented), so mlyard chooses, and says so:

- **Importances**: a small random forest (`N_TREES` trees, depth ≤ `MAX_DEPTH`) fitted on each side
  — reference features → target, production features → prediction — and its impurity-based
  (mean decrease in impurity) importances, normalised to sum to 1. Trees see interactions and
  non-linear effects that a per-feature score (mutual information, correlation) misses, need no
  scaling, and take categorical codes as they are; fitted on a seeded sample of at most
  `SAMPLE_ROWS` rows they cost well under a second, whatever the table's size, and are
  deterministic. Categorical columns are coded by the reference's categories (unknown → -1);
  missing numbers become the reference's median. Classification or regression follows
  `ml_task`, else the target's type (floats: regression), as model performance does.
- **NDCG**: scikit-learn's `ndcg_score(y_true=[reference importances], y_score=[production
  importances])`: production's ranking of the features, each gaining its reference importance,
  discounted by 1/log2(rank + 1), divided by the gain of the reference's own ranking. 1.0 when
  production ranks the features as training did; low when the important ones have dropped.
  Fewer than two features leave nothing to rank: the value is None (no verdict).

Results: one `normalized_discounted_cumulative_gain` result for the signal (feature
`all_features`), then per feature `reference_feature_importance` and
`production_feature_importance` results (no threshold, never breached) for charts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from mlyard.errors import InvalidArgument
from mlyard.monitoring import reading
from mlyard.monitoring.compare import MetricResult
from mlyard.monitoring.contract import Metric
from mlyard.monitoring.layout import column_kind
from mlyard.monitoring.signals import SignalPlan

if TYPE_CHECKING:
    import pyarrow as pa

N_TREES = 40
MAX_DEPTH = 8
SAMPLE_ROWS = 20_000
SEED = 0
ALL_FEATURES = "all_features"
NDCG = "normalized_discounted_cumulative_gain"
IMPORTANCE_METRICS = ("reference_feature_importance", "production_feature_importance")


def ndcg(reference_importances: np.ndarray, production_importances: np.ndarray) -> float | None:
    """NDCG of production's ranking of the features, with the reference importances as gains."""
    from sklearn.metrics import ndcg_score

    if len(reference_importances) < 2 or not np.any(reference_importances > 0):
        return None
    return float(ndcg_score(np.asarray([reference_importances]), np.asarray([production_importances])))


normalized_discounted_cumulative_gain = Metric(NDCG, ndcg, 0.9, "below")


def feature_attribution_drift(
    reference_table: Any, production_table: Any, plan: SignalPlan
) -> list[MetricResult]:
    """The signal's NDCG and both sides' importances per feature. Tables as `compare` takes them
    (Parquet/CSV paths, Arrow tables, DataFrames); columns missing on either side raise
    `InvalidArgument` naming the signal's field."""
    where = f"monitoring_signals.{plan.name}"
    target = plan.column_names.get("target_column")
    if not target:
        raise InvalidArgument(
            f"{where}.data_column_names.target_column: feature attribution drift needs the reference's "
            "target column (the training label) to learn which features mattered"
        )
    prediction = plan.column_names.get("prediction", "prediction")
    reference = _sample(reading.read_all(reference_table))
    production = _sample(reading.read_all(production_table))
    _require([target], reference, "reference data", f"{where}.data_column_names.target_column")
    _require([prediction], production, "production data", f"{where}.data_column_names.prediction")
    features = _features(plan, reference, production, {target, prediction})
    task = plan.ml_task or _task(reference.column(target))
    coding = _coding(reference, features)
    ref_importances = importances(
        _matrix(reference, features, coding), _labels(reference.column(target), task), task
    )
    prod_importances = importances(
        _matrix(production, features, coding), _labels(production.column(prediction), task), task
    )
    threshold = plan.thresholds.get(ALL_FEATURES, {}).get(NDCG)
    threshold = normalized_discounted_cumulative_gain.default_threshold if threshold is None else threshold
    value = ndcg(ref_importances, prod_importances)
    results = [
        MetricResult(plan.name, plan.type, ALL_FEATURES, task, NDCG, value, threshold,
                     normalized_discounted_cumulative_gain.breached(value, threshold))
    ]  # fmt: skip
    for i, feature in enumerate(features):
        for metric, side in zip(IMPORTANCE_METRICS, (ref_importances, prod_importances), strict=True):
            results.append(
                MetricResult(plan.name, plan.type, feature, task, metric, float(side[i]), None, False)
            )
    return results


def importances(x: np.ndarray, y: np.ndarray, task: str) -> np.ndarray:
    """Impurity importances (summing to 1, or all 0 for a constant target) of a seeded forest."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    if len(x) < 2 or len(np.unique(y)) < 2:
        return np.zeros(x.shape[1])
    kind = RandomForestRegressor if task == "regression" else RandomForestClassifier
    forest = kind(n_estimators=N_TREES, max_depth=MAX_DEPTH, min_samples_leaf=5, random_state=SEED, n_jobs=1)
    forest.fit(x, y)
    found = np.asarray(forest.feature_importances_, dtype=float)
    total = found.sum()
    return found / total if total > 0 else found


def _sample(table: pa.Table) -> pa.Table:
    """At most SAMPLE_ROWS rows, the same ones for the same table (a seeded draw)."""
    if table.num_rows <= SAMPLE_ROWS:
        return table
    keep = np.sort(np.random.default_rng(SEED).choice(table.num_rows, SAMPLE_ROWS, replace=False))
    return table.take(keep)


def _features(plan: SignalPlan, reference: pa.Table, production: pa.Table, roles: set[str]) -> list[str]:
    where = f"monitoring_signals.{plan.name}.features"
    if plan.features is not None:
        _require(plan.features, reference, "reference data", where)
        _require(plan.features, production, "production data", where)
        return list(plan.features)
    skipped = roles | set(plan.column_names.values())
    shared = [c for c in reference.column_names if c in production.column_names and c not in skipped]
    if not shared:
        raise InvalidArgument(f"{where}: the reference and production data share no feature column")
    return shared


def _require(columns: Any, table: pa.Table, side: str, where: str) -> None:
    for column in columns:
        if column not in table.column_names:
            columns_there = ", ".join(table.column_names)
            raise InvalidArgument(
                f"{where}: column {column!r} is not in the {side} (its columns: {columns_there})"
            )


def _task(target: Any) -> str:
    import pyarrow.types as pt

    return "regression" if pt.is_floating(target.type) else "classification"


def _coding(reference: pa.Table, features: list[str]) -> dict[str, Mapping[str, int] | float]:
    """Per feature: the reference's category codes (categorical) or median (numerical)."""
    coding: dict[str, Mapping[str, int] | float] = {}
    for name in features:
        column = reference.column(name)
        if column_kind(column.type) == "categorical":
            categories = sorted({v for v in _texts(column) if v is not None})
            coding[name] = {value: code for code, value in enumerate(categories)}
        else:
            numbers = _numbers(column, name)
            finite = numbers[np.isfinite(numbers)]
            coding[name] = float(np.median(finite)) if len(finite) else 0.0
    return coding


def _matrix(table: pa.Table, features: list[str], coding: dict[str, Mapping[str, int] | float]) -> np.ndarray:
    columns = []
    for name in features:
        code = coding[name]
        column = table.column(name)
        if isinstance(code, Mapping):
            codes = [-1 if v is None else code.get(v, -1) for v in _texts(column)]
            columns.append(np.asarray(codes, dtype=np.float64))
        else:
            numbers = _numbers(column, name)
            numbers[~np.isfinite(numbers)] = code
            columns.append(numbers)
    return np.column_stack(columns) if columns else np.empty((table.num_rows, 0))


def _numbers(column: Any, name: str) -> np.ndarray:
    """A column as float64 (nulls: NaN); `InvalidArgument` for text where numbers were expected."""
    import pyarrow as pa

    try:
        return np.array(column.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
    except (TypeError, ValueError, pa.ArrowException) as exc:
        raise InvalidArgument(f"column {name!r}: expected numbers, as in the reference ({exc})") from None


def _texts(column: Any) -> list[str | None]:
    return [None if v is None else str(v) for v in column.to_pylist()]


def _labels(column: Any, task: str) -> np.ndarray:
    if task == "regression":
        values = _numbers(column, "target")
        fill = float(np.nanmedian(values)) if np.isfinite(values).any() else 0.0
        return np.asarray(np.nan_to_num(values, nan=fill), dtype=np.float64)
    return np.asarray([str(v) for v in column.to_pylist()])
