"""Bodies of the tracked-run routes: start, log-batch, end, cancel, search, metric history."""

from __future__ import annotations

import contextlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from mlyard.entities.jobs.job import (
    NON_FINITE_JSON,
    CodeSnapshot,
    Job,
    JobOutputInfo,
    JobStatus,
    MetricValue,
    RuntimeInfo,
)
from mlyard.server.schemas.common import INT64, Request, Scalar


class StartJobRequest(Request):
    """Start a tracked run: a job that is Running from now until it is ended."""

    experiment: str | None = Field(default=None, description="created on first use; default 'Default'")
    display_name: str | None = Field(default=None, max_length=255)
    tags: dict[str, Scalar] = Field(default_factory=dict)
    parent_job_id: str | None = Field(default=None, description="makes this a nested (child) run")
    code: CodeSnapshot | None = Field(default=None, description="the code the run's script came from")
    runtime: RuntimeInfo | None = Field(default=None, description="python, platform, host, packages")


class MetricPoint(BaseModel):
    """One point of a metric's time series."""

    model_config = ConfigDict(extra="forbid")

    key: str
    value: MetricValue
    step: int | None = Field(default=None, ge=-INT64, le=INT64 - 1, description="default 0")
    timestamp: int | None = Field(
        default=None, ge=0, le=INT64 - 1, description="milliseconds since the epoch; default now"
    )

    @field_validator("value", mode="before")
    @classmethod
    def _value_is_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        # Say which metric is wrong: the field path alone (metrics[3].value) makes users count.
        # NaN and ±infinity are stored, as MLflow stores them; JSON carries them as strings.
        if isinstance(value, str) and value in NON_FINITE_JSON:
            return NON_FINITE_JSON[value]
        if isinstance(value, int | float) and not isinstance(value, bool):
            with contextlib.suppress(OverflowError):  # an integer too large for a float
                return float(value)
        raise ValueError(
            f'metric {info.data.get("key")!r} must be a number (or "NaN", "Infinity", '
            f'"-Infinity"), got {value!r}'
        )


class LogBatchRequest(Request):
    """Params, metric points and tags of one job, written in one transaction: all or none."""

    params: dict[str, Scalar] = Field(default_factory=dict)
    metrics: list[MetricPoint] = Field(default_factory=list)
    tags: dict[str, Scalar] = Field(default_factory=dict)


class EndJobRequest(LogBatchRequest):
    """End a run, writing its last params, metric points and tags in the same transaction."""

    status: Literal["Completed", "Failed", "Canceled"] = "Completed"
    error: str | None = Field(default=None, description="why the job failed, shown with the job")


class InputEdge(Request):
    """A lineage edge: the job read this data asset or model version."""

    kind: Literal["data", "model"]
    name: str
    version: str


class SubmitJobRequest(Request):
    """A job YAML's mapping, with the files it names in an upload (see `uploads`)."""

    spec: dict[str, Any] = Field(description="what the job YAML holds: type, command, code, inputs, jobs, …")
    upload: str | None = Field(default=None, description="the upload holding the files the spec names")
    base: str = Field(
        default="", description="the YAML's folder inside the upload; its paths are relative to it"
    )
    source: str = Field(default="job", description="the file name errors are reported against")
    submitted_from: str | None = Field(
        default=None,
        description="the job whose process submits this one (its MLYARD_JOB_ID), for the nesting depth",
    )


class Experiment(BaseModel):
    name: str
    job_count: int


class ExperimentList(BaseModel):
    value: list[Experiment]


class OutputList(BaseModel):
    value: list[JobOutputInfo]


class CancelResult(BaseModel):
    id: str
    status: JobStatus = Field(description="Canceled at once for a queued job, else CancelRequested")


class DeleteResult(BaseModel):
    id: str
    deleted: list[str] = Field(description="the job and the jobs below it, removed with their files")


class JobList(BaseModel):
    value: list[Job]


class MetricHistory(BaseModel):
    job_id: str
    key: str
    value: list[MetricPoint] = Field(description="every logged point, in step then time order")
