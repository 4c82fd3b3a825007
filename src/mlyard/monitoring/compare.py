"""`compare(reference, production, signals)`: every signal's metrics, per feature, with verdicts.

The reference is read once to learn each monitored column's layout (`layout.py`); then the
reference and each production file are summarised against it (`summaries.py`) and the
summaries merged, so the production side is never held as one big table. Model performance
joins predictions with ground truth on the correlation id (`performance.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from mlyard.errors import InvalidArgument
from mlyard.monitoring import reading
from mlyard.monitoring.drift import binned_counts
from mlyard.monitoring.layout import ColumnLayout, Kind, learn_layout
from mlyard.monitoring.metrics import DEFAULT_METRICS, get_metric
from mlyard.monitoring.performance import join_outcomes
from mlyard.monitoring.signals import SignalPlan, plan_signals
from mlyard.monitoring.summaries import TableSummary, merge_summaries, summarize

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class Histogram:
    """One side's counts over the compared bins (coarse numerical bins, or categories)."""

    bins: list[str]
    counts: list[int]


@dataclass(frozen=True)
class MetricResult:
    """One metric of one feature of one signal, with its verdict and (for charts) histograms."""

    signal: str
    signal_type: str
    feature: str
    kind: str  # numerical | categorical | classification | regression
    metric: str
    value: float | None
    threshold: float | None
    breached: bool
    reference_histogram: Histogram | None = None
    production_histogram: Histogram | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare(
    reference: Any,
    production: Any,
    signals: Mapping[str, Any] | None = None,
    *,
    categorical_features: Iterable[str] = (),
) -> list[MetricResult]:
    """Every metric of every signal between `reference` and `production` (a path to Parquet/CSV
    files, a pyarrow Table or a pandas DataFrame). No signals: data drift and data quality of
    every column the two share. Bad signals raise before anything is read."""
    plans = plan_signals(signals)
    categorical = frozenset(categorical_features)
    results: list[MetricResult] = []
    # Feature attribution drift fits models: the monitor run calls `attribution` for it.
    column_plans = [p for p in plans if p.family not in ("performance", "attribution")]
    # Signals that read the same two data sets share one layout and one pass over the data.
    groups: dict[tuple[int, int], list[SignalPlan]] = {}
    for plan in column_plans:
        ref, prod = _sources(plan, reference, production)
        groups.setdefault((id(ref), id(prod)), []).append(plan)
    for group in groups.values():
        ref, prod = _sources(group[0], reference, production)
        results.extend(_compare_columns(group, ref, prod, categorical))
    for plan in plans:
        if plan.family == "performance":
            results.extend(_compare_performance(plan, *_sources(plan, reference, production)))
    return results


def _sources(plan: SignalPlan, reference: Any, production: Any) -> tuple[Any, Any]:
    return (
        plan.reference_data if plan.reference_data is not None else reference,
        plan.production_data if plan.production_data is not None else production,
    )


def _compare_columns(
    plans: list[SignalPlan], reference: Any, production: Any, categorical: frozenset[str]
) -> list[MetricResult]:
    reference_table = reading.read_all(reference)
    production_tables = reading.tables(production)
    first = next(production_tables)
    features = {
        plan.name: _features(plan, reference_table.column_names, first.column_names) for plan in plans
    }
    columns = sorted({f for names in features.values() for f in names})
    layouts = {
        name: learn_layout(reference_table.column(name), name, _kind(name, categorical)) for name in columns
    }
    reference_summary = summarize(reference_table, layouts)
    production_summary = merge_summaries(
        summarize(table, layouts) for table in _checked(first, production_tables, columns)
    )
    return [
        result
        for plan in plans
        for feature in features[plan.name]
        for result in _feature_results(plan, layouts[feature], reference_summary, production_summary)
    ]


def _checked(first: pa.Table, rest: Iterator[pa.Table], columns: list[str]) -> Iterator[pa.Table]:
    """The production tables one at a time (never all in memory), each checked for the columns."""
    yield first
    for table in rest:
        _require(columns, table.column_names, "production data")
        yield table


def _kind(name: str, categorical: frozenset[str]) -> Kind | None:
    return "categorical" if name in categorical else None


def _features(plan: SignalPlan, reference_columns: list[str], production_columns: list[str]) -> list[str]:
    if plan.features is None:
        roles = set(plan.column_names.values())
        shared = [c for c in reference_columns if c in production_columns and c not in roles]
        if not shared:
            raise InvalidArgument(
                f"monitoring_signals.{plan.name}: the reference and production data share no column "
                f"(reference: {', '.join(reference_columns)}; production: {', '.join(production_columns)})"
            )
        return shared
    _require(plan.features, reference_columns, "reference data", plan.name)
    _require(plan.features, production_columns, "production data", plan.name)
    return list(plan.features)


def _require(features: Iterable[str], columns: list[str], side: str, signal: str | None = None) -> None:
    for feature in features:
        if feature not in columns:
            where = f"monitoring_signals.{signal}.features" if signal else "monitored feature"
            raise InvalidArgument(
                f"{where}: column {feature!r} is not in the {side} (its columns: {', '.join(columns)}); "
                "monitor only columns both data sets have"
            )


def _feature_results(
    plan: SignalPlan, layout: ColumnLayout, reference: TableSummary, production: TableSummary
) -> list[MetricResult]:
    ref, prod = reference[layout.name], production[layout.name]
    ref_counts, prod_counts, bins = binned_counts(ref, prod, layout)
    given = plan.thresholds.get(layout.kind, {})
    results = []
    for name in given or DEFAULT_METRICS[(plan.family, layout.kind)]:
        metric = get_metric(plan.family, layout.kind, name)
        value = metric(ref, prod, layout) if plan.family == "drift" else metric(prod, layout)
        threshold = given.get(name)
        threshold = metric.default_threshold if threshold is None else threshold
        results.append(
            MetricResult(
                signal=plan.name,
                signal_type=plan.type,
                feature=layout.name,
                kind=layout.kind,
                metric=name,
                value=value,
                threshold=threshold,
                breached=metric.breached(value, threshold),
                reference_histogram=Histogram(bins, [int(c) for c in ref_counts]),
                production_histogram=Histogram(bins, [int(c) for c in prod_counts]),
            )
        )
    return results


def _compare_performance(plan: SignalPlan, ground_truth: Any, predictions: Any) -> list[MetricResult]:
    names = plan.column_names
    prediction = names.get("prediction", "prediction")
    outcomes = join_outcomes(
        reading.read_all(predictions),
        reading.read_all(ground_truth),
        correlation_id=names.get("correlation_id", "correlation_id"),
        prediction=prediction,
        actual=names.get("actual", names.get("target_column", "actual")),
        score=names.get("prediction_probability"),
    )
    task = plan.ml_task
    if task is None:  # as Azure's monitoring_target.ml_task; a float target means regression
        task = "regression" if outcomes.actual.dtype.kind == "f" else "classification"
    given = plan.thresholds.get(task, {})
    results = []
    for name in given or DEFAULT_METRICS[("performance", task)]:
        metric = get_metric("performance", task, name)
        value = metric(outcomes)
        threshold = given.get(name)
        results.append(
            MetricResult(
                signal=plan.name,
                signal_type=plan.type,
                feature=prediction,
                kind=task,
                metric=name,
                value=value,
                threshold=threshold,
                breached=metric.breached(value, threshold),
            )
        )
    return results
