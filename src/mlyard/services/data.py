"""Data assets: versioned, immutable, content-hashed; profiled when tabular.

Rules that live here: identical content re-registered under the same name returns the existing
version; an explicit version that exists with other content is refused; nothing is half-written
(files are uploaded to a content-addressed folder before the row is inserted, and removed again if
the insert fails).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlyard.artifacts import HashResult, hash_path
from mlyard.entities import event as events
from mlyard.entities.data import DataAsset, DataType, TableProfile
from mlyard.entities.names import AssetRef, parse_ref, validate_name, validate_version
from mlyard.errors import AlreadyExists, InvalidArgument, NotFound
from mlyard.services import audit
from mlyard.services.events.outbox import emit
from mlyard.services.profiling import profile_data
from mlyard.services.versioning import insert_new_version
from mlyard.services.workspace import Workspace
from mlyard.store import data_assets as data_rows
from mlyard.store import versions
from mlyard.store.tables import DataAssetRow


@dataclass(frozen=True)
class Registration:
    """The outcome of registering: the asset, and whether a new version was created."""

    asset: DataAsset
    created: bool

    @property
    def message(self) -> str:
        if self.created:
            return f"registered data asset {self.asset.ref}"
        return f"identical content is already registered as {self.asset.ref}; no new version created"


def create_data_asset(
    workspace: Workspace,
    name: str,
    path: str | Path,
    type: DataType | str = DataType.URI_FILE,
    version: str | None = None,
    description: str | None = None,
    tags: dict[str, str] | None = None,
) -> Registration:
    validate_name(name, "data asset name")
    if version is not None:
        validate_version(str(version))
        version = str(version)
    data_type = _data_type(type)
    source = Path(path).expanduser()
    _check_source(source, data_type)
    digest = hash_path(source)

    with workspace.database.read() as session:
        same = data_rows.find_by_hash(session, name, digest.sha256, data_type.value)
        taken = versions.version_row(session, DataAssetRow, name, version) if version else None
    if taken is not None:
        if taken.content_hash == digest.sha256:
            return Registration(data_rows.to_entity(taken), created=False)
        raise AlreadyExists(
            f"data asset {name}:{version} already exists with different content; data versions "
            "are immutable: register without --version to get the next one"
        )
    if same is not None and version is None:
        return Registration(data_rows.to_entity(same), created=False)

    profile = profile_data(source.resolve(), data_type)
    artifact_path, uploaded = _upload(workspace, name, source, digest.sha256, data_type)
    try:
        row, created = _insert(
            workspace,
            name,
            version,
            data_type,
            description,
            tags or {},
            digest,
            profile,
            artifact_path,
            source,
        )
    except BaseException:
        if uploaded:
            _remove_unreferenced(workspace, artifact_path)
        raise
    return Registration(data_rows.to_entity(row), created=created)


def get_data_asset(workspace: Workspace, ref: str | AssetRef) -> DataAsset:
    parsed = parse_ref(ref) if isinstance(ref, str) else ref
    with workspace.database.read() as session:
        if parsed.version is not None:
            row = versions.version_row(session, DataAssetRow, parsed.name, parsed.version)
        elif parsed.alias == "latest":
            row = versions.latest_row(session, DataAssetRow, parsed.name)
        else:
            raise InvalidArgument(
                f"data assets have no aliases; use {parsed.name}:VERSION or {parsed.name}@latest"
            )
        if row is None:
            known = data_rows.list_versions(session, parsed.name)
            if not known:
                raise NotFound(
                    f"data asset {parsed.name!r} does not exist; register it with: "
                    f"mlyard data create --name {parsed.name} --path ..."
                )
            raise NotFound(
                f"data asset {parsed.name!r} has no version {parsed.version!r}; versions: "
                + ", ".join(r.version for r in known[:20])
            )
        return data_rows.to_entity(row)


def list_data_assets(workspace: Workspace, name: str | None = None) -> list[DataAsset]:
    """All versions of `name` (newest first), or the latest version of every asset."""
    with workspace.database.read() as session:
        rows = data_rows.list_versions(session, name) if name else data_rows.list_latest(session)
        if name and not rows:
            raise NotFound(f"data asset {name!r} does not exist")
        return [data_rows.to_entity(row) for row in rows]


def local_path(workspace: Workspace, asset: DataAsset, cache_dir: Path | None = None) -> Path:
    """A local path to the asset's content: the stored file itself when artifacts are local."""
    direct = workspace.artifacts.local_path(asset.artifact_path)
    if direct is not None:
        return direct
    target = (cache_dir or workspace.path / "cache") / "data" / asset.name / asset.content_hash[:16]
    leaf = target / Path(asset.artifact_path).name
    if not leaf.exists():
        workspace.artifacts.download(asset.artifact_path, leaf)
    return leaf


