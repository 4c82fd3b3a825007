"""The model registry: versions, aliases and archiving (lineage and comparison: model_comparison.py).

Rules that live here: versions are immutable and numbered per name; registering again follows the
one rule of `versioning.registered_version`, where "identical" means the same files, flavor and
signature (the folder's content hash) and the same lineage (producing job and properties): the same
bytes logged by another run are a new version; an alias points at one existing, non-archived
version; a version behind an alias cannot be archived; a registration that fails leaves neither
files nor rows behind; errors name the user's own path, never the temporary copy.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlyard.artifacts import hash_path
from mlyard.entities.automation import event as events
from mlyard.entities.registry.model import (
    MODEL_METADATA_FILE,
    MODEL_TYPE_TO_FLAVOR,
    Model,
    ModelMetadata,
    ModelRegistration,
    ModelVersion,
)
from mlyard.entities.specs.local_files import shown_as
from mlyard.entities.specs.names import (
    AssetRef,
    parse_ref,
    validate_alias,
    validate_name,
    validate_version,
)
from mlyard.errors import AlreadyExists, Conflict, NotFound, PermissionDenied
from mlyard.flavors import get_flavor
from mlyard.flavors.metadata import read_metadata, write_metadata
from mlyard.flavors.signature import infer_signature
from mlyard.services.events.job_events import depth_of_job
from mlyard.services.events.outbox import emit
from mlyard.services.tracking import jobs as job_service
from mlyard.services.workspaces import audit
from mlyard.services.workspaces.downloads import download_version
from mlyard.services.workspaces.settings import get_settings
from mlyard.services.workspaces.versioning import (
    AssetKind,
    find_version_row,
    insert_new_version,
    registered_version,
)
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import models as model_rows
from mlyard.store import versions
from mlyard.store.tables import ModelVersionRow

MODEL = AssetKind(
    "model",
    "models",
    "mlyard model create --name {name} --path ...",
    alias_hint="mlyard model alias set {name} {alias} --version N",
)


def flavor_for_type(model_type: str) -> str:
    """`--type` accepts Azure ML asset types (custom_model, mlflow_model) and flavor names."""
    return MODEL_TYPE_TO_FLAVOR.get(model_type, model_type)


def register_model_folder(
    workspace: Workspace,
    name: str,
    path: str | Path,
    flavor: str = "custom",
    version: str | None = None,
    description: str | None = None,
    tags: dict[str, str] | None = None,
    properties: dict[str, str] | None = None,
    job_id: str | None = None,
) -> ModelRegistration:
    """Register a model folder (or single file) that already exists on disk."""
    validate_name(name, "model name")
    if version is not None:
        version = validate_version(str(version))
    flavor_impl = get_flavor(flavor_for_type(flavor))
    source = Path(path).expanduser()
    if not source.exists():
        raise NotFound(f"model path {source} does not exist")
    flavor_impl.can_register_folder(source)  # checked where the user put it: errors name their path
    with tempfile.TemporaryDirectory(prefix="mlyard-model-") as staging_dir:
        staging = Path(staging_dir) / "model"
        with shown_as(staging, str(source if source.is_dir() else source.parent)):
            if source.is_dir():
                shutil.copytree(source, staging)
            else:
                staging.mkdir()
                shutil.copy2(source, staging / source.name)
            metadata_file = staging / MODEL_METADATA_FILE
            if metadata_file.exists():
                metadata = read_metadata(staging)
            else:
                # No timestamp in the folder: the version's row records when; identical files
                # then hash alike, so registering them again finds the existing version.
                metadata = ModelMetadata(
                    flavor=flavor_impl.name,
                    model_file=source.name if source.is_file() else None,
                    framework_versions=flavor_impl.framework_versions(),
                )
                write_metadata(staging, metadata)
            folder_name = source.resolve().name if source.is_dir() else None
            return _register_staged(
                workspace, name, staging, metadata, version, description, tags, properties, job_id,
                folder_name,
            )  # fmt: skip


def save_and_register_model(
    workspace: Workspace,
    model: Any,
    name: str,
    flavor: str,
    input_example: Any = None,
    description: str | None = None,
    tags: dict[str, str] | None = None,
    properties: dict[str, str] | None = None,
    job_id: str | None = None,
) -> ModelRegistration:
    """Save a model object with its flavor, infer its signature, and register a new version."""
    validate_name(name, "model name")
    with tempfile.TemporaryDirectory(prefix="mlyard-model-") as staging_dir:
        staging = Path(staging_dir) / "model"
        staging.mkdir()
        metadata = save_model_folder(model, staging, flavor, input_example)
        return _register_staged(
            workspace, name, staging, metadata, None, description, tags, properties, job_id
        )


def save_model_folder(model: Any, folder: Path, flavor: str, input_example: Any = None) -> ModelMetadata:
    """Write a model object and its metadata file into `folder`."""
    flavor_impl = get_flavor(flavor)
    model_file = flavor_impl.save(model, folder)
    metadata = ModelMetadata(
        flavor=flavor_impl.name,
        model_file=model_file,
        signature=infer_signature(input_example),
        framework_versions=flavor_impl.framework_versions(),
    )
    write_metadata(folder, metadata)
    return metadata


def register_model_copy(
    workspace: Workspace,
    name: str,
    folder: Path,
    version: str | None = None,
    description: str | None = None,
    tags: dict[str, str] | None = None,
    properties: dict[str, str] | None = None,
    folder_name: str | None = None,
) -> ModelRegistration:
    """Register the files of a version copied from another store (a registry or a workspace):
    its metadata file is kept as it is, so the content hash — and the re-registration rule — match
    the original's. Lineage travels in `properties` (the producing job lives in the other store)."""
    validate_name(name, "model name")
    if version is not None:
        version = validate_version(str(version))
    return _register_staged(
        workspace, name, folder, read_metadata(folder), version, description, tags, properties, None,
        folder_name,
    )  # fmt: skip


