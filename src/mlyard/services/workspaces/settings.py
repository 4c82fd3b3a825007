"""Workspace settings: the rules a workspace's admins choose (gated promotion, job nesting).

protected_aliases    model aliases that move only through an approved promotion request
                     (default: production)
allow_self_approval  whether the requester of a promotion may approve it (default: no)
max_job_nesting_depth  how deep jobs submitted from inside jobs may nest (default: 8; 0 refuses
                     every submission from inside a job; see services/job_nesting)
strict_specs         whether an unknown field in a YAML spec is refused instead of warned about
                     and ignored, as `--strict` does for one command (default: no; see
                     entities/spec_warnings)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from mlyard.entities.names import validate_alias
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
