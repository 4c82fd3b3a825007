"""Request bodies of the MLflow REST API, as the MLflow client sends them (protobuf JSON).

Unlike the mlyard API's bodies, unknown fields are ignored: every client release adds some
(`run_uuid` beside `run_id`, `model_id` and `dataset_digest` on metrics), and MLflow's own server
ignores them too. NUL characters are still refused, and every limit names its field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, field_validator, model_validator

from mlyard.server.schemas.common import INT64, Request, Scalar
from mlyard.server.schemas.jobs import MetricPoint

MAX_BATCH_METRICS = 1000  # MLflow's limits per log-batch request
MAX_BATCH_PARAMS = 100
MAX_BATCH_TAGS = 100
MAX_RESULTS = 50_000  # per search page, as MLflow allows
Millis = int  # milliseconds since the epoch, a JSON number


def _integer_as_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


# Ids and versions are text in MLflow's protocol; a hand-written request may send 1 for "1".
Ident = Annotated[str, BeforeValidator(_integer_as_text)]


class MlflowRequest(Request):
    model_config = ConfigDict(extra="ignore")


class KeyValue(MlflowRequest):
    key: str
    value: Scalar = ""


class RunRequest(MlflowRequest):
    """Names a run as `run_id` (MLflow 3) or `run_uuid` (older clients send both)."""

    run_id: str | None = None
    run_uuid: str | None = None

    @model_validator(mode="after")
    def _needs_a_run(self) -> RunRequest:
        self.run_id = self.run_id or self.run_uuid
        if not self.run_id:
            raise ValueError("run_id is required (the id of the run to change)")
        return self

    @property
    def run(self) -> str:
        assert self.run_id is not None  # ensured by the validator
        return self.run_id


def _at_most(limit: int, what: str) -> Any:
    """A before-validator refusing a list over MLflow's limit before its items are validated."""

    def check(value: Any) -> Any:
        if isinstance(value, list) and len(value) > limit:
            raise ValueError(
                f"at most {limit} {what} per request (MLflow's log-batch limit), got {len(value)}"
            )
        return value

    return check


# --- experiments -------------------------------------------------------------------------------


class CreateExperiment(MlflowRequest):
    name: str
    artifact_location: str | None = None
    tags: list[KeyValue] = Field(default_factory=list)


class SearchExperiments(MlflowRequest):
    max_results: int = Field(default=1000, ge=1, le=MAX_RESULTS)
    filter: str | None = None
    order_by: list[str] = Field(default_factory=list)
    page_token: str | None = None
    view_type: str | None = None


# --- runs --------------------------------------------------------------------------------------


class CreateRun(MlflowRequest):
    experiment_id: Ident | None = None
    user_id: str | None = None
    run_name: str | None = Field(default=None, max_length=255)
    start_time: Millis | None = Field(default=None, ge=0, le=INT64 - 1)
    tags: list[KeyValue] = Field(default_factory=list)


RunStatus = Literal["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"]


class UpdateRun(RunRequest):
    status: RunStatus | None = None
    end_time: Millis | None = Field(default=None, ge=0, le=INT64 - 1)
    run_name: str | None = Field(default=None, max_length=255)


class MlflowMetric(MetricPoint):
    """One point; `model_id` links it to a logged model (the client re-sends points to do so)."""

    model_config = ConfigDict(extra="ignore")

    model_id: str | None = None


class LogMetric(RunRequest, MlflowMetric):
    model_config = ConfigDict(extra="ignore")


class LogParam(RunRequest):
    key: str
    value: Scalar


class SetTag(RunRequest):
    key: str
    value: Scalar


class DeleteTag(RunRequest):
    key: str


class LogBatch(RunRequest):
    metrics: list[MlflowMetric] = Field(default_factory=list)
    params: list[KeyValue] = Field(default_factory=list)
    tags: list[KeyValue] = Field(default_factory=list)

    _metrics_limit = field_validator("metrics", mode="before")(_at_most(MAX_BATCH_METRICS, "metrics"))
    _params_limit = field_validator("params", mode="before")(_at_most(MAX_BATCH_PARAMS, "params"))
    _tags_limit = field_validator("tags", mode="before")(_at_most(MAX_BATCH_TAGS, "tags"))

    @model_validator(mode="after")
    def _total_limit(self) -> LogBatch:
        total = len(self.metrics) + len(self.params) + len(self.tags)
        if total > MAX_BATCH_METRICS:
            raise ValueError(
                f"at most {MAX_BATCH_METRICS} metrics, params and tags in all per request (MLflow's "
                f"log-batch limit), got {total}"
            )
        return self


class SearchRuns(MlflowRequest):
    experiment_ids: list[Ident] = Field(default_factory=list)
    filter: str | None = None
    run_view_type: Literal["ACTIVE_ONLY", "DELETED_ONLY", "ALL"] | None = None
    max_results: int = Field(default=1000, ge=1, le=MAX_RESULTS)
    order_by: list[str] = Field(default_factory=list)
    page_token: str | None = None


class ModelOutput(MlflowRequest):
    model_id: str
    step: int = 0


class LogOutputs(RunRequest):
    models: list[ModelOutput] = Field(default_factory=list)


class LogInputs(RunRequest):
    """The datasets (and models) a run read; MLflow's dataset entities are taken as they come."""

    datasets: list[dict[str, Any]] = Field(default_factory=list)
    models: list[ModelOutput] = Field(default_factory=list)


# --- logged models -----------------------------------------------------------------------------


class CreateLoggedModel(MlflowRequest):
    experiment_id: Ident
    name: str | None = None
    model_type: str | None = None
    source_run_id: str | None = None
    params: list[KeyValue] = Field(default_factory=list)
    tags: list[KeyValue] = Field(default_factory=list)


LoggedModelStatusName = Literal["LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED"]


class FinalizeLoggedModel(MlflowRequest):
    status: LoggedModelStatusName


class LoggedModelTags(MlflowRequest):
    tags: list[KeyValue] = Field(default_factory=list)


class LoggedModelParams(MlflowRequest):
    params: list[KeyValue] = Field(default_factory=list)


class SearchLoggedModels(MlflowRequest):
    experiment_ids: list[Ident] = Field(default_factory=list)
    filter: str | None = None
    max_results: int = Field(default=100, ge=1, le=MAX_RESULTS)
    page_token: str | None = None


# --- registry ----------------------------------------------------------------------------------


class CreateRegisteredModel(MlflowRequest):
    name: str
    tags: list[KeyValue] = Field(default_factory=list)
    description: str | None = None


class CreateModelVersion(MlflowRequest):
    name: str
    source: str
    run_id: str | None = None
    model_id: str | None = None
    tags: list[KeyValue] = Field(default_factory=list)
    description: str | None = None


class GetLatestVersions(MlflowRequest):
    name: str
    stages: list[str] = Field(default_factory=list)


class SetAlias(MlflowRequest):
    name: str
    alias: str
    version: Ident


class AliasRef(MlflowRequest):
    name: str
    alias: str
