"""Workspace settings: the rules a workspace's admins choose.

protected_aliases          model aliases that move only through an approved promotion request
                           (default: production)
allow_self_approval        whether the requester of a promotion may approve it (default: no)
max_job_nesting_depth      how deep jobs submitted from inside jobs may nest (default: 8; 0 refuses
                           every submission from inside a job; see submission/job_nesting)
strict_specs               whether an unknown field in a YAML spec is refused instead of warned
                           about and ignored, as `--strict` does for one command (default: no)
event_retention_days       events (and their deliveries) older than this are removed (30)
event_delivery_attempts    attempts per delivery before it is dead-lettered (8)
event_retry_base_seconds   the first retry's delay; each next one doubles, up to an hour (5)
webhook_allow_link_local   allow webhooks to link-local and cloud-metadata addresses (no: SSRF)
smtp_host, smtp_port       the SMTP server email subscriptions send through (none: no email)
smtp_from, smtp_starttls   the sender address; STARTTLS before sending
require_passing_checks     staging checks (smoke, performance, data_quality, responsible_ai) a
                           model version must have passed, after its promotion was requested,
                           before a protected alias may be approved to it (default: none;
                           see model_registry/check_reports)
endpoint_metrics_retention_days  the gateway's per-minute counts of online deployments older than
                           this are removed by the server that flushes them (30)
trigger_max_depth          how many event triggers may chain (a job a trigger created emitting
                           the event of another trigger…) before the next one is refused (3)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from mlyard.entities.governance.validation import CheckKind
from mlyard.entities.specs.names import validate_alias
from mlyard.errors import InvalidArgument
from mlyard.services.workspaces import audit
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import access as rows


class WorkspaceSettings(BaseModel):
    model_config = {"extra": "forbid"}

    protected_aliases: list[str] = Field(default_factory=lambda: ["production"])
    allow_self_approval: bool = False
    max_job_nesting_depth: int = Field(default=8, ge=0)
    strict_specs: bool = False
    event_retention_days: int = Field(default=30, ge=1, le=3650)
    event_delivery_attempts: int = Field(default=8, ge=1, le=50)
    event_retry_base_seconds: float = Field(default=5.0, gt=0, le=3600)
    webhook_allow_link_local: bool = False
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "mlyard@localhost"
    smtp_starttls: bool = False
    trigger_max_depth: int = Field(default=3, ge=1, le=100)
    endpoint_metrics_retention_days: int = Field(default=30, ge=1, le=3650)
    require_passing_checks: list[CheckKind] = Field(default_factory=list)

    @field_validator("require_passing_checks", mode="before")
    @classmethod
    def _check_names(cls, value: Any) -> Any:
        # `data-quality` as the CLI spells the check; duplicates once.
        if isinstance(value, list):
            return list(
                dict.fromkeys(v.strip().replace("-", "_") if isinstance(v, str) else v for v in value)
            )
        return value


def get_settings(workspace: Workspace) -> WorkspaceSettings:
    with workspace.database.read() as session:
        stored = rows.get_settings(session)
    return WorkspaceSettings.model_validate(stored)


def update_settings(workspace: Workspace, **changes: Any) -> WorkspaceSettings:
    """Change some settings (admin); unknown names and wrong types are refused, naming the field."""
    current = get_settings(workspace)
    try:
        updated = WorkspaceSettings.model_validate({**current.model_dump(), **changes})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: "
            f"{'unknown setting' if error['type'] == 'extra_forbidden' else error['msg']}"
            for error in exc.errors()
        )
        known = ", ".join(WorkspaceSettings.model_fields)
        raise InvalidArgument(f"invalid workspace settings: {problems} (settings: {known})") from None
    for alias in updated.protected_aliases:
        validate_alias(alias)
    before, after = current.model_dump(), updated.model_dump()
    changed = {key: after[key] for key in after if after[key] != before[key]}
    if not changed:
        return updated
    now = datetime.now(UTC)
    actor = audit.current_actor().name

    def work(session: Any) -> None:
        for key, value in changed.items():
            rows.put_setting(session, key, value, now, actor)
        audit.record(
            session, "workspace.settings.update", "workspace", workspace.name,
            "settings changed: " + ", ".join(f"{k}={v}" for k, v in changed.items()),
            before={k: before[k] for k in changed}, after=changed,
        )  # fmt: skip

    workspace.database.write(work)
    return updated