def _register_staged(
    workspace: Workspace,
    name: str,
    staging: Path,
    metadata: ModelMetadata,
    version: str | None,
    description: str | None,
    tags: dict[str, str] | None,
    properties: dict[str, str] | None,
    job_id: str | None,
    folder_name: str | None = None,
) -> ModelRegistration:
    tags = {str(k): str(v) for k, v in (tags or {}).items()}
    properties = {str(k): str(v) for k, v in (properties or {}).items()}
    if job_id is not None:
        job_service.get_job(workspace, job_id)  # NotFound before anything is written
    digest = hash_path(staging)

    def is_same(row: ModelVersionRow) -> bool:
        # The folder's name is part of what a scoring script sees (`$AZUREML_MODEL_DIR/<name>/`).
        return (
            row.content_hash == digest.sha256
            and row.job_id == job_id
            and row.properties == properties
            and row.folder_name == folder_name
        )

    with workspace.database.read() as session:
        found = registered_version(
            session, ModelVersionRow, name, version, is_same, "model", "different content or lineage"
        )
        twin = _same_files(session, name, digest.sha256)
    if found is not None:
        return _registration(workspace, found, created=False)
    # Identical files registered before (another run's, or an explicit new version) are shared;
    # otherwise a unique folder per registration: concurrent registrations never share files.
    artifact_path = twin.artifact_path if twin is not None else f"models/{name}/{uuid.uuid4().hex}"
    if twin is None:
        workspace.artifacts.put_dir(staging, artifact_path)
    now = datetime.now(UTC)

    def work(session: Session) -> tuple[ModelVersionRow, bool]:
        versions.lock_asset_name(session, "model", name)
        model_rows.ensure_model(session, name, now)
        same = registered_version(
            session, ModelVersionRow, name, version, is_same, "model", "different content or lineage"
        )
        if same is not None:  # a concurrent registration of the same model won
            return same, False
        chosen = version or str(versions.next_version_number(session, ModelVersionRow, name))
        row = ModelVersionRow(
            name=name,
            version=chosen,
            version_number=versions.numeric_version(chosen),
            flavor=metadata.flavor,
            description=description,
            tags=tags,
            properties=properties,
            archived=False,
            content_hash=digest.sha256,
            artifact_path=artifact_path,
            signature=metadata.signature.model_dump(mode="json") if metadata.signature else None,
            job_id=job_id,
            created_at=now,
            created_by=audit.current_actor().name,
            folder_name=folder_name,
        )
        session.add(row)
        session.flush()
        audit.record(
            session, "model.register", "model", f"{name}:{chosen}",
            f"registered model {name}:{chosen} ({metadata.flavor})"
            + (f" from job {job_id}" if job_id else ""),
            after={"flavor": metadata.flavor, "content_hash": digest.sha256, "job_id": job_id},
        )  # fmt: skip
        emit(
            session, events.MODEL_REGISTERED, f"models/{name}:{chosen}",
            {"ModelName": name, "ModelVersion": chosen, "ModelTags": tags, "ModelProperties": properties,
             "JobId": job_id},
            depth_of_job(session, job_id),
        )  # fmt: skip
        return row, True

    try:
        row, created = insert_new_version(workspace, work, f"model {name}", version)
    except BaseException:
        if twin is None:
            workspace.artifacts.delete(artifact_path)
        raise
    if not created and twin is None:
        workspace.artifacts.delete(artifact_path)  # the concurrent winner's files serve
    return _registration(workspace, row, created)


