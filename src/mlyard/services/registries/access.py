"""Roles per registry: a caller reaches a registry with the role its API key holds *there*.

A registry keeps its own keys (the workspace keys machinery, in its own store); one key may hold
a role in a workspace and another in a registry (`mlyard key create --registry-name R --token KEY`).
Reader resolves and reads, contributor creates and shares, admin manages keys. A local process
holds the files and acts as their owner; a registry without keys is open, as a keyless workspace is.
"""

from __future__ import annotations

from mlyard.entities.governance.access import Role
from mlyard.errors import PermissionDenied
from mlyard.services.workspaces import audit, keys
from mlyard.services.workspaces.workspace import Workspace


def check_registry_role(registry: Workspace, name: str, needed: Role, reference: str) -> None:
    """PermissionDenied naming `reference` and the registry unless the caller holds `needed` there."""
    actor = audit.current_actor()
    if actor.key_id is None or not keys.has_keys(registry):
        return
    token = keys.presented_key()
    key = keys.verify_key(registry, token) if token else None
    if key is None:
        raise PermissionDenied(
            f"{reference}: {actor.name}'s API key has no role in registry {name!r}; a registry admin "
            f"grants one with: mlyard key create --registry-name {name} --owner {actor.name} "
            f"--role {needed.value} --token <the key>"
        )
    if not key.role.allows(needed):
        raise PermissionDenied(
            f"{reference}: {actor.name} has role {key.role.value} in registry {name!r}; this needs "
            f"{needed.value} or above"
        )
