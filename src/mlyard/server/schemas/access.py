"""Bodies of the access routes: API keys, the audit trail, workspace settings, promotions, check reports."""

from __future__ import annotations

from pydantic import BaseModel, Field

from mlyard.entities.governance.access import ApiKey, AuditEvent, Role
from mlyard.entities.governance.validation import CheckRecord, CheckReport
from mlyard.entities.registry.promotion import PromotionRequest
from mlyard.server.schemas.common import Request


class CreateKeyRequest(Request):
    owner: str = Field(description="the user or service the key acts as; audit events name it")
    role: Role
    description: str | None = Field(default=None, max_length=2000)
    expires_in_days: float | None = Field(default=None, gt=0, le=3650)
    token: str | None = Field(default=None, description="an existing key given a role here too")


class CreatedKey(BaseModel):
    key: ApiKey
    token: str = Field(description="the secret, shown this once; send it as 'Authorization: Bearer <token>'")


class KeyList(BaseModel):
    value: list[ApiKey]


class AuditEventList(BaseModel):
    value: list[AuditEvent]


class WhoAmI(BaseModel):
    workspace: str | None = Field(description="the workspace the key belongs to; None without authentication")
    owner: str
    role: Role
    key_id: str | None = None
    authentication: bool


class SettingsUpdate(Request):
    protected_aliases: list[str] | None = None
    allow_self_approval: bool | None = None
    max_job_nesting_depth: int | None = None
    strict_specs: bool | None = None
    event_retention_days: int | None = None
    event_delivery_attempts: int | None = None
    event_retry_base_seconds: float | None = None
    webhook_allow_link_local: bool | None = None
    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_from: str | None = None
    smtp_starttls: bool | None = None
    trigger_max_depth: int | None = None
    require_passing_checks: list[str] | None = None
    endpoint_metrics_retention_days: int | None = None


class PromotionCreate(Request):
    version: str
    alias: str = "production"
    reason: str = Field(description="why this version should be promoted; shown to the approver")


class PromotionDecision(Request):
    comment: str | None = Field(default=None, max_length=4000)


class PromotionRejection(Request):
    reason: str = Field(max_length=4000)


class PromotionList(BaseModel):
    value: list[PromotionRequest]


class CheckReportCreate(Request):
    report: CheckReport
    location: str | None = Field(default=None, max_length=2000)
    job_id: str | None = Field(default=None, max_length=64)


class CheckReportList(BaseModel):
    value: list[CheckRecord]
