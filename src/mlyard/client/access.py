"""`client.keys`, `client.audit`, `client.settings`: who may do what, and who did what."""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any

from mlyard.entities.governance.access import ApiKey, AuditEvent, Role
from mlyard.services.workspaces import audit, keys, settings
from mlyard.services.workspaces.keys import CreatedKey
from mlyard.services.workspaces.settings import WorkspaceSettings
from mlyard.services.workspaces.workspace import Workspace


class KeyOperations(ABC):
    @abstractmethod
    def create(
        self,
        owner: str,
        role: str | Role,
        description: str | None = None,
        expires_in_days: float | None = None,
        token: str | None = None,
    ) -> CreatedKey:
        """A new API key acting as `owner`; `created.token` is the only copy of its secret.
        `token`: an existing key given a role here too (one key, a role per workspace/registry)."""

    @abstractmethod
    def list(self) -> builtins.list[ApiKey]: ...

    @abstractmethod
    def revoke(self, key_id: str) -> None: ...


class AuditOperations(ABC):
    @abstractmethod
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
        """Changes newest first: who, with which role, from where, what before and after."""


class SettingsOperations(ABC):
    @abstractmethod
    def get(self) -> WorkspaceSettings: ...

    @abstractmethod
    def update(self, **changes: Any) -> WorkspaceSettings:
        """e.g. `update(protected_aliases=["production", "staging"], allow_self_approval=False)`."""


class LocalKeyOperations(KeyOperations):
    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    def create(
        self,
        owner: str,
        role: str | Role,
        description: str | None = None,
        expires_in_days: float | None = None,
        token: str | None = None,
    ) -> CreatedKey:
        return keys.create_key(self._workspace, owner, role, description, expires_in_days, token)

    def list(self) -> builtins.list[ApiKey]:
        return keys.list_keys(self._workspace)

    def revoke(self, key_id: str) -> None:
        keys.revoke_key(self._workspace, key_id)


class LocalAuditOperations(AuditOperations):
    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

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
        return audit.list_events(
            self._workspace, since, until, actor, entity_type, entity_id, actions or (), limit
        )


class LocalSettingsOperations(SettingsOperations):
    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    def get(self) -> WorkspaceSettings:
        return settings.get_settings(self._workspace)

    def update(self, **changes: Any) -> WorkspaceSettings:
        return settings.update_settings(self._workspace, **changes)
