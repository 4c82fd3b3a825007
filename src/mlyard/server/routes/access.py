"""API keys (admin), the audit trail, workspace settings, and who the caller is."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from mlyard.entities.governance.access import ANONYMOUS, Role
from mlyard.errors import Unauthenticated
from mlyard.server.auth import AdminWorkspace, Authenticator, ReaderWorkspace, bearer_token
from mlyard.server.schemas.access import (
    AuditEventList,
    CreatedKey,
    CreateKeyRequest,
    KeyList,
    SettingsUpdate,
    WhoAmI,
)
from mlyard.server.workspaces import ServedWorkspaces
from mlyard.services.workspaces import audit, keys, settings

router = APIRouter(prefix="/api/v1/workspaces/{ws}")


@router.post("/keys", response_model=CreatedKey, status_code=status.HTTP_201_CREATED, tags=["access"])
def create_key(workspace: AdminWorkspace, body: CreateKeyRequest) -> CreatedKey:
    """A new API key; its secret (`token`) is in this answer only."""
    created = keys.create_key(
        workspace, body.owner, body.role, body.description, body.expires_in_days, body.token
    )
    return CreatedKey(key=created.key, token=created.token)


@router.get("/keys", response_model=KeyList, tags=["access"])
def list_keys(workspace: AdminWorkspace) -> KeyList:
    return KeyList(value=keys.list_keys(workspace))


@router.delete(
    "/keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, tags=["access"]
)
def revoke_key(workspace: AdminWorkspace, key_id: str) -> Response:
    """Revoke a key: requests with it are refused within seconds."""
    keys.revoke_key(workspace, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/audit", response_model=AuditEventList, tags=["access"])
def list_audit_events(
    workspace: ReaderWorkspace,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
    entity_type: Annotated[str | None, Query(description="job, data, model, environment, api_key, …")] = None,
    entity_id: Annotated[str | None, Query(description="e.g. diabetes-ridge or diabetes:3")] = None,
    action: Annotated[list[str] | None, Query(description="repeatable, e.g. model.alias.set")] = None,
    limit: Annotated[int, Query(ge=1, le=audit.MAX_LISTED)] = 100,
) -> AuditEventList:
    """Changes newest first: who, with which role, from where, what before and after."""
    events = audit.list_events(workspace, since, until, actor, entity_type, entity_id, action or (), limit)
    return AuditEventList(value=events)


@router.get("/settings", response_model=settings.WorkspaceSettings, tags=["access"])
def get_settings(workspace: ReaderWorkspace) -> settings.WorkspaceSettings:
    return settings.get_settings(workspace)


@router.patch("/settings", response_model=settings.WorkspaceSettings, tags=["access"])
def update_settings(workspace: AdminWorkspace, body: SettingsUpdate) -> settings.WorkspaceSettings:
    return settings.update_settings(workspace, **body.model_dump(exclude_none=True))


whoami_router = APIRouter()


@whoami_router.get("/api/v1/whoami", response_model=WhoAmI, tags=["access"])
def whoami(request: Request) -> WhoAmI:
    """Which workspace the caller's key belongs to, as whom and with which role."""
    workspaces: ServedWorkspaces = request.app.state.workspaces
    authenticator: Authenticator = request.app.state.authenticator
    token = bearer_token(request)
    names = workspaces.names()
    if token is not None:
        for name in names:
            if authenticator.is_enabled(name, recheck=True):  # the key may be its first, just made
                key = keys.verify_key(workspaces.open(name), token)
                if key is not None:
                    return WhoAmI(
                        workspace=name, owner=key.owner, role=key.role, key_id=key.id, authentication=True
                    )
        raise Unauthenticated("the API key is not valid in any workspace this server serves")
    open_names = [name for name in names if not authenticator.is_enabled(name)]
    if not open_names:
        raise Unauthenticated("this server needs an API key: send 'Authorization: Bearer <key>'")
    only = open_names[0] if len(open_names) == 1 else None
    return WhoAmI(workspace=only, owner=ANONYMOUS, role=Role.ADMIN, authentication=False)
