"""`client.keys`, `client.audit`, `client.settings` over a team server."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any
from urllib.parse import quote

from mlyard.client.access import AuditOperations, KeyOperations, SettingsOperations
from mlyard.client.remote.session import RemoteSession
from mlyard.entities.governance.access import ApiKey, AuditEvent, Role
from mlyard.services.workspaces.keys import CreatedKey
from mlyard.services.workspaces.settings import WorkspaceSettings


class RemoteKeyOperations(KeyOperations):
    def __init__(self, session: RemoteSession) -> None:
        self._session = session

    def create(
        self,
        owner: str,
        role: str | Role,
        description: str | None = None,
        expires_in_days: float | None = None,
        token: str | None = None,
    ) -> CreatedKey:
        body = {
            "owner": owner,
            "role": str(role),
            "description": description,
            "expires_in_days": expires_in_days,
            "token": token,
        }
        found = self._session.post_json("keys", body)
        return CreatedKey(ApiKey.model_validate(found["key"]), str(found["token"]))

    def list(self) -> builtins.list[ApiKey]:
        return [ApiKey.model_validate(item) for item in self._session.get_json("keys")["value"]]

    def revoke(self, key_id: str) -> None:
        self._session.request("DELETE", f"keys/{quote(key_id, safe='')}")


class RemoteAuditOperations(AuditOperations):
    def __init__(self, session: RemoteSession) -> None:
        self._session = session

    def list(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        actor: str | None = None,
        entity_type: str | None = None,
        entity_id: str | None = None,
        actions: builtins.list[str] | None = None,
        limit: int = 100,
    ) -> builtins.list[AuditEvent]:
        found = self._session.get_json(
            "audit", since=since.isoformat() if since else None, until=until.isoformat() if until else None,
            actor=actor, entity_type=entity_type, entity_id=entity_id, action=actions or None, limit=limit,
        )  # fmt: skip
        return [AuditEvent.model_validate(item) for item in found["value"]]


class RemoteSettingsOperations(SettingsOperations):
    def __init__(self, session: RemoteSession) -> None:
        self._session = session

    def get(self) -> WorkspaceSettings:
        return WorkspaceSettings.model_validate(self._session.get_json("settings"))

    def update(self, **changes: Any) -> WorkspaceSettings:
        response = self._session.request("PATCH", "settings", json=changes)
        return WorkspaceSettings.model_validate(response.json())
