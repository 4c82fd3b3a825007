"""Components: versioned, reusable command steps (`mlyard component create --file train.yml`).

Rules that live here: a component's code folder is stored content-addressed with it, so a
registered version never changes when the folder is edited later; registering again follows the one
rule of `versioning.registered_version`, where "identical" means the same spec and code.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlyard.entities.assets.component import Component
from mlyard.entities.assets.component_spec import CommandComponentSpec, load_component
from mlyard.entities.specs.local_files import confine
from mlyard.entities.specs.names import AssetRef, parse_ref, validate_name, validate_version
from mlyard.errors import InvalidSpec, NotFound
from mlyard.services.assets.code_snapshots import code_folder, resolve_code, store_code
from mlyard.services.workspaces import audit
from mlyard.services.workspaces.versioning import (
    AssetKind,
    find_version_row,
    insert_new_version,
    registered_version,
)
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import versions
from mlyard.store.jobs import as_utc
from mlyard.store.tables import ComponentRow

COMPONENT = AssetKind("component", "components", "mlyard component create --file COMPONENT.yml")


@dataclass(frozen=True)
class ComponentRegistration:
    component: Component
    created: bool

    @property
    def message(self) -> str:
        if self.created:
            return f"registered component {self.component.ref}"
        return f"the same spec and code are already registered as {self.component.ref}; no new version"


def create_component(
    workspace: Workspace,
    source: Path | CommandComponentSpec,
    base_dir: Path | None = None,
    name: str | None = None,
    version: str | None = None,
) -> ComponentRegistration:
    """Register a command component from its YAML file (or a spec whose paths are relative to `base_dir`)."""
    if isinstance(source, CommandComponentSpec):
        spec, where = source, "component"
        base_dir = base_dir or Path.cwd()
    else:
        spec, where = load_component(confine(Path(source), "component")), str(source)
        base_dir = Path(source).resolve().parent
    name = validate_name(name or spec.name or "", "component name") if (name or spec.name) else None
    if name is None:
        raise InvalidSpec(f"{where}: name: a registered component needs a name")
    chosen = version or spec.version
    if chosen is not None:
        chosen = validate_version(str(chosen))
    code_dir, digest = resolve_code(spec.code, base_dir, f"{where}: code", spec.additional_includes)
    stored_spec = spec.model_dump(mode="json", exclude_none=True) | {"name": name}
    stored_spec.pop("version", None)
    stored_spec.pop("code", None)
    stored_spec.pop("additional_includes", None)  # copied into the stored code
    spec_hash = _spec_hash(stored_spec, digest)

    def is_same(row: ComponentRow) -> bool:
        return _row_hash(row) == spec_hash

    with workspace.database.read() as session:
        found = registered_version(
            session, ComponentRow, name, chosen, is_same, "component", differs="a different spec or code"
        )
        if found is not None:
            return ComponentRegistration(_to_entity(found), created=False)
    code_path = store_code(workspace, Path(code_dir), digest) if code_dir and digest else None
    now = datetime.now(UTC)

    def work(session: Session) -> tuple[ComponentRow, bool]:
        versions.lock_asset_name(session, "component", name)
        found = registered_version(
            session, ComponentRow, name, chosen, is_same, "component", differs="a different spec or code"
        )
        if found is not None:  # a concurrent registration of the same spec and code won
            return found, False
        number = chosen or str(versions.next_version_number(session, ComponentRow, name))
        row = ComponentRow(
            name=name,
            version=number,
            version_number=versions.numeric_version(number),
            spec=stored_spec | {"spec_hash": spec_hash},
            code_path=code_path,
            code_hash=digest,
            description=spec.description,
            tags=spec.tags,
            created_at=now,
            created_by=audit.current_actor().name,
        )
        session.add(row)
        session.flush()
        audit.record(session, "component.create", "component", f"{name}:{number}",
                     f"registered component {name}:{number}")  # fmt: skip
        return row, True

    row, created = insert_new_version(workspace, work, f"component {name}", chosen)
    return ComponentRegistration(_to_entity(row), created)


def get_component(workspace: Workspace, ref: str | AssetRef) -> Component:
    """`name:version` or `name@latest` (a bare name means latest; `azureml:` is ignored)."""
    parsed = parse_ref(ref) if isinstance(ref, str) else ref
    with workspace.database.read() as session:
        return _to_entity(find_version_row(session, ComponentRow, COMPONENT, parsed))


def list_components(workspace: Workspace, name: str | None = None) -> list[Component]:
    """Every version of `name`, newest first; or the latest version of every component."""
    with workspace.database.read() as session:
        if name is not None:
            rows = session.execute(
                select(ComponentRow).where(ComponentRow.name == name).order_by(ComponentRow.id.desc())
            ).scalars()
            found = [_to_entity(row) for row in rows]
            if not found:
                raise NotFound(f"component {name!r} does not exist")
            return found
        names = session.execute(select(ComponentRow.name).distinct().order_by(ComponentRow.name)).scalars()
        latest = [versions.latest_row(session, ComponentRow, n) for n in list(names)]
        return [_to_entity(row) for row in latest if row is not None]


def component_code_dir(workspace: Workspace, component: Component) -> Path | None:
    """A local folder with the component's stored code (downloaded once when artifacts are remote)."""
    if component.code_path is None or component.code_hash is None:
        return None
    cache = workspace.path / "cache" / "components"
    return code_folder(workspace, component.code_path, component.code_hash, cache)


def _spec_hash(spec: dict[str, object], digest: str | None) -> str:
    canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{canonical}\0{digest or ''}".encode()).hexdigest()


def _row_hash(row: ComponentRow) -> str:
    return str(row.spec.get("spec_hash", ""))


def _to_entity(row: ComponentRow) -> Component:
    spec = {key: value for key, value in row.spec.items() if key != "spec_hash"}
    return Component(
        name=row.name,
        version=row.version,
        spec=CommandComponentSpec.model_validate(spec | {"version": row.version}),
        spec_hash=_row_hash(row),
        code_path=row.code_path,
        code_hash=row.code_hash,
        description=row.description,
        tags=row.tags,
        created_at=as_utc(row.created_at),
        created_by=row.created_by,
    )
