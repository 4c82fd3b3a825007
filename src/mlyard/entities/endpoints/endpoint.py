"""Online endpoints and deployments as users see them (`show`, `list`), their credentials and metrics.

Provisioning states follow Azure ML: an endpoint is `Succeeded` once recorded; a deployment is
`Creating` (or `Updating`) until every instance of its newest generation answers its readiness
route, then `Succeeded` — or `Failed` with the reason (an environment that does not build, an
`init()` that raised: its traceback is in the deployment's logs).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from mlyard.entities.endpoints.endpoint_spec import DeploymentSettings

K = TypeVar("K", str, int)


class DeploymentState(StrEnum):
    CREATING = "Creating"
    UPDATING = "Updating"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"

    @property
    def is_settled(self) -> bool:
        return self in (DeploymentState.SUCCEEDED, DeploymentState.FAILED)


class OnlineEndpoint(BaseModel):
    name: str
    description: str | None = None
    auth_mode: str
    traffic: dict[str, int] = Field(default_factory=dict)
    mirror_traffic: dict[str, int] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    properties: dict[str, str] = Field(default_factory=dict)
    provisioning_state: str = "Succeeded"
    # Where to send requests: filled in by whoever knows the server serving the endpoint.
    scoring_uri: str | None = None
    openapi_uri: str | None = None
    created_at: datetime
    updated_at: datetime
    created_by: str | None = None


class CodeReference(BaseModel):
    """A deployment's scoring code, stored content-addressed in the artifact store."""

    artifact_path: str
    code_hash: str
    scoring_script: str


class ModelReference(BaseModel):
    name: str
    version: str
    content_hash: str
    folder_name: str | None = None  # the model version's (entities/registry/model.py): its scoring layout

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"


class OnlineDeployment(BaseModel):
    endpoint_name: str
    name: str
    model: ModelReference | None = None
    environment: dict[str, Any] | None = None  # a ResolvedEnvironment; None: mlyard's own interpreter
    environment_ref: str | None = None  # how the spec named it
    code: CodeReference | None = None
    settings: DeploymentSettings = Field(default_factory=DeploymentSettings)
    generation: int = 1
    provisioning_state: DeploymentState = DeploymentState.CREATING
    error: str | None = None
    uid: str  # unique per created deployment: its logs' file name
    created_at: datetime
    updated_at: datetime
    created_by: str | None = None

    @property
    def instance_count(self) -> int:
        return self.settings.instance_count

    def summary(self) -> dict[str, Any]:
        """The JSON `show` prints: Azure ML's field names, flat."""
        settings = self.settings.model_dump(mode="json", exclude_none=True)
        return {
            "name": self.name,
            "endpoint_name": self.endpoint_name,
            "model": f"azureml:{self.model.ref}" if self.model else None,
            "environment": self.environment_ref or ("inherit" if self.environment is None else "(inline)"),
            "code_configuration": (
                {"code": self.code.artifact_path, "scoring_script": self.code.scoring_script}
                if self.code
                else None
            ),
            **settings,
            "generation": self.generation,
            "provisioning_state": self.provisioning_state.value,
            "error": self.error,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "created_by": self.created_by,
        }


class EndpointCredentials(BaseModel):
    """`get-credentials`: Azure ML's names — the two keys, or a token with its expiry."""

    auth_mode: str
    primary_key: str | None = Field(default=None, alias="primaryKey")
    secondary_key: str | None = Field(default=None, alias="secondaryKey")
    access_token: str | None = Field(default=None, alias="accessToken")
    expiry_time_utc: datetime | None = Field(default=None, alias="expiryTimeUtc")
    token_type: str | None = Field(default=None, alias="tokenType")

    model_config = {"populate_by_name": True}

    @property
    def bearer(self) -> str:
        """What goes after `Authorization: Bearer `."""
        secret = self.primary_key if self.auth_mode == "key" else self.access_token
        assert secret is not None
        return secret


class LatencySummary(BaseModel):
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None


class TrafficSummary(BaseModel):
    """What one deployment (or the whole endpoint) answered over the window."""

    requests: int = 0
    requests_per_second: float = 0.0
    errors: int = 0  # answers with status >= 400
    error_rate: float = 0.0
    status_counts: dict[str, int] = Field(default_factory=dict)
    latency_ms: LatencySummary = Field(default_factory=LatencySummary)
    mirrored: int = 0  # copies sent to this deployment as mirror traffic
    mirror_errors: int = 0
    mirror_outcomes: dict[str, int] = Field(default_factory=dict)  # "200", "500", "error", "dropped"


class EndpointMetrics(BaseModel):
    """`online-endpoint metrics`: the server's live window (`window_seconds` back from now) or, with
    `start`, the persisted minutes from `start` (a minute's beginning) to `end`, plus unflushed ones."""

    endpoint: str
    window_seconds: int
    total: TrafficSummary
    deployments: dict[str, TrafficSummary] = Field(default_factory=dict)
    start: datetime | None = None
    end: datetime | None = None


class TrafficMinute(BaseModel):
    """What the gateway counted for one deployment in one minute (UTC, its first second): the unit
    persisted off the request path and merged by addition. `deployment` is "" for requests the
    endpoint refused before choosing one (401, 413). `latency_buckets` maps the index of a
    log-latency bucket (services/online/latency_buckets) to its count, sparsely."""

    endpoint: str
    deployment: str
    minute: datetime
    requests: int = 0
    errors: int = 0
    status_counts: dict[str, int] = Field(default_factory=dict)
    latency_buckets: dict[int, int] = Field(default_factory=dict)
    mirror_outcomes: dict[str, int] = Field(default_factory=dict)

    def plus(self, other: TrafficMinute) -> TrafficMinute:
        """This minute's counts with `other`'s added (another flush, or another server's)."""
        return self.model_copy(
            update={
                "requests": self.requests + other.requests,
                "errors": self.errors + other.errors,
                "status_counts": added_counts(self.status_counts, other.status_counts),
                "latency_buckets": added_counts(self.latency_buckets, other.latency_buckets),
                "mirror_outcomes": added_counts(self.mirror_outcomes, other.mirror_outcomes),
            }
        )


def added_counts(a: Mapping[K, int], b: Mapping[K, int]) -> dict[K, int]:
    """Two tallies added key by key."""
    total = dict(a)
    for key, count in b.items():
        total[key] = total.get(key, 0) + count
    return total


class EndpointHealth(BaseModel):
    """A deployment's serving health over a time range, for the monitor's `endpoint_health` signal.
    Latencies and the error rate are None when no request was answered in the range (nothing to
    measure); requests per second is 0.0 then, and None only for an empty range."""

    requests: int
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    error_rate: float | None
    requests_per_second: float | None
