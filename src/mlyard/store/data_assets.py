"""Rows of data assets and their conversion to entities."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mlyard.entities.registry.data import ColumnProfile, DataAsset, DataType
from mlyard.store.jobs import as_utc
from mlyard.store.tables import DataAssetRow


def to_entity(row: DataAssetRow) -> DataAsset:
    return DataAsset(
        name=row.name,
        version=row.version,
        type=DataType(row.type),
        description=row.description,
        tags=row.tags or {},
        content_hash=row.content_hash,
        size_bytes=row.size_bytes,
        file_count=row.file_count,
        row_count=row.row_count,
        data_schema=row.data_schema,
        profile=[ColumnProfile.model_validate(c) for c in row.profile] if row.profile else None,
        artifact_path=row.artifact_path,
        source_path=row.source_path,
        created_at=as_utc(row.created_at),
        created_by=row.created_by,
    )


def list_versions(session: Session, name: str) -> list[DataAssetRow]:
    return list(
        session.scalars(
            select(DataAssetRow).where(DataAssetRow.name == name).order_by(DataAssetRow.id.desc())
        )
    )


def list_latest(session: Session) -> list[DataAssetRow]:
    """The newest version of every data asset name."""
    newest = select(func.max(DataAssetRow.id)).group_by(DataAssetRow.name)
    return list(
        session.scalars(select(DataAssetRow).where(DataAssetRow.id.in_(newest)).order_by(DataAssetRow.name))
    )


def count_versions(session: Session) -> dict[str, int]:
    rows = session.execute(select(DataAssetRow.name, func.count()).group_by(DataAssetRow.name))
    return {name: count for name, count in rows}
