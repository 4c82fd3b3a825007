"""Schedule YAML, as Azure ML CLI v2 writes it, plus event triggers.

    name: weekly-retrain
    trigger:
      type: cron                      # or recurrence, or event (mlyard's own)
      expression: "0 3 * * 1"         # five fields
      start_time: "2026-12-01T00:00:00"   # local time in time_zone; none: the first firing is now
      end_time: "2027-12-01T00:00:00"     # none: until disabled
      time_zone: "Pacific Standard Time"  # IANA or Windows names; default UTC
    create_job: ./pipeline.yml        # a path, azureml:<job id>, or {type: pipeline, job: ./x.yml, inputs, …}
    create_monitor: {monitoring_target: …, monitoring_signals: …}   # or this (entities/automation/monitor.py)

    trigger: {type: recurrence, frequency: day, interval: 1, schedule: {hours: [3], minutes: [15]}}
    trigger: {type: event, event_type: ModelRegistered, filter: {ModelName: "diabetes*"}}

Only the shape is checked here; time zones, cron syntax and event types are checked by
`services/schedules` (they need the zone database and the event catalog).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from mlyard.entities.automation.monitor import CreateMonitor
from mlyard.entities.specs.spec_files import validate_spec
from mlyard.entities.specs.spec_values import TextMap

FREQUENCIES = ("minute", "hour", "day", "week", "month")
WEEK_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _time_zone_alias(data: Any) -> Any:
    """The docs' table says `timezone`, every example writes `time_zone`: accept both."""
    if isinstance(data, dict) and "timezone" in data and "time_zone" not in data:
        data = {**data, "time_zone": data["timezone"]}
        del data["timezone"]
    return data


def _lower_days(value: Any) -> Any:
    if isinstance(value, str):
        value = [value]
    return (
        [day.lower() if isinstance(day, str) else day for day in value] if isinstance(value, list) else value
    )


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, int) and not isinstance(value, bool) else value


class _Timed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_time: datetime | None = None
    end_time: datetime | None = None
    time_zone: str = "UTC"


class CronTrigger(_Timed):
    type: Literal["cron"]
    expression: str


class RecurrencePattern(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hours: Annotated[list[Annotated[int, Field(ge=0, le=23)]], BeforeValidator(_as_list)] = Field(
        default_factory=list
    )
    minutes: Annotated[list[Annotated[int, Field(ge=0, le=59)]], BeforeValidator(_as_list)] = Field(
        default_factory=list
    )
    week_days: Annotated[
        list[Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]],
        BeforeValidator(_lower_days),
    ] = Field(default_factory=list)
    month_days: Annotated[list[Annotated[int, Field(ge=1, le=31)]], BeforeValidator(_as_list)] = Field(
        default_factory=list
    )


class RecurrenceTrigger(_Timed):
    type: Literal["recurrence"]
    frequency: Literal["minute", "hour", "day", "week", "month"]
    interval: int = Field(default=1, ge=1, le=1000)
    schedule: RecurrencePattern | None = None


class EventTrigger(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["event"]
    event_type: str
    filter: TextMap = Field(default_factory=dict)


Trigger = Annotated[CronTrigger | RecurrenceTrigger | EventTrigger, Field(discriminator="type")]


class JobReference(BaseModel):
    """`create_job:` as a mapping: the job (a path or `azureml:<job id>`) and what to override."""

    model_config = ConfigDict(extra="forbid")

    type: str | None = None
    job: str
    experiment_name: str | None = None
    display_name: str | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)
    tags: TextMap = Field(default_factory=dict)


class ScheduleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    display_name: str | None = None
    description: str | None = None
    tags: TextMap = Field(default_factory=dict)
    trigger: Trigger
    create_job: str | JobReference | dict[str, Any] | None = None
    create_monitor: CreateMonitor | None = None
    is_enabled: bool = True

    @model_validator(mode="after")
    def _one_action(self) -> ScheduleSpec:
        if (self.create_job is None) == (self.create_monitor is None):
            raise ValueError("give exactly one of create_job and create_monitor")
        return self

    @model_validator(mode="before")
    @classmethod
    def _accept_timezone(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("trigger"), dict):
            data = {**data, "trigger": _time_zone_alias(data["trigger"])}
        return data


class MonitorFile(BaseModel):
    """`mlyard monitor create --file`: a monitor schedule whose trigger may be left out (run by hand)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    display_name: str | None = None
    description: str | None = None
    tags: TextMap = Field(default_factory=dict)
    trigger: Trigger | None = None
    create_monitor: CreateMonitor
    is_enabled: bool = True

    @model_validator(mode="before")
    @classmethod
    def _accept_timezone(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("trigger"), dict):
            data = {**data, "trigger": _time_zone_alias(data["trigger"])}
        return data


def schedule_from_dict(data: dict[str, Any], source: str) -> ScheduleSpec:
    """The schedule in `data`; `InvalidSpec` naming `source` and the field when it is wrong."""
    return validate_spec(ScheduleSpec, data, source)


def monitor_file_from_dict(data: dict[str, Any], source: str) -> MonitorFile:
    """A monitor file (a schedule YAML with `create_monitor`, the trigger optional)."""
    return validate_spec(MonitorFile, data, source)
