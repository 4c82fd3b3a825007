"""Queries shared by every versioned asset table (data assets, model versions, environments, components)."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from mlyard.store.tables import ComponentRow, DataAssetRow, EnvironmentRow, ModelVersionRow

VersionedRow = TypeVar("VersionedRow", DataAssetRow, ModelVersionRow, EnvironmentRow, ComponentRow)


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


def rows_newest_first(session: Session, table: type[VersionedRow], name: str) -> list[VersionedRow]:
    """Every version of `name`, the most recently created first (archived models left out)."""
    stmt = select(table).where(table.name == name)
    archived = getattr(table, "archived", None)
    if archived is not None:
        stmt = stmt.where(archived.is_(False))
    return list(session.scalars(stmt.order_by(table.id.desc())))


def version_row(session: Session, table: type[VersionedRow], name: str, version: str) -> VersionedRow | None:
    return session.scalars(select(table).where(table.name == name, table.version == version)).first()


def numeric_version(version: str) -> int | None:
    return int(version) if version.isdigit() else None


def lock_asset_name(session: Session, kind: str, name: str) -> None:
    """Serialise writers of one asset name until the transaction ends.

    SQLite write transactions are serial already (BEGIN IMMEDIATE); PostgreSQL takes a
    transaction-scoped advisory lock, so "is this content registered yet?" and "insert the next
    version" cannot interleave with another writer of the same name.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"{kind}:{name}"}
        )
