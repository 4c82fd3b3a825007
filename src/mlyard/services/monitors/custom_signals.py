"""The `custom` monitor signal: a registered component that writes `group, metric_name, metric_value,
threshold_value` rows (Azure's custom signal).

    monitoring_signals:
      my_signal:
        type: custom
        component_id: azureml:my_signal:1
        input_data:                       # the component's data inputs
          production_data:
            input_data: {path: azureml:production:1, type: uri_folder}
            data_window: {lookback_window_size: P7D}
        inputs: {percentile: 95}          # its literal inputs
        metric_thresholds:                # else each row's threshold_value
          - {metric_name: std_deviation, threshold: 2}

At create time `check_custom_signal` finds and pins the component, checks every name under
`input_data` and `inputs` is one of its inputs (did-you-mean), that data inputs are data and
literal inputs literals, that its required inputs are given, and Azure's list shape of
`metric_thresholds`. At run time the monitor job submits the component as a child command job
(`submit_custom_child`), resolved as a pipeline step is; monitoring/custom_signal.py runs or
waits for it and turns its output table into verdicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlyard.entities.assets.component_spec import CommandComponentSpec
from mlyard.entities.automation.monitor import MONITOR_TAG, MonitorSignal
from mlyard.entities.jobs.job import QUEUE
from mlyard.entities.jobs.job_spec import JobOutput, ResolvedCommandJob, ResolvedInput
from mlyard.entities.specs.spec_files import did_you_mean
from mlyard.errors import InvalidArgument, InvalidSpec, MlyardError
from mlyard.services.assets.components import component_code_dir, get_component
from mlyard.services.execution import queue
from mlyard.services.submission.references import queue_job, resolve_asset_path, resolve_environment
from mlyard.services.submission.snapshots import snapshot_local_paths
from mlyard.services.workspaces.workspace import Workspace

CUSTOM_OUTPUT = "signal_metrics"  # Azure's name for a custom signal component's output
OUTPUT_COLUMNS = ("group", "metric_name", "metric_value", "threshold_value")
DATA_INPUT_TYPES = ("uri_file", "uri_folder", "mltable")
LITERAL_TYPES = ("string", "integer", "number", "boolean")


def check_custom_signal(workspace: Workspace, signal: MonitorSignal, where: str) -> str:
    """Everything a custom signal can get wrong before it runs; returns the pinned `azureml:name:version`."""
    if not signal.component_id:
        raise InvalidSpec(
            f"{where}.component_id: a custom signal names its component, azureml:<name>:<version>"
        )
    try:
        component = get_component(workspace, signal.component_id)
    except MlyardError as exc:
        raise type(exc)(f"{where}.component_id: {exc.message}") from None
    spec = component.spec
    try:
        output_name(spec)
    except InvalidArgument as exc:
        raise InvalidSpec(f"{where}.component_id: {exc.message}") from None
    data = signal.input_data or {}
    literals = signal.inputs or {}
    for name, given in data.items():
        declared = _declared(spec, name, f"{where}.input_data.{name}")
        if declared not in DATA_INPUT_TYPES:
            raise InvalidSpec(
                f"{where}.input_data.{name}: input {name!r} of component {component.name} is of type "
                f"{declared}; give it under inputs"
            )
        if given.input_data is None:
            raise InvalidSpec(
                f"{where}.input_data.{name}.input_data: give the data asset or path (input_data.path)"
            )
    for name, value in literals.items():
        field = f"{where}.inputs.{name}"
        declared = _declared(spec, name, field)
        if declared not in LITERAL_TYPES:
            raise InvalidSpec(
                f"{field}: input {name!r} of component {component.name} is data ({declared}); "
                "give it under input_data with input_data.path"
            )
        if name in data:
            raise InvalidSpec(f"{field}: input {name!r} is given under input_data too; give it once")
        if not _literal_fits(declared, value):
            raise InvalidSpec(f"{field}: expected a value of type {declared}, got {value!r}")
    missing = [
        name for name, port in spec.inputs.items()
        if not port.optional and port.default is None and name not in data and name not in literals
    ]  # fmt: skip
    if missing:
        raise InvalidSpec(
            f"{where}: component {component.name}:{component.version} needs input(s) "
            f"{', '.join(map(repr, missing))}; give data under input_data, values under inputs"
        )
    custom_thresholds(signal.metric_thresholds, f"{where}.metric_thresholds")
    return f"azureml:{component.name}:{component.version}"


def _literal_fits(declared: str, value: Any) -> bool:
    if declared == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return declared == "string"
    if declared == "integer":
        return isinstance(value, int)
    if declared == "number":
        return isinstance(value, int | float)
    return isinstance(value, str | int | float)


def _declared(spec: CommandComponentSpec, name: str, field: str) -> str:
    if name not in spec.inputs:
        known = list(spec.inputs)
        raise InvalidSpec(
            f"{field}: component {spec.name} has no input {name!r}{did_you_mean(name, known)}; "
            f"its inputs: {', '.join(known) or 'none'}"
        )
    return str(spec.inputs[name].type)


def custom_thresholds(value: Any, where: str) -> dict[str, float]:
    """Azure's `metric_thresholds: [{metric_name, threshold}]` as metric name → threshold."""
    if value is None:
        return {}
    if not isinstance(value, list):
        raise InvalidSpec(f"{where}: expected a list of {{metric_name, threshold}}, got {value!r}")
    found: dict[str, float] = {}
    for index, entry in enumerate(value):
        field = f"{where}[{index}]"
        if not isinstance(entry, Mapping) or set(entry) != {"metric_name", "threshold"}:
            raise InvalidSpec(
                f"{field}: expected {{metric_name: <name>, threshold: <number>}}, got {entry!r}"
            )
        name, threshold = entry["metric_name"], entry["threshold"]
        if not isinstance(name, str) or not name:
            raise InvalidSpec(f"{field}.metric_name: expected a metric name, got {name!r}")
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise InvalidSpec(f"{field}.threshold: expected a number, got {threshold!r}")
        if name in found:
            raise InvalidSpec(f"{field}.metric_name: {name!r} has a threshold already")
        found[name] = float(threshold)
    return found


