"""SQLAlchemy tables of a workspace. No business rules here: those live in `services/`.

Every schema change gets an Alembic revision in `migrations/versions/`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: DateTime(timezone=True)}


class ExperimentRow(Base):
    __tablename__ = "experiments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime]


class JobRow(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_queue", "dispatch", "status", "created_at"),
        # A page of one experiment's runs, newest first, read in order (the studio's runs table).
        Index("ix_jobs_experiment_created", "experiment_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"), index=True)
    display_name: Mapped[str | None] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(32), default="run")
    status: Mapped[str] = mapped_column(String(32), index=True)
    parent_job_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    start_time: Mapped[datetime | None]
    end_time: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    code: Mapped[dict[str, Any] | None]
    runtime: Mapped[dict[str, Any] | None]
    # Submitted jobs (command, pipeline, sweep, parallel) keep their resolved spec; tracked runs have none.
    spec: Mapped[dict[str, Any] | None]
    # Which process runs the job and when it last said so: a job whose runner died is failed, not Running.
    runner_pid: Mapped[int | None]
    runner_host: Mapped[str | None] = mapped_column(String(255))
    heartbeat_at: Mapped[datetime | None]
    # Step reuse: the signature of a deterministic step, and the earlier job whose outputs it reused.
    reuse_key: Mapped[str | None] = mapped_column(String(64), index=True)
    reused_from: Mapped[str | None] = mapped_column(String(64))
    # The team server's queue: `queue` jobs are claimed by workers under a lease renewed by
    # heartbeats; None is a job run by the process that submitted it (a detached runner).
    dispatch: Mapped[str | None] = mapped_column(String(16))
    worker_id: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None]
    attempt: Mapped[int | None]
    max_retries: Mapped[int | None]


class ParamRow(Base):
    __tablename__ = "params"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    # Set when the value parses as a number, so filters like `params.alpha > 0.1` compare numbers.
    value_number: Mapped[float | None] = mapped_column(Float)


class TagRow(Base):
    __tablename__ = "tags"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class MetricRow(Base):
    """Every logged point: the metric history."""

    __tablename__ = "metrics"
    __table_args__ = (Index("ix_metrics_job_key_step", "job_id", "key", "step"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"))
    key: Mapped[str] = mapped_column(String(250))
    value: Mapped[float | None] = mapped_column(Float)  # NULL is NaN (see store/jobs.py)
    step: Mapped[int] = mapped_column(BigInteger, default=0)
    timestamp: Mapped[int] = mapped_column(BigInteger)


class LatestMetricRow(Base):
    """The latest point of each metric key per job (highest step, then newest), for search."""

    __tablename__ = "latest_metrics"
    __table_args__ = (Index("ix_latest_metrics_key_value", "key", "value"),)

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)  # NULL is NaN (see store/jobs.py)
    step: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)


class JobInputRow(Base):
    """Lineage edge: a job read a data asset or model version."""

    __tablename__ = "job_inputs"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    version: Mapped[str] = mapped_column(String(64), primary_key=True)


class DataAssetRow(Base):
    __tablename__ = "data_assets"
    __table_args__ = (
        UniqueConstraint("name", "version", name="uq_data_assets_name_version"),
        Index("ix_data_assets_name_hash", "name", "content_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255))
    version: Mapped[str] = mapped_column(String(64))
    version_number: Mapped[int | None]
    type: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[dict[str, Any]]
    content_hash: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    file_count: Mapped[int]
    row_count: Mapped[int | None] = mapped_column(BigInteger)
    data_schema: Mapped[dict[str, Any] | None]
    profile: Mapped[list[Any] | None]
    artifact_path: Mapped[str] = mapped_column(Text)
    source_path: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(255))


class ModelRow(Base):
    __tablename__ = "models"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class ModelVersionRow(Base):
    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_model_versions_name_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(ForeignKey("models.name"), index=True)
    version: Mapped[str] = mapped_column(String(64))
    version_number: Mapped[int | None]
    flavor: Mapped[str] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[dict[str, Any]]
    properties: Mapped[dict[str, Any]]
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    content_hash: Mapped[str] = mapped_column(String(64))
    artifact_path: Mapped[str] = mapped_column(Text)
    signature: Mapped[dict[str, Any] | None]
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"), index=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(255))
    folder_name: Mapped[str | None] = mapped_column(String(255))  # entities/registry/model.py: ModelVersion


class ModelAliasRow(Base):
    __tablename__ = "model_aliases"

    name: Mapped[str] = mapped_column(ForeignKey("models.name"), primary_key=True)
    alias: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class JobOutputRow(Base):
    """A folder or file a job produced, under `jobs/<id>/outputs/<name>`, maybe registered as an asset."""

    __tablename__ = "job_outputs"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    artifact_path: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    asset_kind: Mapped[str | None] = mapped_column(String(16))  # "data" or "model" when registered
    asset_name: Mapped[str | None] = mapped_column(String(255))
    asset_version: Mapped[str | None] = mapped_column(String(64))


class EnvironmentRow(Base):
    __tablename__ = "environments"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_environments_name_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    version: Mapped[str] = mapped_column(String(64))
    version_number: Mapped[int | None]
    spec: Mapped[dict[str, Any]]
    spec_hash: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(255))


class ComponentRow(Base):
    __tablename__ = "components"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_components_name_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    version: Mapped[str] = mapped_column(String(64))
    version_number: Mapped[int | None]
    spec: Mapped[dict[str, Any]]
    # The component's code folder, stored content-addressed so a later edit of the folder changes nothing.
    code_path: Mapped[str | None] = mapped_column(Text)
    code_hash: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(255))


class ComputeRow(Base):
    """A named compute target (`mlyard compute create --type ray --address …`)."""

    __tablename__ = "computes"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    properties: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


# --- team server: keys, audit, settings, promotions, MLflow logged models (schema 0003) ----------


class ApiKeyRow(Base):
    """An API key of this workspace: only a hash of its secret is kept."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(255), index=True)  # the person or service it acts as
    role: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(255))
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class AuditEventRow(Base):
    """Who changed what, when and from where. Append-only: triggers refuse UPDATE and DELETE."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(255), index=True)
    role: Mapped[str | None] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(String(64))
    via: Mapped[str | None] = mapped_column(String(16))
    request_id: Mapped[str | None] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(512))
    summary: Mapped[str] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]


class WorkspaceSettingRow(Base):
    """A workspace-wide rule, e.g. which model aliases are protected by gated promotion."""

    __tablename__ = "workspace_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(255))


class PromotionRequestRow(Base):
    """A request to move a protected alias to a model version, and its decision."""

    __tablename__ = "promotion_requests"
    __table_args__ = (Index("ix_promotion_requests_model", "model_name", "version"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    model_name: Mapped[str] = mapped_column(ForeignKey("models.name"))
    version: Mapped[str] = mapped_column(String(64))
    alias: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), index=True)  # pending | approved | rejected | canceled
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(255))
    requested_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(255))
    decided_at: Mapped[datetime | None]
    decision_comment: Mapped[str | None] = mapped_column(Text)
    previous_version: Mapped[str | None] = mapped_column(String(64))


class CheckReportRow(Base):
    """A staging check's report against the model version it checked (the approval gate's evidence)."""

    __tablename__ = "check_reports"
    __table_args__ = (Index("ix_check_reports_model", "model_name", "model_version", "kind"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # smoke | performance | data_quality | responsible_ai
    model_name: Mapped[str] = mapped_column(ForeignKey("models.name"))
    model_version: Mapped[str] = mapped_column(String(64))
    passed: Mapped[bool] = mapped_column(Boolean)
    summary: Mapped[str] = mapped_column(Text)
    report: Mapped[dict[str, Any]]
    location: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(255))


class LoggedModelRow(Base):
    """A model logged by the MLflow client (`logged-models`), before or without registration."""

    __tablename__ = "logged_models"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    source_run_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    model_type: Mapped[str | None] = mapped_column(String(64))
    params: Mapped[dict[str, Any]]
    tags: Mapped[dict[str, Any]]
    artifact_path: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


# --- endpoints: online and batch (schema 0004) -----------------------------------------------------


class OnlineEndpointRow(Base):
    """A stable scoring URL with its auth and the traffic split over its deployments."""

    __tablename__ = "online_endpoints"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    description: Mapped[str | None] = mapped_column(Text)
    auth_mode: Mapped[str] = mapped_column(String(16))  # key | aml_token
    # Retrievable by operators (`get-credentials`), as Azure ML's endpoint keys are; rotatable.
    primary_key: Mapped[str] = mapped_column(String(128))
    secondary_key: Mapped[str] = mapped_column(String(128))
    token_secret: Mapped[str] = mapped_column(String(128))  # signs aml_token tokens
    traffic: Mapped[dict[str, Any]]  # deployment → percent, summing to 100 (or all 0)
    mirror_traffic: Mapped[dict[str, Any]]  # deployment → percent of live requests copied (≤ 50)
    tags: Mapped[dict[str, Any]]
    properties: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(255))


class OnlineDeploymentRow(Base):
    """One model + environment + scoring code served by `instance_count` instance processes."""

    __tablename__ = "online_deployments"
    __table_args__ = (UniqueConstraint("endpoint_name", "name", name="uq_online_deployments_endpoint_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    endpoint_name: Mapped[str] = mapped_column(ForeignKey("online_endpoints.name"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    model_name: Mapped[str | None] = mapped_column(String(255))
    model_version: Mapped[str | None] = mapped_column(String(64))
    spec: Mapped[dict[str, Any]]  # resolved: environment, code, instance_count, settings, probes, …
    generation: Mapped[int]  # +1 per update: a rolling update replaces older instances
    state: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(255))


class BatchEndpointRow(Base):
    __tablename__ = "batch_endpoints"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    description: Mapped[str | None] = mapped_column(Text)
    default_deployment: Mapped[str | None] = mapped_column(String(64))
    tags: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(255))


class BatchDeploymentRow(Base):
    __tablename__ = "batch_deployments"
    __table_args__ = (UniqueConstraint("endpoint_name", "name", name="uq_batch_deployments_endpoint_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    endpoint_name: Mapped[str] = mapped_column(ForeignKey("batch_endpoints.name"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    model_name: Mapped[str | None] = mapped_column(String(255))
    model_version: Mapped[str | None] = mapped_column(String(64))
    spec: Mapped[dict[str, Any]]  # resolved: environment, code, mini_batch_size, concurrency, output, …
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(255))


# --- events, subscriptions, schedules (schema 0007) ------------------------------------------------


class EventRow(Base):
    """The outbox: one CloudEvent per change, written in the change's own transaction."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_dispatched_seq", "dispatched", "seq"),)

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    # Few indexes: each one is paid by every change's transaction. Listing reads newest first and
    # stops at its limit; the hourly retention purge may scan.
    type: Mapped[str] = mapped_column(String(128))
    subject: Mapped[str | None] = mapped_column(String(512))
    time: Mapped[datetime]
    data: Mapped[dict[str, Any]]
    # How many event triggers led to this event (0: a person or a timer): stops trigger loops.
    depth: Mapped[int] = mapped_column(Integer, default=0)
    # Set once the delivery loop has matched it to subscriptions and event triggers.
    dispatched: Mapped[bool] = mapped_column(Boolean, default=False)


