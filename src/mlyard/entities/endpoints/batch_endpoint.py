"""Batch endpoints and deployments, as Azure ML CLI v2 YAML writes them.

    # endpoint.yml
    $schema: https://azuremlschemas.azureedge.net/latest/batchEndpoint.schema.json
    name: diabetes-batch
    description: nightly scoring
    defaults: {deployment_name: ridge}          # set by update; the first deployment is the default

    # deployment.yml
    $schema: https://azuremlschemas.azureedge.net/latest/modelBatchDeployment.schema.json
    name: ridge
    endpoint_name: diabetes-batch
    type: model
    model: azureml:diabetes-ridge@latest        # pinned to its version at create time
    code_configuration: {code: ./src, scoring_script: score.py}   # omit: the model's flavor scores
    environment: azureml:sklearn-env@latest     # omit: mlyard's own interpreter
    compute: local                              # or ray, ray://host:port, a created compute
    resources: {instance_count: 2}
    settings:
      max_concurrency_per_instance: 2
      mini_batch_size: 10                       # files, or rows of a table (or a size: 1mb)
      output_action: append_row                 # or summary_only
      output_file_name: predictions.csv
      retry_settings: {max_retries: 3, timeout: 30}
      error_threshold: -1                       # failed items tolerated; -1: any number
      logging_level: info
      environment_variables: {KEY: value}

Older Azure ML YAML writes the settings at the top level; both spellings read (not both at once).
Without `code_configuration` the model is scored by its flavor (`serving.scorers`), the no-code path.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mlyard.entities.specs.spec_files import load_yaml, validate_spec
from mlyard.entities.specs.spec_values import TextMap, check_mini_batch_size, mini_batch_limit, without
from mlyard.errors import InvalidSpec

DEFAULT_OUTPUT_FILE = "predictions.csv"
BATCH_OUTPUT = "score"  # the batch job's output, as Azure ML names it (`job download --output-name score`)
ENDPOINT_CLOUD_FIELDS = ("auth_mode", "identity", "properties")
DEPLOYMENT_CLOUD_FIELDS = ("instance_type", "identity", "properties", "job_definition")
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
LOGGING_LEVELS = ("debug", "info", "warning", "error", "critical")
SETTING_FIELDS = (
    "max_concurrency_per_instance", "mini_batch_size", "output_action", "output_file_name",
    "retry_settings", "error_threshold", "logging_level", "environment_variables",
)  # fmt: skip


class BatchRetrySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_retries: int = Field(default=3, ge=0, le=100)
    timeout: int = Field(default=30, gt=0, description="seconds one mini-batch may take")


class _SettingFields(BaseModel):
    """The batch settings, each optional: `settings:` and the older top-level spelling share them."""

    model_config = ConfigDict(extra="forbid")

    max_concurrency_per_instance: int | None = Field(default=None, ge=1, le=256)
    mini_batch_size: int | str | None = None
    output_action: Literal["append_row", "summary_only"] | None = None
    output_file_name: str | None = None
    retry_settings: BatchRetrySettings | None = None
    error_threshold: int | None = Field(default=None, ge=-1)
    logging_level: str | None = None
    environment_variables: TextMap | None = None

    @field_validator("mini_batch_size")
    @classmethod
    def _size(cls, value: int | str | None) -> int | str | None:
        return check_mini_batch_size(value)

    @field_validator("output_file_name")
    @classmethod
    def _file_name(cls, value: str | None) -> str | None:
        if value is not None and not _FILE_NAME.match(value):
            raise ValueError(f"expected a plain file name such as predictions.csv, got {value!r}")
        return value

    @field_validator("logging_level")
    @classmethod
    def _level(cls, value: str | None) -> str | None:
        if value is not None and value.lower() not in LOGGING_LEVELS:
            raise ValueError(f"expected one of {', '.join(LOGGING_LEVELS)}, got {value!r}")
        return value.lower() if value is not None else None


class BatchSettings(BaseModel):
    """A deployment's batch settings with Azure ML's defaults filled in."""

    model_config = ConfigDict(extra="forbid")

    max_concurrency_per_instance: int = Field(default=1, ge=1, le=256)
    mini_batch_size: int | str = 10
    output_action: Literal["append_row", "summary_only"] = "append_row"
    output_file_name: str = DEFAULT_OUTPUT_FILE
    retry_settings: BatchRetrySettings = Field(default_factory=BatchRetrySettings)
    error_threshold: int = Field(default=-1, ge=-1)
    logging_level: str = "info"
    environment_variables: dict[str, str] = Field(default_factory=dict)

    def batch_limit(self) -> tuple[Literal["count", "bytes"], float]:
        """("count", files or rows) or ("bytes", size) per mini-batch."""
        return mini_batch_limit(self.mini_batch_size)


class CodeConfiguration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str | None = None
    scoring_script: str = Field(min_length=1)


class BatchResources(BaseModel):
    model_config = ConfigDict(extra="allow")  # instance_type, properties, …: cloud only

    instance_count: int = Field(default=1, ge=1, le=64)


class BatchEndpointDefaults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deployment_name: str | None = None


class BatchEndpointSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    description: str | None = None
    tags: TextMap = Field(default_factory=dict)
    defaults: BatchEndpointDefaults = Field(default_factory=BatchEndpointDefaults)


class BatchDeploymentSpec(_SettingFields):
    name: str = Field(min_length=1)
    endpoint_name: str = Field(min_length=1)
    type: Literal["model"] = "model"
    description: str | None = None
    tags: TextMap = Field(default_factory=dict)
    model: str = Field(min_length=1)
    code_configuration: CodeConfiguration | None = None
    environment: str | dict[str, Any] | None = None
    compute: str | None = None
    resources: BatchResources = Field(default_factory=BatchResources)
    settings: _SettingFields | None = None

    @model_validator(mode="before")
    @classmethod
    def _kind(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("type") == "pipeline":
            raise ValueError(
                "type: pipeline deployments (of a pipeline component) are not supported here; "
                "deploy a model (type: model)"
            )
        if isinstance(data, dict) and isinstance(data.get("model"), dict):
            raise ValueError(
                "model: an inline model is not supported; register it first (mlyard model create) "
                "and name it here as azureml:<name>:<version> or azureml:<name>@latest"
            )
        return data

    @model_validator(mode="after")
    def _settings_once(self) -> BatchDeploymentSpec:
        if self.settings is not None:
            twice = [
                f
                for f in SETTING_FIELDS
                if getattr(self, f) is not None and getattr(self.settings, f) is not None
            ]
            if twice:
                raise ValueError(
                    f"{', '.join(twice)}: given both at the top level and under settings; keep one"
                )
        return self

    def batch_settings(self) -> BatchSettings:
        """The settings, from `settings:` or the top level, with Azure ML's defaults."""
        given: dict[str, Any] = {}
        for field in SETTING_FIELDS:
            value = getattr(self.settings, field) if self.settings is not None else None
            value = getattr(self, field) if value is None else value
            if value is not None:
                given[field] = value
        return BatchSettings.model_validate(given)


