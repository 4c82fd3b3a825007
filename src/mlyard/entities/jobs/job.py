"""The job record: what one execution (a tracked run, later a command/pipeline/sweep job) logged."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

# JSON has no NaN or infinity; MLflow's JSON (protobuf's) carries them as these strings.
NON_FINITE_JSON = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def json_number(value: float) -> float | str:
    """A metric value as JSON can carry it: NaN and ±infinity as "NaN", "Infinity", "-Infinity"."""
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


# A metric value in a pydantic record: JSON gets `json_number`'s form; validation reads those
# strings back as floats (pydantic parses "NaN" and "Infinity").
MetricValue = Annotated[float, PlainSerializer(json_number, when_used="json")]

QUEUE = "queue"  # a job's `dispatch` when the workers of a team server claim it from the queue
ENV_JOB_ID = "MLYARD_JOB_ID"  # set in a job's process: `mlyard.log_metric` there writes to that job


class JobStatus(StrEnum):
    """Azure ML job status values; the terminal ones end a run."""

    NOT_STARTED = "NotStarted"
    QUEUED = "Queued"
    RUNNING = "Running"
    FINALIZING = "Finalizing"
    CANCEL_REQUESTED = "CancelRequested"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"

    @property
    def is_terminal(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED)


class CodeSnapshot(BaseModel):
    """Which code produced a run: git state plus a content hash of the source folder."""

    model_config = ConfigDict(frozen=True)

    source_dir: str | None = None
    entry_point: str | None = None
    source_hash: str | None = None
    file_count: int = 0
    git_commit: str | None = None
    git_branch: str | None = None
    git_dirty: bool | None = None


class RuntimeInfo(BaseModel):
    """Where a run executed: interpreter, host, user, installed packages (name → version)."""

    model_config = ConfigDict(frozen=True)

    python_version: str
    platform: str
    host: str
    user: str
    packages: dict[str, str] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Metric:
    """One logged point. A plain dataclass, not pydantic: it is created per `log_metric` call."""

    key: str
    value: float
    step: int
    timestamp: int  # milliseconds since the epoch, as MLflow records it

    def to_dict(self) -> dict[str, Any]:
        """The point as JSON-ready values (NaN and ±infinity as strings, see `json_number`)."""
        return {
            "key": self.key,
            "value": json_number(self.value),
            "step": self.step,
            "timestamp": self.timestamp,
        }


@dataclass(frozen=True)
class RunSummary:
    """What a runner records with a job's outcome, in the same write: a sweep's best trial."""

    params: dict[str, str] = field(default_factory=dict)
    metrics: tuple[Metric, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)


class DataInput(BaseModel):
    """A lineage edge: the job read this asset version."""

    model_config = ConfigDict(frozen=True)

    kind: str  # "data" or "model"
    name: str
    version: str


class JobOutputInfo(BaseModel):
    """An output a job produced: stored under `jobs/<id>/outputs/<name>`, maybe registered as an asset."""

    model_config = ConfigDict(frozen=True)

    name: str
    type: str
    artifact_path: str
    content_hash: str
    asset_kind: str | None = None  # "data" or "model" when the output was registered
    asset_name: str | None = None
    asset_version: str | None = None

    @property
    def asset_ref(self) -> str | None:
        return f"{self.asset_name}:{self.asset_version}" if self.asset_name else None


class Job(BaseModel):
    """A job and its run record; `metrics` holds the latest value of each metric key."""

    id: str
    experiment: str
    display_name: str | None = None
    type: str = "run"
    status: JobStatus
    created_at: datetime
    start_time: datetime | None = None
    end_time: datetime | None = None
    error: str | None = None
    params: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, MetricValue] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    inputs: list[DataInput] = Field(default_factory=list)
    code: CodeSnapshot | None = None
    runtime: RuntimeInfo | None = None
    parent_job_id: str | None = None
    reused_from: str | None = None  # a pipeline step that reused this earlier job's outputs

    @property
    def duration_seconds(self) -> float | None:
        if self.start_time is None:
            return None
        end = self.end_time or datetime.now(self.start_time.tzinfo)
        return (end - self.start_time).total_seconds()

    def summary(self) -> dict[str, Any]:
        """The compact form used by listings (no package list)."""
        data = self.model_dump(mode="json", exclude={"runtime", "code"})
        data["duration_seconds"] = self.duration_seconds
        return {"name": self.id} | data  # Azure ML's word for a job's id: `--query name -o tsv`