def _same_files(session: Session, name: str, content_hash: str) -> ModelVersionRow | None:
    """A version of `name` whose folder is byte-identical (any lineage): its files can be shared."""
    return session.scalars(
        select(ModelVersionRow)
        .where(ModelVersionRow.name == name, ModelVersionRow.content_hash == content_hash)
        .limit(1)
    ).first()


def _registration(workspace: Workspace, row: ModelVersionRow, created: bool) -> ModelRegistration:
    version = (
        model_rows.to_version_entity(row)
        if created
        else get_model_version(workspace, AssetRef(name=row.name, version=row.version))  # with aliases
    )
    return ModelRegistration(**version.model_dump(), created=created)


# --- reading -----------------------------------------------------------------------------------


def get_model_version(workspace: Workspace, ref: str | AssetRef) -> ModelVersion:
    """Resolve `name:version`, `name@alias` or `name@latest` (a bare name means latest)."""
    parsed = parse_ref(ref) if isinstance(ref, str) else ref
    with workspace.database.read() as session:
        row = _resolve_row(session, parsed)
        return model_rows.to_version_entity(
            row, model_rows.aliases_by_version(session, row.name)[row.version]
        )


def _resolve_row(session: Session, ref: AssetRef) -> ModelVersionRow:
    return find_version_row(
        session, ModelVersionRow, MODEL, ref, alias_version=model_rows.get_alias,
        name_exists=lambda session, name: model_rows.get_model_row(session, name) is not None,
    )  # fmt: skip


def create_model(
    workspace: Workspace, name: str, description: str | None = None, tags: dict[str, str] | None = None
) -> Model:
    """A model name with no versions yet (registering a version creates it too); `AlreadyExists`."""
    validate_name(name, "model name")
    clean_tags = job_service.check_tags(tags or {})

    def work(session: Session) -> None:
        if not model_rows.insert_model(session, name, description, clean_tags, datetime.now(UTC)):
            raise AlreadyExists(f"model {name!r} already exists; register a new version of it instead")
        audit.record(session, "model.create", "model", name, f"model {name} created")

    workspace.database.write(work)
    return get_model(workspace, name)


def get_model(workspace: Workspace, name: str) -> Model:
    """One model name with its latest version and aliases."""
    with workspace.database.read() as session:
        found = model_rows.list_models(session, None, names=[name])
    if not found:
        raise NotFound(f"model {name!r} does not exist; list models with: mlyard model list")
    return found[0]


def model_aliases(workspace: Workspace, name: str) -> dict[str, str]:
    """alias → version of one model."""
    with workspace.database.read() as session:
        if model_rows.get_model_row(session, name) is None:
            raise NotFound(f"model {name!r} does not exist; list models with: mlyard model list")
        return model_rows.aliases_of(session, name)


def list_models(workspace: Workspace, tags: dict[str, str] | None = None) -> list[Model]:
    with workspace.database.read() as session:
        return model_rows.list_models(session, tags)


def list_model_versions(
    workspace: Workspace,
    name: str,
    include_archived: bool = False,
    tags: dict[str, str] | None = None,
) -> list[ModelVersion]:
    with workspace.database.read() as session:
        if model_rows.get_model_row(session, name) is None:
            raise NotFound(f"model {name!r} does not exist; list models with: mlyard model list")
        aliases = model_rows.aliases_by_version(session, name)
        return [
            model_rows.to_version_entity(row, aliases.get(row.version, []))
            for row in model_rows.list_versions(session, name, include_archived, tags)
        ]


def download_model(workspace: Workspace, ref: str, destination: Path, overwrite: bool = False) -> Path:
    """The version's folder as `destination/<name>-<version>/` (services/workspaces/downloads.py)."""
    model = get_model_version(workspace, ref)
    return download_version(
        destination, model.name, model.version, overwrite,
        lambda folder: workspace.artifacts.download(model.artifact_path, folder),
    )  # fmt: skip


