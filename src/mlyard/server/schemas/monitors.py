"""Bodies of the monitors routes."""

from __future__ import annotations

from pydantic import BaseModel

from mlyard.entities.automation.monitor import Monitor, MonitorResult
from mlyard.server.schemas.events import ScheduleRequest


class MonitorRequest(ScheduleRequest):
    """A monitor YAML's mapping (a schedule YAML with `create_monitor`, the trigger optional), with
    the files it names (a local reference or production table) in an upload."""


class MonitorList(BaseModel):
    value: list[Monitor]


class MonitorResultList(BaseModel):
    value: list[MonitorResult]
