"""A monitor's `create_monitor:` checked whole before anything is stored.

What services can know is checked here: the signal types (with a did-you-mean), the target
deployment and whether it collects what each signal reads, the data assets named, the model and
its training data found through lineage, the reference's columns, the windows, and the metrics of
the signals the monitor job computes itself (`endpoint_health`, `model_staleness`). The metric
tables of the statistical signals belong to `monitoring/`, which this layer may not import: the
caller (CLI, server, SDK) passes its check as `check_statistics`, and every message it raises is
located in the file here. Every error names `source` and the field; nothing is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlyard.entities.automation.monitor import CreateMonitor, MonitorSignal, parse_duration
from mlyard.entities.specs.local_files import confine
from mlyard.entities.specs.names import parse_ref
from mlyard.entities.specs.spec_files import did_you_mean
from mlyard.entities.specs.spec_warnings import warn_spec
from mlyard.errors import InvalidArgument, InvalidSpec, MlyardError, NotFound
from mlyard.services.monitors.custom_signals import check_custom_signal
from mlyard.services.workspaces.settings import get_settings
from mlyard.services.workspaces.workspace import Workspace

# Raises `InvalidArgument("monitoring_signals.<name>.<field>: …")` for a bad statistical signal.
StatisticsCheck = Callable[[Mapping[str, Any]], None]

SIGNAL_TYPES = (
    "data_drift", "prediction_drift", "data_quality", "model_performance", "feature_attribution_drift",
    "custom", "endpoint_health", "model_staleness",
)  # fmt: skip
# Signals the statistics layer plans (`monitoring/signals.py`); the others the monitor job runs.
STATISTICAL_TYPES = ("data_drift", "prediction_drift", "data_quality", "model_performance")
# What each signal reads from the deployment when its production_data names no data asset.
COLLECTED = {
    "data_drift": "model_inputs",
    "data_quality": "model_inputs",
    "prediction_drift": "model_outputs",
    "model_performance": "model_outputs",
    "feature_attribution_drift": "model_inputs",
}
ENDPOINT_HEALTH_METRICS = ("latency_p50_ms", "latency_p99_ms", "error_rate", "requests_per_second")
ATTRIBUTION_METRICS = ("normalized_discounted_cumulative_gain",)
DEFAULT_MAX_AGE_DAYS = 60.0
# No signals: Azure's basic monitor.
DEFAULT_SIGNALS: dict[str, dict[str, Any]] = {
    "data_drift": {"type": "data_drift"},
    "prediction_drift": {"type": "prediction_drift"},
    "data_quality": {"type": "data_quality"},
}
# No trigger (`mlyard monitor create` without one): the production window looks back a week.
MANUAL_LOOKBACK = "P7D"


@dataclass(frozen=True)
class Target:
    kind: str  # online | batch | data
    endpoint: str | None = None
    deployment: str | None = None
    model: str | None = None  # name:version


@dataclass(frozen=True)
class CheckedMonitor:
    spec: dict[str, Any]  # create_monitor with defaults filled in (signals, thresholds of staleness)
    target: Target
    lookback: str
    base_dir: str


def check_monitor(
    workspace: Workspace,
    given: CreateMonitor,
    base_dir: Path,
    source: str,
    lookback: str | None,
    check_statistics: StatisticsCheck | None,
) -> CheckedMonitor:
    """Everything about `create_monitor` that can be wrong, found now (nothing is read or stored)."""
    where = f"{source}: create_monitor"
    if isinstance(given.compute, str):  # a compute target (Ray: the production files summarised there)
        from mlyard.services.assets.computes import check_compute

        check_compute(workspace, given.compute, f"{where}.compute")
    target = _target(workspace, given, where)
    signals = given.monitoring_signals or {
        name: MonitorSignal.model_validate(signal) for name, signal in DEFAULT_SIGNALS.items()
    }
    lookback = lookback or MANUAL_LOOKBACK
    pinned: dict[str, str] = {}  # custom signals' components, pinned to their version
    for name, signal in signals.items():
        component = _check_signal(
            workspace, name, signal, target, base_dir, f"{where}.monitoring_signals.{name}"
        )
        if component is not None:
            pinned[name] = component
    statistical = {
        name: _statistics_view(signal) for name, signal in signals.items() if signal.type in STATISTICAL_TYPES
    }
    if check_statistics is not None and statistical:
        try:
            check_statistics(statistical)
        except InvalidArgument as exc:
            raise InvalidSpec(f"{where}.{exc.message}") from None
    if given.alert_notification and given.alert_notification.emails and not get_settings(workspace).smtp_host:
        # Azure mails without setup; here the alerts would die undelivered, noticed by nobody.
        warn_spec(
            f"{where}.alert_notification.emails: this workspace has no SMTP server, so alerts are not "
            "mailed until an admin sets one: mlyard workspace settings set smtp_host=HOST smtp_port=25 "
            "smtp_from=mlyard@example.com"
        )
    spec = given.model_dump(mode="json", exclude_none=True)
    spec["monitoring_signals"] = {
        name: signal.model_dump(mode="json", exclude_none=True) for name, signal in signals.items()
    }
    for name, signal in spec["monitoring_signals"].items():
        if signal["type"] == "model_staleness":
            signal.setdefault("max_age_days", DEFAULT_MAX_AGE_DAYS)
        if name in pinned:
            signal["component_id"] = pinned[name]
        sides = [(side, signal.get(side) or {}) for side in ("production_data", "reference_data")]
        sides += [(f"input_data.{port}", data) for port, data in (signal.get("input_data") or {}).items()]
        for side, data in sides:
            input_data = data.get("input_data")
            if input_data:  # pinned now: a data asset's version, or an absolute path
                field = f"{where}.monitoring_signals.{name}.{side}.input_data.path"
                input_data["path"] = resolve_input_data(workspace, input_data["path"], base_dir, field)[0]
    return CheckedMonitor(spec, target, lookback, str(base_dir))


def _statistics_view(signal: MonitorSignal) -> dict[str, Any]:
    """What the statistics layer checks of a signal: its metric tables, features and columns."""
    view = signal.model_dump(
        mode="json", exclude_none=True, include={"type", "features", "metric_thresholds", "ml_task"}
    )
    columns = dict(signal.data_column_names or {})
    if signal.reference_data is not None and signal.reference_data.data_column_names:
        columns.update(signal.reference_data.data_column_names)
    if columns:
        view["data_column_names"] = columns
    return view


def _target(workspace: Workspace, given: CreateMonitor, where: str) -> Target:
    target = given.monitoring_target
    if target is None or not (target.endpoint_deployment_id or target.batch_deployment_id):
        model = _model(workspace, target.model_id, f"{where}.monitoring_target.model_id") if target else None
        return Target("data", model=model)
    if target.endpoint_deployment_id:
        field = f"{where}.monitoring_target.endpoint_deployment_id"
        endpoint, deployment = _deployment_id(target.endpoint_deployment_id, field)
        from mlyard.services.online.endpoint_deployments import get_deployment

        found = _located(lambda: get_deployment(workspace, endpoint, deployment), field)
        served = found.model.ref if found.model is not None else None
        kind = "online"
    else:
        field = f"{where}.monitoring_target.batch_deployment_id"
        assert target.batch_deployment_id is not None
        endpoint, deployment = _deployment_id(target.batch_deployment_id, field)
        from mlyard.services.batch.batch_endpoints import get_deployment as get_batch_deployment

        batch = _located(lambda: get_batch_deployment(workspace, endpoint, deployment), field)
        served, kind = batch.model_ref, "batch"
    model = _model(workspace, target.model_id, f"{where}.monitoring_target.model_id") or served
    return Target(kind, endpoint, deployment, model)


def _deployment_id(text: str, field: str) -> tuple[str, str]:
    parts = text.removeprefix("azureml:").split(":")
    if len(parts) != 2 or not all(parts):
        raise InvalidSpec(f"{field}: expected azureml:<endpoint>:<deployment>, got {text!r}")
    return parts[0], parts[1]


def _model(workspace: Workspace, model_id: str | None, field: str) -> str | None:
    if not model_id:
        return None
    from mlyard.services.model_registry.models import get_model_version

    version = _located(lambda: get_model_version(workspace, model_id), field)
    return f"{version.name}:{version.version}"


def _check_signal(
    workspace: Workspace, name: str, signal: MonitorSignal, target: Target, base_dir: Path, where: str
) -> str | None:
    """Raises the first thing wrong with one signal; returns a custom signal's pinned component."""
    if signal.type not in SIGNAL_TYPES:
        hint = did_you_mean(signal.type, SIGNAL_TYPES)
        raise InvalidSpec(
            f"{where}.type: unknown signal type {signal.type!r}{hint}; "
            f"known ones are {', '.join(SIGNAL_TYPES)}"
        )
    if signal.type == "custom":
        component = check_custom_signal(workspace, signal, where)
        for input_name, data in (signal.input_data or {}).items():
            _check_data(workspace, data, base_dir, f"{where}.input_data.{input_name}")
        return component
    for side in ("production_data", "reference_data"):
        data = getattr(signal, side)
        if data is not None:
            _check_data(workspace, data, base_dir, f"{where}.{side}")
    if signal.type == "model_staleness":
        if target.model is None:
            raise InvalidSpec(
                f"{where}: model_staleness needs a model: give monitoring_target.endpoint_deployment_id "
                "or monitoring_target.model_id"
            )
        _check_metric_names(signal, ("max_age_days",), where)
        return None
    if signal.type == "endpoint_health":
        if target.kind != "online":
            raise InvalidSpec(f"{where}: endpoint_health needs monitoring_target.endpoint_deployment_id")
        _check_metric_names(signal, ENDPOINT_HEALTH_METRICS, where)
        return None
    if signal.type == "feature_attribution_drift":
        _check_metric_names(signal, ATTRIBUTION_METRICS, where)
    _check_production(workspace, signal, target, where)
    _check_reference(workspace, signal, target, where)
    return None


