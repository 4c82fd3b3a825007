"""Request and response bodies of the REST API.

Requests are strict: unknown fields are refused (a misspelt field is an error naming it, not a
silently ignored value). Responses reuse the entity models (`Job`, `DataAsset`, `Model`,
`ModelVersion`) so the API and the SDK show the same records. Every list comes wrapped as
`{"value": [...]}`, as Azure ML's REST API returns lists, leaving room for paging fields.
"""

from __future__ import annotations

import contextlib
import math
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from mlyard.entities.data import DataAsset
from mlyard.entities.job import Job, JobStatus
from mlyard.entities.model import Model, ModelVersion

_JSON_TYPES = {dict: "an object", list: "an array", type(None): "null"}


def _scalar(value: Any) -> str | int | float | bool:
    # One validator, not a union of four: a wrong value gets one error, not one per member.
    if isinstance(value, str | int | float):  # bool is an int
        return value
    raise ValueError(f"expected a string, number or boolean, got {_JSON_TYPES.get(type(value), repr(value))}")


# Param and tag values are stored as text; numbers and booleans are accepted and written as text.
Scalar = Annotated[
    str | int | float | bool,
    PlainValidator(_scalar),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}),
]
_INT64 = 2**63  # steps and timestamps are 64-bit integer columns


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, data: Any) -> Any:
        # PostgreSQL text cannot hold NUL: refuse it here, by field, rather than fail in the database.
        where = _find_nul_character(data)
        if where is not None:
            raise ValueError(
                f"text must not contain NUL characters (\\u0000){f' (at {where})' if where else ''}"
            )
        return data


def _find_nul_character(value: Any, path: str = "") -> str | None:
    """The path of the first string (or key) in `value` holding a NUL character, else None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            found = _find_nul_character(key, inner) or _find_nul_character(item, inner)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _find_nul_character(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


class ErrorBody(BaseModel):
    """Every error response: a stable code (as in `mlyard.errors`) and a message for people."""

    error_code: str
    message: str


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    workspaces: dict[str, str] = Field(description="workspace name → 'ok' or why its database is unusable")


class WorkspaceSummary(BaseModel):
    name: str


class WorkspaceList(BaseModel):
    value: list[WorkspaceSummary]


class WorkspaceInfo(BaseModel):
    name: str
    path: str
    database: str = Field(description="database URL, password hidden")
    artifacts: str
    created_at: str


class StartJobRequest(_Request):
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
    step: int | None = Field(default=None, ge=-_INT64, le=_INT64 - 1, description="default 0")
    timestamp: int | None = Field(
        default=None, ge=0, le=_INT64 - 1, description="milliseconds since the epoch; default now"
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


class LogBatchRequest(_Request):
    """Params, metric points and tags of one job, written in one transaction: all or none."""

    params: dict[str, Scalar] = Field(default_factory=dict)
    metrics: list[MetricPoint] = Field(default_factory=list)
    tags: dict[str, Scalar] = Field(default_factory=dict)


class EndJobRequest(_Request):
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


class DataAssetList(BaseModel):
    value: list[DataAsset] = Field(description="without column profiles; read one version for its profile")


class ModelList(BaseModel):
    value: list[Model]


class ModelVersionList(BaseModel):
    value: list[ModelVersion]
