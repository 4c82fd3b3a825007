"""Online endpoint and deployment YAML, as Azure ML CLI v2 writes it.

    # endpoint.yml                               # blue.yml
    $schema: …/managedOnlineEndpoint.schema.json  $schema: …/managedOnlineDeployment.schema.json
    name: diabetes                               name: blue
    auth_mode: key          # or aml_token       endpoint_name: diabetes
                                                 model: azureml:diabetes-ridge@latest
                                                 code_configuration: {code: ./src, scoring_script: score.py}
                                                 environment: azureml:sklearn-env:1   # or inherit
                                                 instance_count: 2
                                                 request_settings: {request_timeout_ms: 5000}

Defaults are Azure ML's (request settings, probes). Fields Azure ML uses only in its cloud
(`instance_type`, `identity`, `app_insights_enabled`, `scale_settings`, …) are accepted and
ignored, so YAML from azureml-examples reads unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from mlyard.entities.specs.spec_files import validate_spec
from mlyard.entities.specs.spec_values import TextMap, without
from mlyard.errors import InvalidArgument

# Azure ML's rules: an endpoint name is 3-32 letters, digits and '-', starting with a letter
# (it becomes part of a URL); deployment names follow the same shape, from one character.
_ENDPOINT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,30}[A-Za-z0-9]$")
_DEPLOYMENT_NAME = re.compile(r"^[A-Za-z]([A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")
AUTH_MODES = {"key": "key", "aml_token": "aml_token", "token": "aml_token"}
MAX_MIRROR_PERCENT = 50
ENDPOINT_CLOUD_FIELDS = ("identity", "public_network_access", "compute", "kind", "location")
DEPLOYMENT_CLOUD_FIELDS = (
    "instance_type", "app_insights_enabled", "scale_settings", "egress_public_network_access", "type",
    "resources", "startup_probe", "private_network_connection", "data_collector_settings",
)  # fmt: skip


def validate_endpoint_name(name: str) -> str:
    if not isinstance(name, str) or not _ENDPOINT_NAME.match(name):
        raise InvalidArgument(
            f"invalid endpoint name {name!r}: 3 to 32 letters, digits or '-', starting with a letter "
            "and not ending with '-' (it becomes part of the scoring URL)"
        )
    return name


def validate_deployment_name(name: str) -> str:
    if not isinstance(name, str) or not _DEPLOYMENT_NAME.match(name):
        raise InvalidArgument(
            f"invalid deployment name {name!r}: 1 to 32 letters, digits or '-', starting with a letter "
            "and not ending with '-'"
        )
    return name


def _as_value_error(check: Callable[[str], str], name: str) -> str:
    """Inside a validator our errors become ValueError, so the spec error names the file and field."""
    try:
        return check(name)
    except InvalidArgument as exc:
        raise ValueError(exc.message) from None


def _auth_mode(value: Any) -> Any:
    """`token` is accepted for Azure ML's `aml_token`; both are stored as `aml_token`."""
    if isinstance(value, str) and value.strip().lower() in AUTH_MODES:
        return AUTH_MODES[value.strip().lower()]
    return value


def _percent_map(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): item for key, item in value.items()}
    return value


AuthMode = Annotated[Literal["key", "aml_token"], BeforeValidator(_auth_mode)]
Percentages = Annotated[dict[str, Annotated[int, Field(ge=0, le=100)]], BeforeValidator(_percent_map)]


class OnlineEndpointSpec(BaseModel):
    """`mlyard online-endpoint create --file endpoint.yml`."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str | None = None
    auth_mode: AuthMode = "key"
    tags: TextMap = Field(default_factory=dict)
    properties: TextMap = Field(default_factory=dict)
    traffic: Percentages = Field(default_factory=dict)
    mirror_traffic: Percentages = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        return _as_value_error(validate_endpoint_name, name)


class RequestSettings(BaseModel):
    """Azure ML's defaults: 5 s per request, one at a time per instance, 500 ms in the queue."""

    model_config = ConfigDict(extra="forbid")

    request_timeout_ms: int = Field(default=5000, ge=1, le=300_000)
    max_concurrent_requests_per_instance: int = Field(default=1, ge=1, le=10_000)
    max_queue_wait_ms: int = Field(default=500, ge=0, le=300_000)