class SubscriptionRow(Base):
    __tablename__ = "event_subscriptions"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    description: Mapped[str | None] = mapped_column(Text)
    types: Mapped[list[Any]]
    filter: Mapped[dict[str, Any]]
    webhook_url: Mapped[str | None] = mapped_column(Text)
    emails: Mapped[list[Any]]
    # [{"secret": "whsec_…", "expires_at": iso or None}]: kept to sign (HMAC needs the secret),
    # never returned after creation; an old one stays valid for a while after a rotation.
    secrets: Mapped[list[Any]]
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(255))


class EventDeliveryRow(Base):
    """One event on its way to one subscription; claimed under a lease while being sent."""

    __tablename__ = "event_deliveries"
    __table_args__ = (Index("ix_event_deliveries_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    event_seq: Mapped[int] = mapped_column(ForeignKey("events.seq"), index=True)
    subscription: Mapped[str] = mapped_column(String(255), index=True)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    history: Mapped[list[Any]]
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class ScheduleRow(Base):
    __tablename__ = "schedules"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[dict[str, Any]]
    trigger: Mapped[dict[str, Any]]
    create_job: Mapped[dict[str, Any]]
    base_dir: Mapped[str] = mapped_column(Text)  # where the job's relative paths start
    kind: Mapped[str] = mapped_column(String(16))  # cron | recurrence | event
    event_type: Mapped[str | None] = mapped_column(String(128), index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_fire_at: Mapped[datetime | None] = mapped_column(index=True)
    last_fired_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(255))


class ScheduleFiringRow(Base):
    """A firing to turn into a job (pending), and then the job it became (done) or why not (failed)."""

    __tablename__ = "schedule_firings"
    __table_args__ = (Index("ix_schedule_firings_state", "state", "fired_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    schedule: Mapped[str] = mapped_column(String(255), index=True)
    reason: Mapped[str] = mapped_column(String(16))
    scheduled_for: Mapped[datetime]
    fired_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))
    lease_until: Mapped[datetime | None]
    event_id: Mapped[str | None] = mapped_column(String(36))
    event: Mapped[dict[str, Any] | None]  # the triggering event, for ${{event.…}} bindings
    depth: Mapped[int] = mapped_column(Integer, default=0)
    job_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)


class MonitorAlertRow(Base):
    """Where one signal of one monitor stands between runs: breached since when (None: not
    breached), by which run, and the last values. Keyed by the monitor's name, so the rule of
    alerting once per breach holds for every caller (a schedule's monitor or `mlyard monitor`)."""

    __tablename__ = "monitor_alerts"

    monitor: Mapped[str] = mapped_column(String(255), primary_key=True)
    signal: Mapped[str] = mapped_column(String(255), primary_key=True)
    signal_type: Mapped[str] = mapped_column(String(64))
    breached_since: Mapped[datetime | None]
    breach_job_id: Mapped[str | None] = mapped_column(String(64))  # the run that first saw the breach
    last_job_id: Mapped[str] = mapped_column(String(64))
    last_values: Mapped[list[Any]]  # the last run's verdicts of this signal, as dicts
    updated_at: Mapped[datetime]


class MonitorRow(Base):
    """A monitor: its checked `create_monitor` spec and what it watches (services/monitors)."""

    __tablename__ = "monitors"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[dict[str, Any]]
    spec: Mapped[dict[str, Any]]
    target_kind: Mapped[str] = mapped_column(String(16))  # online | batch | data
    endpoint: Mapped[str | None] = mapped_column(String(255))
    deployment: Mapped[str | None] = mapped_column(String(255))
    model: Mapped[str | None] = mapped_column(String(512))
    lookback: Mapped[str] = mapped_column(String(64))
    schedule: Mapped[str | None] = mapped_column(String(255))
    base_dir: Mapped[str] = mapped_column(Text)  # where the spec's relative paths start
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(255))