def batch_endpoint_from_dict(data: dict[str, Any], source: str) -> BatchEndpointSpec:
    return validate_spec(BatchEndpointSpec, without(data, ENDPOINT_CLOUD_FIELDS), source)


def batch_deployment_from_dict(data: dict[str, Any], source: str) -> BatchDeploymentSpec:
    return validate_spec(BatchDeploymentSpec, without(data, DEPLOYMENT_CLOUD_FIELDS), source)


def load_batch_endpoint(path: Path) -> BatchEndpointSpec:
    return batch_endpoint_from_dict(load_yaml(path), str(path))


def load_batch_deployment(path: Path) -> BatchDeploymentSpec:
    data = load_yaml(path)
    if data.get("type") not in (None, "model", "pipeline"):
        raise InvalidSpec(f"{path}: type: expected model, got {data.get('type')!r}")
    return batch_deployment_from_dict(data, str(path))


# --- records -------------------------------------------------------------------------------------


class BatchEndpoint(BaseModel):
    name: str
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    default_deployment: str | None = None
    deployments: list[str] = Field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    created_by: str | None = None


class BatchDeployment(BaseModel):
    """A deployment as stored: the model pinned to a version, code stored, environment resolved."""

    name: str
    endpoint_name: str
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    model_name: str
    model_version: str
    scoring_script: str | None = None  # None: the model's flavor scores it (no-code)
    code_artifact: str | None = None
    code_hash: str | None = None
    environment: dict[str, Any] | None = None  # resolved; None: mlyard's own interpreter
    environment_ref: str | None = None
    compute: str | None = None
    instance_count: int = 1
    settings: BatchSettings = Field(default_factory=BatchSettings)
    is_default: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    created_by: str | None = None

    @property
    def model_ref(self) -> str:
        return f"{self.model_name}:{self.model_version}"

    @property
    def workers(self) -> int:
        return self.instance_count * self.settings.max_concurrency_per_instance