def output_name(spec: CommandComponentSpec) -> str:
    """The output holding the signal's table: `signal_metrics` (Azure's), or the only output."""
    if CUSTOM_OUTPUT in spec.outputs:
        return CUSTOM_OUTPUT
    if len(spec.outputs) == 1:
        return next(iter(spec.outputs))
    raise InvalidArgument(
        f"component {spec.name} has outputs {', '.join(spec.outputs) or 'none'}; a custom signal's "
        f"component writes its table ({', '.join(OUTPUT_COLUMNS)}) to an output named {CUSTOM_OUTPUT}"
    )


def submit_custom_child(
    workspace: Workspace,
    parent_job_id: str,
    monitor: str,
    signal_name: str,
    signal: dict[str, Any],
    data_inputs: dict[str, str],
) -> tuple[str, str]:
    """Record the component as a Queued child command job of the monitor job; returns its id and
    the output its table is in. `data_inputs`: input name → pinned data asset or local path.
    The child goes where its parent came from: the team server's queue, or a local runner."""
    where = f"monitoring_signals.{signal_name}"
    component = get_component(workspace, signal["component_id"])
    spec = component.spec
    code = component_code_dir(workspace, component)
    base_dir = code or workspace.path
    environment, environment_ref = resolve_environment(workspace, spec.environment, base_dir, where)
    inputs: dict[str, ResolvedInput | None] = {}
    for name, port in spec.inputs.items():
        field = f"{where}.input_data.{name}"
        if name in data_inputs:
            inputs[name] = resolve_asset_path(
                workspace, port.type, data_inputs[name], base_dir, field, port.mode
            )
        elif name in (signal.get("inputs") or {}):
            inputs[name] = ResolvedInput(type=port.type, source="literal", value=signal["inputs"][name])
        elif port.default is not None and port.type not in DATA_INPUT_TYPES:
            inputs[name] = ResolvedInput(type=port.type, source="literal", value=port.default)
        elif port.default is not None:
            inputs[name] = resolve_asset_path(
                workspace, port.type, str(port.default), base_dir, field, port.mode
            )
        else:
            inputs[name] = None
    job = ResolvedCommandJob(
        command=spec.command,
        code=str(code) if code else None,
        code_hash=component.code_hash,
        inputs=inputs,
        outputs={name: JobOutput(type=port.type) for name, port in spec.outputs.items()},
        environment=environment,
        environment_ref=environment_ref,
        environment_variables=spec.environment_variables,
    )
    dispatch = queue.dispatch_of(workspace, parent_job_id)
    body = job.model_dump(mode="json")
    if dispatch == QUEUE:
        body = snapshot_local_paths(workspace, body)
    child = queue_job(
        workspace, body, "command", monitor, f"{signal_name} ({component.name}:{component.version})",
        {MONITOR_TAG: monitor, "mlyard.monitor.signal": signal_name}, parent_job_id, dispatch,
    )  # fmt: skip
    return child.id, output_name(spec)