def _check_metric_names(signal: MonitorSignal, known: tuple[str, ...], where: str) -> None:
    thresholds = signal.metric_thresholds
    if thresholds is None:
        return
    if not isinstance(thresholds, Mapping):
        raise InvalidSpec(f"{where}.metric_thresholds: expected a mapping of metric name to threshold")
    for metric, value in thresholds.items():
        if metric not in known:
            hint = did_you_mean(str(metric), known)
            raise InvalidSpec(
                f"{where}.metric_thresholds.{metric}: unknown metric{hint}; known ones are {', '.join(known)}"
            )
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidSpec(f"{where}.metric_thresholds.{metric}: expected a number, got {value!r}")


def _check_data(workspace: Workspace, data: Any, base_dir: Path, where: str) -> None:
    if data.data_window is not None:
        window = data.data_window
        for field in ("lookback_window_size", "lookback_window_offset"):
            value = getattr(window, field)
            if value is not None:
                try:
                    parse_duration(value, field)
                except InvalidArgument as exc:
                    raise InvalidSpec(f"{where}.data_window.{exc.message}") from None
    if data.input_data is not None:
        resolve_input_data(workspace, data.input_data.path, base_dir, f"{where}.input_data.path")


def resolve_input_data(
    workspace: Workspace, path: str, base_dir: Path, where: str
) -> tuple[str, Path | None]:
    """A data asset reference as `name:version` (pinned now), or a local path that exists."""
    text = path.strip()
    if text.startswith("azureml:") or ("@" in text and "/" not in text) or _looks_versioned(text):
        from mlyard.services.data_assets.data import get_data_asset

        asset = _located(lambda: get_data_asset(workspace, parse_ref(text)), where)
        return f"{asset.name}:{asset.version}", None
    local = Path(text) if Path(text).is_absolute() else (base_dir / text).resolve()
    confine(local, where)  # on a server: only the files the client sent, never the server's own
    if not local.exists():
        raise InvalidSpec(
            f"{where}: {text} is neither a data asset nor an existing path (looked for {local})"
        )
    return str(local), local