class Probe(BaseModel):
    """How an instance's health is checked (seconds); Azure ML's defaults."""

    model_config = ConfigDict(extra="forbid")

    initial_delay: int = Field(default=10, ge=0, le=3600)
    period: int = Field(default=10, ge=1, le=3600)
    timeout: int = Field(default=2, ge=1, le=3600)
    success_threshold: int = Field(default=1, ge=1, le=100)
    failure_threshold: int = Field(default=30, ge=1, le=1000)


def _enabled(value: Any) -> Any:
    """Azure ML writes `enabled: 'True'` as text; true/false and booleans are the same."""
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


class Collection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: Annotated[bool, BeforeValidator(_enabled)] = True
    data: dict[str, Any] | None = None  # Azure ML's target data asset: accepted, the path is mlyard's
    client_id: str | None = None


class DataCollector(BaseModel):
    """`data_collector:` — copies of model inputs and outputs for monitoring, off the request path."""

    model_config = ConfigDict(extra="forbid")

    collections: dict[Literal["model_inputs", "model_outputs"], Collection] = Field(default_factory=dict)
    sampling_rate: float = Field(default=1.0, ge=0.0, le=1.0)
    rolling_rate: Literal["minute", "hour", "day"] = "hour"
    request_logging: dict[str, Any] | None = None

    def collects(self, kind: str) -> bool:
        found = self.collections.get(kind)  # type: ignore[call-overload]
        return found is not None and found.enabled


class CodeConfiguration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    scoring_script: str


class InlineModel(BaseModel):
    """`model: {path: ./model}` — a folder registered as a model version when the deployment is created."""

    model_config = ConfigDict(extra="forbid")

    path: str
    name: str | None = None
    version: str | None = None
    type: Literal["custom_model", "mlflow_model", "triton_model"] = "custom_model"
    description: str | None = None


class DeploymentSettings(BaseModel):
    """What a deployment says about how it runs — everything but the model, environment and code."""

    model_config = ConfigDict(extra="forbid")

    description: str | None = None
    tags: TextMap = Field(default_factory=dict)
    instance_count: int = Field(default=1, ge=1, le=64)
    environment_variables: TextMap = Field(default_factory=dict)
    request_settings: RequestSettings = Field(default_factory=RequestSettings)
    liveness_probe: Probe = Field(default_factory=Probe)
    readiness_probe: Probe = Field(default_factory=Probe)
    data_collector: DataCollector | None = None


class OnlineDeploymentSpec(DeploymentSettings):
    """`mlyard online-deployment create --file blue.yml`."""

    name: str
    endpoint_name: str | None = None
    model: str | InlineModel | None = None
    environment: str | dict[str, Any] | None = None
    code_configuration: CodeConfiguration | None = None

    @field_validator("name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        return _as_value_error(validate_deployment_name, name)

    @field_validator("endpoint_name")
    @classmethod
    def _valid_endpoint(cls, name: str | None) -> str | None:
        return _as_value_error(validate_endpoint_name, name) if name is not None else None

    def settings(self) -> DeploymentSettings:
        return DeploymentSettings.model_validate(
            self.model_dump(include=set(DeploymentSettings.model_fields))
        )


def endpoint_spec_from_dict(data: dict[str, Any], source: str) -> OnlineEndpointSpec:
    return validate_spec(OnlineEndpointSpec, without(data, ENDPOINT_CLOUD_FIELDS), source)


def deployment_spec_from_dict(data: dict[str, Any], source: str) -> OnlineDeploymentSpec:
    return validate_spec(OnlineDeploymentSpec, without(data, DEPLOYMENT_CLOUD_FIELDS), source)


def parse_traffic(text: str, option: str = "--traffic") -> dict[str, int]:
    """`"blue=90 green=10"` (spaces or commas between pairs) → {"blue": 90, "green": 10}."""
    result: dict[str, int] = {}
    for pair in re.split(r"[\s,]+", text.strip()):
        if not pair:
            continue
        name, sep, value = pair.partition("=")
        if not sep or not name or not value.strip().isdigit():
            raise InvalidArgument(
                f'{option} expects DEPLOYMENT=PERCENT pairs such as "blue=90 green=10", got {pair!r}'
            )
        if name in result:
            raise InvalidArgument(f"{option} names deployment {name!r} twice")
        result[name] = int(value)
    return result
