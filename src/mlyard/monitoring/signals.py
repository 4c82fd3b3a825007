"""Monitoring signals in Azure ML's YAML shape, checked before anything is computed.

A signal is `{type, features, metric_thresholds: {<kind>: {<metric>: <threshold>}},
data_column_names, ml_task, production_data, reference_data}` as under `monitoring_signals:` in
an Azure monitor. `plan_signals` turns a mapping of them into `SignalPlan`s, raising one clear
`InvalidArgument` (naming `monitoring_signals.<name>.<field>`) for an unknown signal type, kind or
metric (with a did-you-mean), a threshold that is not a number, or a malformed feature list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlyard.entities.specs.spec_files import did_you_mean
from mlyard.errors import InvalidArgument
from mlyard.monitoring.metrics import check_metric_name, kinds

# Signal type → metric family. Azure's custom signal and mlyard's endpoint_health and
# model_staleness need more than two tables: the monitor job runs them. Feature attribution drift
# fits models on both sides, so `compare` leaves it to `attribution.feature_attribution_drift`.
SIGNAL_FAMILIES = {
    "data_drift": "drift",
    "prediction_drift": "drift",
    "data_quality": "quality",
    "model_performance": "performance",
    "feature_attribution_drift": "attribution",
}
# Families whose thresholds are one flat mapping of metric to threshold (no feature kind), as
# Azure writes `metric_thresholds: {normalized_discounted_cumulative_gain: 0.9}`.
FLAT_THRESHOLDS = {"attribution": "all_features"}
# No signals → what Azure's basic monitor computes that two tables can give.
DEFAULT_SIGNALS: dict[str, dict[str, Any]] = {
    "data_drift": {"type": "data_drift"},
    "data_quality": {"type": "data_quality"},
}
COLUMN_ROLES = ("correlation_id", "prediction", "prediction_probability", "actual", "target_column")


@dataclass(frozen=True)
class SignalPlan:
    """One checked signal: which features, which metrics with which thresholds."""

    name: str
    type: str
    family: str
    features: tuple[str, ...] | None  # None: every column both tables have (less the roles')
    thresholds: dict[str, dict[str, float | None]]  # kind → metric → threshold (None: default)
    column_names: dict[str, str] = field(default_factory=dict)
    ml_task: str | None = None
    production_data: Any = None
    reference_data: Any = None


def plan_signals(signals: Mapping[str, Any] | None) -> list[SignalPlan]:
    """Every signal checked (Azure's defaults when there are none); the first problem raises."""
    if not signals:
        signals = DEFAULT_SIGNALS
    if not isinstance(signals, Mapping):
        raise InvalidArgument("monitoring_signals: expected a mapping of signal name to signal")
    return [_plan(str(name), spec) for name, spec in signals.items()]


def _plan(name: str, spec: Any) -> SignalPlan:
    where = f"monitoring_signals.{name}"
    if not isinstance(spec, Mapping):
        raise InvalidArgument(f"{where}: expected a mapping with a 'type', got {spec!r}")
    signal_type = spec.get("type")
    if signal_type not in SIGNAL_FAMILIES:
        known = list(SIGNAL_FAMILIES)
        hint = did_you_mean(str(signal_type), known)
        raise InvalidArgument(
            f"{where}.type: unknown signal type {signal_type!r}{hint}; known ones are {', '.join(known)}"
        )
    family = SIGNAL_FAMILIES[signal_type]
    ml_task = spec.get("ml_task")
    if ml_task is not None and ml_task not in kinds("performance"):
        raise InvalidArgument(f"{where}.ml_task: expected classification or regression, got {ml_task!r}")
    column_names = _column_names(spec.get("data_column_names"), f"{where}.data_column_names")
    if family == "attribution" and "target_column" not in column_names:
        raise InvalidArgument(
            f"{where}.data_column_names.target_column: feature attribution drift needs the reference "
            "data's target column (the label the model was trained on)"
        )
    return SignalPlan(
        name=name,
        type=signal_type,
        family=family,
        features=_features(spec.get("features"), f"{where}.features"),
        thresholds=_thresholds(family, spec.get("metric_thresholds"), f"{where}.metric_thresholds"),
        column_names=column_names,
        ml_task=ml_task,
        production_data=spec.get("production_data"),
        reference_data=spec.get("reference_data"),
    )


def _features(features: Any, where: str) -> tuple[str, ...] | None:
    if features is None or features == "all_features" or features == {"all_features": True}:
        return None
    if isinstance(features, Mapping) and "top_n_feature_importance" in features:
        raise InvalidArgument(
            f"{where}: top_n_feature_importance needs the model's feature importances, which a comparison "
            "of two tables does not have; list the features or use all_features"
        )
    if (
        not isinstance(features, list | tuple)
        or not all(isinstance(f, str) for f in features)
        or not features
    ):
        raise InvalidArgument(f"{where}: expected a list of column names or all_features, got {features!r}")
    return tuple(features)


def _thresholds(family: str, given: Any, where: str) -> dict[str, dict[str, float | None]]:
    if given is None:
        return {}
    flat = FLAT_THRESHOLDS.get(family)
    if flat is not None:
        if not isinstance(given, Mapping):
            raise InvalidArgument(f"{where}: expected a mapping of metric name to threshold, got {given!r}")
        return {flat: _thresholds_of(family, flat, given, where)}
    if not isinstance(given, Mapping):
        raise InvalidArgument(
            f"{where}: expected a mapping of {' / '.join(kinds(family))} to metric thresholds"
        )
    checked: dict[str, dict[str, float | None]] = {}
    for kind, metrics in given.items():
        if kind not in kinds(family):
            hint = did_you_mean(str(kind), kinds(family))
            raise InvalidArgument(f"{where}.{kind}: unknown key{hint}; expected {' or '.join(kinds(family))}")
        if not isinstance(metrics, Mapping):
            raise InvalidArgument(
                f"{where}.{kind}: expected a mapping of metric name to threshold, got {metrics!r}"
            )
        checked[kind] = _thresholds_of(family, kind, metrics, f"{where}.{kind}")
    return checked


def _thresholds_of(family: str, kind: str, metrics: Mapping[Any, Any], where: str) -> dict[str, float | None]:
    checked: dict[str, float | None] = {}
    for metric, threshold in metrics.items():
        check_metric_name(family, kind, str(metric), where)
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int | float)):
            raise InvalidArgument(f"{where}.{metric}: expected a number, got {threshold!r}")
        checked[str(metric)] = None if threshold is None else float(threshold)
    return checked


def _column_names(given: Any, where: str) -> dict[str, str]:
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise InvalidArgument(f"{where}: expected a mapping of {', '.join(COLUMN_ROLES)} to column names")
    for role, column in given.items():
        if role not in COLUMN_ROLES:
            raise InvalidArgument(f"{where}.{role}: unknown key{did_you_mean(str(role), COLUMN_ROLES)}")
        if not isinstance(column, str):
            raise InvalidArgument(f"{where}.{role}: expected a column name, got {column!r}")
    return dict(given)
