"""Queries shared by every versioned asset table (data assets, model versions)."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mlyard.store.tables import DataAssetRow, ModelVersionRow

VersionedRow = TypeVar("VersionedRow", DataAssetRow, ModelVersionRow)


def next_version_number(session: Session, table: type[VersionedRow], name: str) -> int:
    """One past the highest numeric version of `name` (1 for a new name)."""
    highest = session.execute(select(func.max(table.version_number)).where(table.name == name)).scalar()
    return int(highest or 0) + 1


def latest_row(session: Session, table: type[VersionedRow], name: str) -> VersionedRow | None:
    """The most recently created version of `name` that is not archived, or None."""
    stmt = select(table).where(table.name == name)
    archived = getattr(table, "archived", None)
    if archived is not None:
        stmt = stmt.where(archived.is_(False))
    return session.scalars(stmt.order_by(table.id.desc()).limit(1)).first()


def version_row(session: Session, table: type[VersionedRow], name: str, version: str) -> VersionedRow | None:
    return session.scalars(select(table).where(table.name == name, table.version == version)).first()


def numeric_version(version: str) -> int | None:
    return int(version) if version.isdigit() else None
