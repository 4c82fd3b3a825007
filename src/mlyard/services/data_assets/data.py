"""Data assets: versioned, immutable, content-hashed; profiled when tabular.

Rules that live here: registering again follows the one rule of `versioning.registered_version`
(identical content returns the existing version; an explicit version that exists with other
content is refused; an explicit new version is created, sharing the stored files); nothing is
half-written (files are uploaded to a content-addressed folder before the row is inserted, and
removed again if the insert fails); errors and the recorded `source` name the user's own path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlyard.artifacts import HashResult, hash_path
from mlyard.entities.automation import event as events
from mlyard.entities.registry.data import DataAsset, DataType, TableProfile
from mlyard.entities.specs.local_files import user_path
from mlyard.entities.specs.names import AssetRef, parse_ref, validate_name, validate_version
from mlyard.errors import AlreadyExists, InvalidArgument, NotFound
from mlyard.services.data_assets.profiling import profile_data
from mlyard.services.data_assets.tabular import read_table
from mlyard.services.events.outbox import emit
from mlyard.services.workspaces import audit
from mlyard.services.workspaces.downloads import download_version
from mlyard.services.workspaces.versioning import (
    AssetKind,
    find_version_row,
    insert_new_version,
    registered_version,
)
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import data_assets as data_rows
from mlyard.store import versions
from mlyard.store.tables import DataAssetRow

DATA_ASSET = AssetKind("data asset", "data assets", "mlyard data create --name {name} --path ...")


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

    def is_same(row: DataAssetRow) -> bool:
        return row.content_hash == digest.sha256 and row.type == data_type.value

    with workspace.database.read() as session:
        found = registered_version(session, DataAssetRow, name, version, is_same, "data asset")
    if found is not None:
        return Registration(data_rows.to_entity(found), created=False)

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
            is_same,
        )
    except BaseException:
        if uploaded:
            _remove_unreferenced(workspace, artifact_path)
        raise
    return Registration(data_rows.to_entity(row), created=created)


def get_data_asset(workspace: Workspace, ref: str | AssetRef) -> DataAsset:
    """`name:version` or `name@latest` (a bare name means latest; `azureml:` is ignored)."""
    parsed = parse_ref(ref) if isinstance(ref, str) else ref
    with workspace.database.read() as session:
        return data_rows.to_entity(find_version_row(session, DataAssetRow, DATA_ASSET, parsed))


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


PREVIEW_MAX_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class RowsPreview:
    """The first rows of a tabular asset as text cells (empty for a missing value)."""

    columns: list[str]
    rows: list[list[str]]


def first_rows(workspace: Workspace, ref: str, limit: int = 20) -> RowsPreview | None:
    """The first `limit` rows of a tabular version; None when it holds no table (images, a model).

    Refused for a version larger than PREVIEW_MAX_BYTES: the whole table is read to take its head.
    """
    asset = get_data_asset(workspace, ref)
    if asset.size_bytes > PREVIEW_MAX_BYTES:
        raise InvalidArgument(
            f"data asset {asset.ref} is {asset.size_bytes} bytes, more than the {PREVIEW_MAX_BYTES} a "
            f"preview reads; download it with: mlyard data download {asset.ref}"
        )
    frame = read_table(local_path(workspace, asset), asset.type)
    if frame is None:
        return None
    head = frame.head(limit)
    cells = head.astype(object).where(head.notna(), "")
    return RowsPreview(
        [str(c) for c in head.columns], [[str(v) for v in row] for row in cells.itertuples(index=False)]
    )


def download_data_asset(workspace: Workspace, ref: str, destination: Path, overwrite: bool = False) -> Path:
    """The version's content in `destination/<name>-<version>/` (services/workspaces/downloads.py)."""
    asset = get_data_asset(workspace, ref)
    return download_version(
        destination, asset.name, asset.version, overwrite,
        lambda folder: workspace.artifacts.download(asset.artifact_path, folder),
    )  # fmt: skip


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
    is_same: Callable[[DataAssetRow], bool],
) -> tuple[DataAssetRow, bool]:
    """Insert the new version; returns (row, True), or (the existing row, False) when a
    concurrent registration stored the same content under this name first."""
    now = datetime.now(UTC)

    def work(session: Session) -> tuple[DataAssetRow, bool]:
        versions.lock_asset_name(session, "data", name)
        same = registered_version(session, DataAssetRow, name, version, is_same, "data asset")
        if same is not None:  # a concurrent registration of the same content won
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
            source_path=user_path(source),
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
