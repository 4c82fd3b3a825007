"""Schedules as stored and shown, and the record of each firing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class Schedule(BaseModel):
    name: str
    display_name: str | None = None
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    trigger: dict[str, Any] = Field(description="the trigger as given: cron, recurrence or event")
    create_job: dict[str, Any] = Field(description="the job it creates, with its overrides applied")
    enabled: bool = True
    next_fire_at: datetime | None = Field(default=None, description="None: an event trigger, or ended")
    last_fired_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    created_by: str | None = None


class ScheduleFiring(BaseModel):
    """One firing: when it was due, why (cron, recurrence, manual, event), and the job it created."""

    id: int
    schedule: str
    reason: str
    scheduled_for: datetime
    fired_at: datetime
    state: str  # pending | done | failed
    job_id: str | None = None
    event_id: str | None = None
    error: str | None = None


class ScheduleDetails(BaseModel):
    """What `schedule show` prints: the schedule, its next firing times and its recent firings."""

    schedule: Schedule
    next_firings: list[datetime] = Field(default_factory=list)
    firings: list[ScheduleFiring] = Field(default_factory=list)
