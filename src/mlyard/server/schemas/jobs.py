"""Bodies of the tracked-run routes: start, log-batch, end, cancel, search, metric history."""

from __future__ import annotations

import contextlib
import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from mlyard.entities.job import Job, JobStatus
from mlyard.server.schemas.common import INT64, Request, Scalar


class StartJobRequest(Request):
    """Start a tracked run: a job that is Running from now until it is ended."""

    experiment: str | None = Field(default=None, description="created on first use; default 'Default'")
    display_name: str | None = Field(default=None, max_length=255)
    tags: dict[str, Scalar] = Field(default_factory=dict)
    parent_job_id: str | None = Field(default=None, description="makes this a nested (child) run")


class MetricPoint(BaseModel):
    """One point of a metric's time series."""

    model_config = ConfigDict(extra="forbid")

    key: str
    value: float
    step: int | None = Field(default=None, ge=-INT64, le=INT64 - 1, description="default 0")
    timestamp: int | None = Field(
        default=None, ge=0, le=INT64 - 1, description="milliseconds since the epoch; default now"
    )

    @field_validator("value", mode="before")
    @classmethod
    def _value_is_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        # Say which metric is wrong: the field path alone (metrics[3].value) makes users count.
        # NaN and infinities are refused: SQLite stores NaN as NULL, and JSON has neither.
        if isinstance(value, int | float) and not isinstance(value, bool):
            with contextlib.suppress(OverflowError):  # an integer too large for a float
                if math.isfinite(value):
                    return value
        raise ValueError(f"metric {info.data.get('key')!r} must be a finite number, got {value!r}")


class LogBatchRequest(Request):
    """Params, metric points and tags of one job, written in one transaction: all or none."""

    params: dict[str, Scalar] = Field(default_factory=dict)
    metrics: list[MetricPoint] = Field(default_factory=list)
    tags: dict[str, Scalar] = Field(default_factory=dict)


class EndJobRequest(Request):
    status: Literal["Completed", "Failed", "Canceled"] = "Completed"
    error: str | None = Field(default=None, description="why the job failed, shown with the job")


class CancelResult(BaseModel):
    id: str
    status: JobStatus = Field(description="Canceled at once for a queued job, else CancelRequested")


class JobList(BaseModel):
    value: list[Job]


class MetricHistory(BaseModel):
    job_id: str
    key: str
    value: list[MetricPoint] = Field(description="every logged point, in step then time order")