def model_local_path(workspace: Workspace, model: ModelVersion) -> Path:
    direct = workspace.artifacts.local_path(model.artifact_path)
    if direct is not None:
        return direct
    target = workspace.path / "cache" / "models" / model.name / model.content_hash[:16]
    if not target.exists():
        workspace.artifacts.download(model.artifact_path, target)
    return target


def load_model(workspace: Workspace, ref: str) -> Any:
    model = get_model_version(workspace, ref)
    return load_model_folder(model_local_path(workspace, model))


def load_model_folder(folder: Path) -> Any:
    """The model object saved in a model folder, loaded by the flavor its metadata names."""
    metadata = read_metadata(folder)
    return get_flavor(metadata.flavor).load(folder, metadata)


# --- aliases and archiving ---------------------------------------------------------------------


def set_alias(workspace: Workspace, name: str, alias: str, version: str) -> str | None:
    """Point `alias` at `version`; returns the version it pointed at before (or None).

    A protected alias (workspace setting, default `production`) moves only through an approved
    promotion request when the caller is a client of the team server; a local process holds the
    workspace's files, so it may move it directly (and the audit trail says so).
    """
    validate_alias(alias)
    version = str(version)
    _check_unprotected(workspace, name, alias, f"move alias {alias!r} of model {name!r} to {version}")
    return workspace.database.write(lambda session: move_alias(session, name, alias, version))


def move_alias(session: Session, name: str, alias: str, version: str, why: str = "") -> str | None:
    """Point `alias` at `version` in the caller's transaction (the rule's one place); audited."""
    row = _resolve_row(session, AssetRef(name=name, version=version))
    if row.archived:
        raise Conflict(f"model {name}:{version} is archived; restore it before giving it an alias")
    previous = model_rows.get_alias(session, name, alias)
    model_rows.set_alias(session, name, alias, version, datetime.now(UTC))
    audit.record(
        session, "model.alias.set", "model", name,
        f"alias {alias} of {name}: {previous or '(none)'} -> {version}{why}",
        before={"alias": alias, "version": previous}, after={"alias": alias, "version": version},
    )  # fmt: skip
    emit(
        session, events.MODEL_ALIAS_MOVED, f"models/{name}@{alias}",
        {"ModelName": name, "Alias": alias, "ModelVersion": version, "PreviousVersion": previous},
    )  # fmt: skip
    return previous


def delete_alias(workspace: Workspace, name: str, alias: str) -> None:
    _check_unprotected(workspace, name, alias, f"delete alias {alias!r} of model {name!r}")

    def work(session: Session) -> None:
        previous = model_rows.get_alias(session, name, alias)
        if not model_rows.delete_alias(session, name, alias):
            raise NotFound(f"model {name!r} has no alias {alias!r}")
        audit.record(
            session, "model.alias.delete", "model", name, f"alias {alias} of {name} removed (was {previous})",
            before={"alias": alias, "version": previous},
        )  # fmt: skip

    workspace.database.write(work)


def _check_unprotected(workspace: Workspace, name: str, alias: str, what: str) -> None:
    actor = audit.current_actor()
    if actor.is_local or alias not in get_settings(workspace).protected_aliases:
        return
    raise PermissionDenied(
        f"cannot {what}: {alias!r} is a protected alias, moved only by an approved promotion. "
        f"Request one with: mlyard model promote {name} --version <V> --to {alias} --reason '…'; "
        "another operator approves it with: mlyard model approve <REQUEST_ID>"
    )


def set_archived(workspace: Workspace, ref: str, archived: bool) -> ModelVersion:
    parsed = parse_ref(ref, default_alias=None)

    def work(session: Session) -> None:
        row = _resolve_row(session, parsed)
        aliases = model_rows.aliases_by_version(session, row.name).get(row.version, [])
        if archived and aliases:
            raise Conflict(
                f"model {row.name}:{row.version} is behind alias {', '.join(aliases)}; move the "
                "alias to another version before archiving it"
            )
        if row.archived != archived:
            row.archived = archived
            verb = "archive" if archived else "restore"
            audit.record(session, f"model.{verb}", "model", f"{row.name}:{row.version}",
                         f"{verb}d model {row.name}:{row.version}")  # fmt: skip

    workspace.database.write(work)
    return get_model_version(workspace, ref)
