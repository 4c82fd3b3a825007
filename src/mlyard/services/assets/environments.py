"""Environments: versioned, immutable specs, and every way a job may name one.

Rules that live here: registering again follows the one rule of
`versioning.registered_version`, where "identical" means resolving to what the other version
resolves to (same Python version, requirements and image); versions are numbered 1, 2, … when
not given. `resolve_environment` turns what a job or deployment says (`inherit`, `name:version`,
`name@latest`, an Azure ML curated name, an inline spec, a path to a YAML) into the
`ResolvedEnvironment` a build needs.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from mlyard.entities.assets.curated_environments import (
    CATALOG,
    find_curated,
    is_curated_ref,
    resolve_curated,
)
from mlyard.entities.assets.environment import Environment
from mlyard.entities.assets.environment_spec import (
    EnvironmentSpec,
    ResolvedEnvironment,
    inline_files,
    load_environment,
    parse_environment,
    resolve_spec,
)
from mlyard.entities.specs.names import AssetRef, parse_ref, validate_name, validate_version
from mlyard.errors import InvalidSpec, NotFound
from mlyard.services.workspaces import audit
from mlyard.services.workspaces.versioning import (
    AssetKind,
    find_version_row,
    insert_new_version,
    registered_version,
)
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import environments as env_rows
from mlyard.store import versions
from mlyard.store.tables import EnvironmentRow

ENVIRONMENT = AssetKind("environment", "environments", "mlyard environment create --file ENV.yml")

INHERIT = "inherit"  # the interpreter mlyard runs in: no build, for speed in tests and notebooks
EnvironmentRef = str | dict[str, Any] | EnvironmentSpec | None


@dataclass(frozen=True)
class EnvironmentRegistration:
    """The outcome of registering: the environment, and whether a new version was created."""

    environment: Environment
    created: bool

    @property
    def message(self) -> str:
        if self.created:
            return f"registered environment {self.environment.ref}"
        return (
            f"an identical environment is already registered as {self.environment.ref}; "
            "no new version created"
        )


def create_environment(
    workspace: Workspace,
    spec: EnvironmentSpec,
    base_dir: Path | None = None,
    source: str = "environment",
) -> EnvironmentRegistration:
    """Register `spec` (files relative to `base_dir`, default the current folder) as a new version.

    `source` names the spec in errors (the YAML's path when it came from one).
    """
    if spec.name is None:
        raise InvalidSpec(f"{source}: name: required to register an environment (or pass --name)")
    name = validate_name(spec.name, "environment name")
    version = validate_version(spec.version) if spec.version is not None else None
    base = base_dir or Path.cwd()
    resolved = resolve_spec(spec, base, source)
    stored = inline_files(spec, base)

    with workspace.database.read() as session:
        found = registered_version(
            session, EnvironmentRow, name, version, lambda row: env_rows.same_content(row, resolved),
            "environment", differs="a different spec",
        )  # fmt: skip
        existing = env_rows.to_entity(found) if found is not None else None
    if existing is not None:
        return EnvironmentRegistration(existing, created=False)
    return _insert(workspace, name, version, stored, resolved)


def get_environment(workspace: Workspace, ref: str | AssetRef) -> Environment:
    """`name:version` or `name@latest` (a bare name means latest; `azureml:` is ignored)."""
    parsed = parse_ref(ref) if isinstance(ref, str) else ref
    with workspace.database.read() as session:
        return env_rows.to_entity(find_version_row(session, EnvironmentRow, ENVIRONMENT, parsed))


def list_environments(workspace: Workspace, name: str | None = None) -> list[Environment]:
    """All versions of `name` (newest first), or the latest version of every environment."""
    with workspace.database.read() as session:
        rows = env_rows.list_versions(session, name) if name else env_rows.list_latest(session)
        if name and not rows:
            raise NotFound(f"environment {name!r} does not exist")
        return [env_rows.to_entity(row) for row in rows]


def resolve_environment(
    workspace: Workspace,
    ref_or_inline: EnvironmentRef,
    base_dir: Path,
    source: str | None = None,
) -> ResolvedEnvironment | None:
    """What a job's `environment:` means locally; None means mlyard's own interpreter (`inherit`).

    Accepts None or `inherit`; `name:version`, `name@latest` (with or without `azureml:`);
    Azure ML curated references (`AzureML-sklearn-1.0-…@latest`,
    `azureml://registries/azureml/environments/sklearn-1.5/labels/latest`); an inline spec mapping;
    or the path of an environment YAML (relative to `base_dir`).
    """
    where = source or "environment"
    if ref_or_inline is None:
        return None
    if isinstance(ref_or_inline, EnvironmentSpec):
        return resolve_spec(ref_or_inline, base_dir, where)
    if isinstance(ref_or_inline, dict):
        return resolve_spec(parse_environment(ref_or_inline, where), base_dir, where)
    text = ref_or_inline.strip()
    if text.lower() == INHERIT:
        return None
    if is_curated_ref(text):
        return resolve_curated(text)
    if text.endswith((".yml", ".yaml")):
        path = Path(text).expanduser()
        path = path if path.is_absolute() else base_dir / path
        return resolve_spec(load_environment(path), path.parent, str(path))
    parsed = parse_ref(text)
    with workspace.database.read() as session:
        registered = versions.latest_row(session, EnvironmentRow, parsed.name) is not None
    if registered:
        return get_environment(workspace, parsed).resolved
    if find_curated(parsed.name) is not None:
        return resolve_curated(parsed.name)
    with workspace.database.read() as session:
        raise NotFound(_unknown_environment(parsed.name, env_rows.names(session)))


def _unknown_environment(name: str, registered: list[str]) -> str:
    close = difflib.get_close_matches(name, [*registered, *CATALOG], n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else "."
    return (
        f"environment {name!r} is not registered in this workspace, nor an Azure ML curated environment "
        f"in mlyard's catalog{hint} Register it with: mlyard environment create --file ENV.yml "
        f"(curated families known: {', '.join(CATALOG)})"
    )


def _insert(
    workspace: Workspace,
    name: str,
    version: str | None,
    spec: EnvironmentSpec,
    resolved: ResolvedEnvironment,
) -> EnvironmentRegistration:
    now = datetime.now(UTC)

    def work(session: Session) -> EnvironmentRegistration:
        versions.lock_asset_name(session, "environment", name)
        same = registered_version(
            session, EnvironmentRow, name, version, lambda row: env_rows.same_content(row, resolved),
            "environment", differs="a different spec",
        )  # fmt: skip
        if same is not None:  # a concurrent registration of the same spec won
            return EnvironmentRegistration(env_rows.to_entity(same), created=False)
        chosen = version or str(versions.next_version_number(session, EnvironmentRow, name))
        row = EnvironmentRow(
            name=name,
            version=chosen,
            version_number=versions.numeric_version(chosen),
            spec={
                "spec": spec.model_copy(update={"name": name, "version": chosen}).model_dump(
                    mode="json", exclude_none=True, exclude_defaults=True
                ),
                "resolved": resolved.model_dump(mode="json"),
            },
            spec_hash=resolved.spec_hash,
            description=spec.description,
            tags=spec.tags,
            created_at=now,
            created_by=audit.current_actor().name,
        )
        session.add(row)
        session.flush()
        audit.record(
            session, "environment.create", "environment", f"{name}:{chosen}",
            f"registered environment {name}:{chosen}", after={"spec_hash": resolved.spec_hash},
        )  # fmt: skip
        return EnvironmentRegistration(env_rows.to_entity(row), created=True)

    return insert_new_version(workspace, work, f"environment {name}", version)