def _looks_versioned(text: str) -> bool:
    name, sep, version = text.partition(":")
    return bool(sep) and "/" not in text and bool(name) and bool(version)


def _check_production(workspace: Workspace, signal: MonitorSignal, target: Target, where: str) -> None:
    production = signal.production_data
    if production is not None and production.input_data is not None:
        return
    context = (production.data_context if production else None) or COLLECTED[signal.type]
    if target.kind == "data":
        raise InvalidSpec(
            f"{where}.production_data: give production_data.input_data (a data asset or path) or a "
            "monitoring_target.endpoint_deployment_id whose data collector writes it"
        )
    if target.kind == "online":
        _require_collection(workspace, target, context, where)


def _require_collection(workspace: Workspace, target: Target, context: str, where: str) -> None:
    from mlyard.services.online.endpoint_deployments import get_deployment

    assert target.endpoint is not None and target.deployment is not None
    collector = get_deployment(workspace, target.endpoint, target.deployment).settings.data_collector
    if collector is None or not collector.collects(context):
        raise InvalidSpec(
            f"{where}.production_data: deployment {target.endpoint}:{target.deployment} does not collect "
            f"{context}; enable data_collector.collections.{context} on it, or give "
            "production_data.input_data"
        )


def _check_reference(workspace: Workspace, signal: MonitorSignal, target: Target, where: str) -> None:
    reference = signal.reference_data
    if reference is not None and reference.input_data is not None:
        columns = _asset_columns(workspace, reference.input_data.path)
        _require_columns(signal, columns, f"{where}.reference_data", reference.input_data.path)
        return
    if signal.type == "model_performance":
        raise InvalidSpec(
            f"{where}.reference_data: model_performance needs the ground truth: give "
            "reference_data.input_data with data_column_names.actual (and correlation_id)"
        )
    if signal.type == "prediction_drift":
        return  # default reference: the previous window of the deployment's own outputs
    if target.model is None:
        raise InvalidSpec(
            f"{where}.reference_data: give reference_data.input_data; with no model to find training "
            "data through, there is no default reference"
        )
    training = training_data(workspace, target.model)
    if training is None:
        raise InvalidSpec(
            f"{where}.reference_data: model {target.model} has no training data in its lineage (no producing "
            "job that read a data asset); give reference_data.input_data"
        )
    _require_columns(signal, _asset_columns(workspace, training), f"{where}.reference_data", training)