class MonitorResultRow(Base):
    """One metric of one feature of one signal in one monitor run, or that signal's error.
    Kept when the monitor is deleted, as Azure keeps a deleted schedule's jobs."""

    __tablename__ = "monitor_results"
    __table_args__ = (
        Index("ix_monitor_results_series", "monitor", "signal", "feature", "metric", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    monitor: Mapped[str] = mapped_column(String(255))
    job_id: Mapped[str] = mapped_column(String(64), index=True)
    signal: Mapped[str] = mapped_column(String(255))
    signal_type: Mapped[str] = mapped_column(String(64))
    feature: Mapped[str] = mapped_column(String(512))
    metric: Mapped[str] = mapped_column(String(128))
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    breached: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    reference_histogram: Mapped[dict[str, Any] | None]
    production_histogram: Mapped[dict[str, Any] | None]
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    reference: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class EndpointTrafficMinuteRow(Base):
    """What the gateway counted for one deployment in one minute, merged by addition: every flush of
    every server process adds its counts to the minute's one row (services/online/
    endpoint_metrics_history). `deployment` is "" for requests refused before one was chosen."""

    __tablename__ = "endpoint_traffic_minutes"

    endpoint: Mapped[str] = mapped_column(String(255), primary_key=True)
    deployment: Mapped[str] = mapped_column(String(255), primary_key=True)
    minute: Mapped[datetime] = mapped_column(primary_key=True, index=True)  # index: the retention purge
    requests: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    status_counts: Mapped[dict[str, Any]]  # {"200": n, "503": m}
    latency_buckets: Mapped[dict[str, Any]]  # {bucket index: count}, sparse (JSON keys are text)
    mirror_outcomes: Mapped[dict[str, Any]]  # {"200": n, "error": m, "dropped": k}
