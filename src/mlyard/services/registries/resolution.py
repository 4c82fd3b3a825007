"""The one rule for `azureml://registries/<registry>/...` references, used by job submission,
online and batch deployments and the SDK alike.

Environments resolve to the registry version's resolved spec (a job stores the spec, so nothing
is copied). Models, data and components are *materialised*: the registry version's files are registered in
the workspace under the same name, with the pinned registry reference in their lineage
(`mlyard.registry.reference` = `azureml://registries/R/models/m/versions/3`, plus the source
workspace and job the registry version records; a component's stored code is copied with its
spec). The job or deployment then pins that workspace
version as it pins any other, so runners and scoring never reach into the registry, the
workspace's own rules (aliases, protected aliases and their approvers) apply to it, and lineage
shows both hops. Resolving again finds the same workspace version (the re-registration rule).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from mlyard.entities.assets.builtin_components import builtin_as_component, is_builtin_ref
from mlyard.entities.assets.component import Component
from mlyard.entities.assets.environment_spec import ResolvedEnvironment
from mlyard.entities.governance.access import Role
from mlyard.entities.registry.data import DataAsset
from mlyard.entities.registry.model import ModelVersion
from mlyard.entities.specs.names import parse_ref
from mlyard.errors import NotFound
from mlyard.services.assets.components import component_code_dir, create_component, get_component
from mlyard.services.assets.environments import get_environment
from mlyard.services.data_assets import data as data_assets
from mlyard.services.model_registry import models
from mlyard.services.registries.access import check_registry_role
from mlyard.services.registries.references import RegistryRef, is_store_ref, parse_registry_ref
from mlyard.services.registries.registries import open_registry
from mlyard.services.workspaces.workspace import Workspace

PROP_REFERENCE = "mlyard.registry.reference"


def open_for(workspace: Workspace, ref: RegistryRef, needed: Role = Role.READER) -> Workspace:
    """The registry `ref` names, as reached from `workspace`, once the caller may read it."""
    try:
        registry = open_registry(ref.registry, workspace)
    except NotFound as exc:
        raise NotFound(f"{ref}: {exc.message}") from None
    check_registry_role(registry, ref.registry, needed, str(ref))
    return registry


def _missing(ref: RegistryRef, exc: NotFound) -> NotFound:
    return NotFound(
        f"{ref}: {exc.message.split(';')[0]} in registry {ref.registry!r}; list them with: "
        f"mlyard {ref.what} list --registry-name {ref.registry}"
    )


def registry_model(workspace: Workspace, text: str) -> tuple[RegistryRef, Workspace, ModelVersion]:
    """The registry's model version a reference names (not copied)."""
    ref = parse_registry_ref(text, "models")
    registry = open_for(workspace, ref)
    try:
        return ref, registry, models.get_model_version(registry, ref.asset_ref)
    except NotFound as exc:
        raise _missing(ref, exc) from None


def resolve_model(workspace: Workspace, text: str) -> ModelVersion:
    """The workspace version standing for a registry model version (materialised on first use)."""
    ref, registry, source = registry_model(workspace, text)
    properties = {**source.properties, PROP_REFERENCE: str(ref.pinned(source.version))}
    with tempfile.TemporaryDirectory(prefix="mlyard-registry-") as staging:
        folder = Path(staging) / (source.folder_name or "model")
        registry.artifacts.download(source.artifact_path, folder)
        return models.register_model_copy(
            workspace, source.name, folder, None, source.description, source.tags, properties,
            source.folder_name,
        )  # fmt: skip


def resolve_environment(workspace: Workspace, text: str) -> ResolvedEnvironment:
    """The resolved spec of a registry environment version."""
    ref = parse_registry_ref(text, "environments")
    registry = open_for(workspace, ref)
    try:
        return get_environment(registry, ref.asset_ref).resolved
    except NotFound as exc:
        raise _missing(ref, exc) from None


def resolve_data(workspace: Workspace, text: str) -> DataAsset:
    """The workspace version standing for a registry data asset version (materialised on first use)."""
    ref = parse_registry_ref(text, "data")
    registry = open_for(workspace, ref)
    try:
        source = data_assets.get_data_asset(registry, ref.asset_ref)
    except NotFound as exc:
        raise _missing(ref, exc) from None
    with tempfile.TemporaryDirectory(prefix="mlyard-registry-") as staging:
        path = data_assets.local_path(registry, source, Path(staging))
        tags = {**source.tags, PROP_REFERENCE: str(ref.pinned(source.version))}
        return data_assets.create_data_asset(
            workspace, source.name, path, source.type, None, source.description, tags
        ).asset


def find_model(workspace: Workspace, given: str) -> ModelVersion:
    """A deployment's or job's `model:` — a workspace reference (`azureml:m:3`, `m@production`)
    or a registry one — as the workspace version it pins."""
    if is_store_ref(given):
        return resolve_model(workspace, given)
    return models.get_model_version(workspace, parse_ref(given))


def find_data(workspace: Workspace, given: str) -> DataAsset:
    """A job input's data asset — workspace or registry reference — as a workspace version."""
    if is_store_ref(given):
        return resolve_data(workspace, given)
    return data_assets.get_data_asset(workspace, parse_ref(given))


def registry_component(workspace: Workspace, text: str) -> tuple[RegistryRef, Workspace, Component]:
    """The registry's component version a reference names (not copied)."""
    ref = parse_registry_ref(text, "components")
    registry = open_for(workspace, ref)
    try:
        return ref, registry, get_component(registry, ref.asset_ref)
    except NotFound as exc:
        raise _missing(ref, exc) from None


def resolve_component(workspace: Workspace, text: str) -> Component:
    """The workspace version standing for a registry component version: its spec and stored code
    registered in the workspace (materialised on first use, found again afterwards)."""
    ref, registry, source = registry_component(workspace, text)
    code = component_code_dir(registry, source)
    tags = {**source.spec.tags, PROP_REFERENCE: str(ref.pinned(source.version))}
    spec = source.spec.model_copy(update={"version": None, "code": str(code) if code else None, "tags": tags})
    return create_component(workspace, spec, base_dir=code or workspace.path).component


def find_component(workspace: Workspace, given: str) -> Component:
    """A component as `show` reads it: a built-in of the `mlyard` catalog, a registry's version
    (read where it is, not copied) or a workspace's `name:version` / `name@latest`."""
    if is_builtin_ref(given):
        return builtin_as_component(given)
    if is_store_ref(given):
        return registry_component(workspace, given)[2]
    return get_component(workspace, given)