def training_data(workspace: Workspace, model: str) -> str | None:
    """The data asset version (`name:version`) the job that produced `model` read, if any."""
    from mlyard.services.model_registry.models import get_model_version
    from mlyard.services.tracking.jobs import get_job

    version = get_model_version(workspace, model)
    if version.job_id is None:
        return None
    try:
        job = get_job(workspace, version.job_id)
    except NotFound:
        return None
    found = [edge for edge in job.inputs if edge.kind == "data"]
    return f"{found[0].name}:{found[0].version}" if found else None


def _asset_columns(workspace: Workspace, ref: str) -> list[str] | None:
    """The columns of a data asset from its stored schema (None: unknown, e.g. a local path)."""
    if ref.startswith("/") or ref.startswith("."):
        return None
    from mlyard.services.data_assets.data import get_data_asset

    try:
        asset = get_data_asset(workspace, parse_ref(ref))
    except (MlyardError, ValueError):
        return None
    return list(asset.data_schema) if asset.data_schema else None


def _require_columns(signal: MonitorSignal, columns: list[str] | None, where: str, ref: str) -> None:
    if columns is None or not isinstance(signal.features, list):
        return
    missing = [str(f) for f in signal.features if f not in columns]
    if missing:
        raise InvalidSpec(
            f"{where}: the reference {ref} has no column {', '.join(map(repr, missing))} that "
            f"features names (its columns: {', '.join(columns)})"
        )


def _located(check: Callable[[], Any], field: str) -> Any:
    try:
        return check()
    except InvalidSpec:
        raise
    except MlyardError as exc:
        raise type(exc)(f"{field}: {exc.message}") from None