def download_data_asset(workspace: Workspace, ref: str, destination: Path) -> Path:
    asset = get_data_asset(workspace, ref)
    target = destination / Path(asset.artifact_path).name if asset.type == DataType.URI_FILE else destination
    return workspace.artifacts.download(asset.artifact_path, target)


def _data_type(value: DataType | str) -> DataType:
    try:
        return DataType(value)
    except ValueError:
        valid = ", ".join(t.value for t in DataType)
        raise InvalidArgument(f"invalid data type {value!r}; valid types are: {valid}") from None


def _check_source(source: Path, data_type: DataType) -> None:
    if not source.exists():
        raise NotFound(f"data path {source} does not exist")
    if data_type == DataType.URI_FILE and not source.is_file():
        raise InvalidArgument(f"data path {source} is a folder; use --type uri_folder or mltable for folders")
    if data_type != DataType.URI_FILE and not source.is_dir():
        raise InvalidArgument(f"data path {source} is a file; --type {data_type.value} needs a folder")
    if data_type == DataType.MLTABLE and not (source / "MLTable").is_file():
        raise InvalidArgument(f"mltable folder {source} has no MLTable file")


def _upload(
    workspace: Workspace, name: str, source: Path, sha256: str, data_type: DataType
) -> tuple[str, bool]:
    """Store content under a folder named by its hash, so identical content is stored once.

    Returns the artifact path and whether this call stored it (False: it was there already).
    """
    folder = f"data/{name}/{sha256[:32]}"
    if data_type == DataType.URI_FILE:
        target = f"{folder}/{source.name}"
        if workspace.artifacts.exists(target):
            return target, False
        workspace.artifacts.put_file(source, target)
        return target, True
    if workspace.artifacts.exists(folder):
        return folder, False
    try:
        workspace.artifacts.put_dir(source, folder)
    except AlreadyExists:
        return folder, False  # a concurrent registration of the same content stored it first
    return folder, True


def _insert(
    workspace: Workspace,
    name: str,
    version: str | None,
    data_type: DataType,
    description: str | None,
    tags: dict[str, str],
    digest: HashResult,
    profile: TableProfile | None,
    artifact_path: str,
    source: Path,
) -> tuple[DataAssetRow, bool]:
    """Insert the new version; returns (row, True), or (the existing row, False) when a
    concurrent registration stored the same content under this name first."""
    now = datetime.now(UTC)

    def work(session: Session) -> tuple[DataAssetRow, bool]:
        versions.lock_asset_name(session, "data", name)
        if version is None:
            same = data_rows.find_by_hash(session, name, digest.sha256, data_type.value)
            if same is not None:
                return same, False
        chosen = version or str(versions.next_version_number(session, DataAssetRow, name))
        row = DataAssetRow(
            name=name,
            version=chosen,
            version_number=versions.numeric_version(chosen),
            type=data_type.value,
            description=description,
            tags=tags,
            content_hash=digest.sha256,
            size_bytes=digest.size_bytes,
            file_count=digest.file_count,
            row_count=profile.row_count if profile else None,
            data_schema=profile.schema_ if profile else None,
            profile=[c.model_dump(mode="json") for c in profile.columns] if profile else None,
            artifact_path=artifact_path,
            source_path=str(source.resolve()),
            created_at=now,
            created_by=audit.current_actor().name,
        )
        session.add(row)
        session.flush()
        audit.record(
            session, "data.create", "data", f"{name}:{chosen}",
            f"registered data asset {name}:{chosen} ({data_type.value}, {digest.file_count} files, "
            f"{digest.size_bytes} bytes)",
            after={"content_hash": digest.sha256, "type": data_type.value},
        )  # fmt: skip
        emit(
            session, events.DATA_ASSET_REGISTERED, f"data/{name}:{chosen}",
            {"DataName": name, "DataVersion": chosen, "DataType": data_type.value, "DataTags": tags,
             "ContentHash": digest.sha256},
        )  # fmt: skip
        return row, True

    return insert_new_version(workspace, work, f"data asset {name}", version)


def _remove_unreferenced(workspace: Workspace, artifact_path: str) -> None:
    with workspace.database.read() as session:
        used = session.execute(
            select(DataAssetRow.id).where(DataAssetRow.artifact_path == artifact_path).limit(1)
        ).first()
    if used is None:
        workspace.artifacts.delete(artifact_path)
