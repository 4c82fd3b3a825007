"""Monitors: Azure ML's `create_monitor:` YAML, the stored monitor, and what each run found.

    name: diabetes-monitor
    trigger: {type: recurrence, frequency: day, interval: 1}     # optional for `mlyard monitor create`
    create_monitor:
      monitoring_target:
        ml_task: regression
        endpoint_deployment_id: azureml:diabetes:blue           # or mlyard's batch_deployment_id
        model_id: azureml:diabetes:3                              # default: the deployment's model
      monitoring_signals:
        drift:
          type: data_drift
          features: [age, bmi]
          metric_thresholds: {numerical: {jensen_shannon_distance: 0.1}}
      alert_notification: {emails: [ops@example.com], webhooks: [https://hooks.example.com/x]}

Only the shape is checked here. The signal types, metric names and thresholds are checked by
`services/monitors/specs.py` (what services can know) and by the statistics layer's own plans
(`monitoring/monitor_checks.py`), which the CLI, the server and the SDK pass in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mlyard.entities.specs.spec_values import TextMap

MONITOR_JOB_TYPE = "monitor"
MONITOR_TAG = "mlyard.monitor"
# Azure's run tag for filtering breached monitor runs (`RunStatusChanged`): set by the alerts.
BREACH_TAG = "azureml_modelmonitor_threshold_breached"
DATA_CONTEXTS = ("model_inputs", "model_outputs", "training", "test", "validation", "ground_truth")
_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?"
    r"(?:(?P<seconds>\d+)S)?)?$"
)


def parse_duration(text: str, where: str) -> timedelta:
    """An ISO 8601 duration of weeks, days, hours, minutes, seconds (`P7D`, `PT12H`, `P1DT6H`)."""
    from mlyard.errors import InvalidArgument

    found = _DURATION.match(text.strip().upper()) if isinstance(text, str) else None
    if found is None or text.strip().upper() in ("P", "PT"):
        raise InvalidArgument(f"{where}: expected an ISO 8601 duration such as P7D or PT6H, got {text!r}")
    parts = {key: int(value) for key, value in found.groupdict().items() if value}
    return timedelta(**parts)


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InputData(_Shape):
    """`input_data:` a data asset (`azureml:name:version`, `name@latest`) or a path."""

    path: str
    type: Literal["uri_folder", "uri_file", "mltable"] | None = None


class DataWindow(_Shape):
    """Rolling (`lookback_window_size`, `lookback_window_offset`) or fixed (`window_start`, `window_end`)."""

    lookback_window_size: str | None = None
    lookback_window_offset: str | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> DataWindow:
        rolling = self.lookback_window_size is not None or self.lookback_window_offset is not None
        fixed = self.window_start is not None or self.window_end is not None
        if rolling and fixed:
            raise ValueError("give a rolling window (lookback_window_*) or a fixed one (window_*), not both")
        if fixed and (self.window_start is None or self.window_end is None):
            raise ValueError("a fixed window needs both window_start and window_end")
        if fixed and self.window_end <= self.window_start:  # type: ignore[operator]
            raise ValueError("window_end must be after window_start")
        return self


class MonitorData(_Shape):
    """A signal's `production_data` or `reference_data`."""

    input_data: InputData | None = None
    data_context: (
        Literal["model_inputs", "model_outputs", "training", "test", "validation", "ground_truth"] | None
    ) = None
    data_window: DataWindow | None = None
    data_column_names: TextMap | None = None
    pre_processing_component: str | None = None


class MonitorSignal(_Shape):
    """One entry of `monitoring_signals:`; the metric tables are checked by the statistics layer."""

    type: str
    production_data: MonitorData | None = None
    reference_data: MonitorData | None = None
    features: Any = None
    metric_thresholds: Any = None
    data_column_names: TextMap | None = None
    alert_enabled: bool = True
    ml_task: str | None = None
    max_age_days: float | None = Field(default=None, gt=0)  # model_staleness
    component_id: str | None = None  # custom: azureml:<component>:<version>
    input_data: dict[str, MonitorData] | None = None  # custom: the component's data inputs
    inputs: dict[str, Any] | None = None  # custom: the component's literal inputs


class MonitoringTarget(_Shape):
    ml_task: Literal["classification", "regression"] | None = None
    endpoint_deployment_id: str | None = None
    batch_deployment_id: str | None = None  # mlyard: a batch deployment's jobs (not in Azure)
    model_id: str | None = None

    @model_validator(mode="after")
    def _one_deployment(self) -> MonitoringTarget:
        if self.endpoint_deployment_id and self.batch_deployment_id:
            raise ValueError("give endpoint_deployment_id or batch_deployment_id, not both")
        return self


class AlertNotification(_Shape):
    emails: list[str] = Field(default_factory=list)
    webhooks: list[str] = Field(default_factory=list)  # mlyard's


class CreateMonitor(_Shape):
    """`create_monitor:` of a schedule."""

    # A compute target's name (`ray`, `ray://host:port`, a created Ray compute): the production
    # files are summarised there. Azure's serverless Spark size (a mapping): accepted, runs here.
    compute: str | dict[str, Any] | None = None
    monitoring_target: MonitoringTarget | None = None
    monitoring_signals: dict[str, MonitorSignal] = Field(default_factory=dict)
    alert_notification: AlertNotification | None = None


class Monitor(BaseModel):
    """A monitor as stored and listed."""

    name: str
    display_name: str | None = None
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    spec: dict[str, Any] = Field(description="create_monitor, checked, with its defaults filled in")
    target_kind: str  # online | batch | data (two data assets, no deployment)
    endpoint: str | None = None
    deployment: str | None = None
    model: str | None = None  # name:version of the monitored model, when there is one
    lookback: str = Field(description="the default production window (ISO 8601): the schedule's frequency")
    schedule: str | None = None  # the schedule that runs it, when created with a trigger
    created_at: datetime
    updated_at: datetime
    created_by: str | None = None


class MonitorResult(BaseModel):
    """One metric of one feature of one signal in one monitor run (or the signal's error)."""

    monitor: str
    job_id: str
    signal: str
    signal_type: str
    feature: str
    metric: str
    value: float | None = None
    threshold: float | None = None
    breached: bool = False
    error: str | None = None
    reference_histogram: dict[str, Any] | None = None
    production_histogram: dict[str, Any] | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    reference: str | None = Field(default=None, description="which reference data was used")
    created_at: datetime


class MonitorRunSummary(BaseModel):
    """A monitor run (a job of type monitor) as `monitor show` lists it."""

    job_id: str
    status: str
    created_at: datetime
    breached: int = 0
    errors: int = 0


class MonitorDetails(BaseModel):
    """What `monitor show` prints: the monitor, its latest run's verdicts and a short history."""

    monitor: Monitor
    latest_job: str | None = None
    verdicts: list[MonitorResult] = Field(default_factory=list)
    runs: list[MonitorRunSummary] = Field(default_factory=list)


@dataclass(frozen=True)
class Verdict:  # one metric of one feature of one signal
    signal: str
    signal_type: str
    feature: str
    metric: str
    value: float | None
    threshold: float | None
    breached: bool
    error: str | None = None
