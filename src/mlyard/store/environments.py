"""Rows of environments and their conversion to entities.

A row's `spec` column holds `{"spec": <the spec, files read in>, "resolved": <ResolvedEnvironment>}`.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mlyard.entities.assets.environment import Environment
from mlyard.entities.assets.environment_spec import EnvironmentSpec, ResolvedEnvironment
from mlyard.store.jobs import as_utc
from mlyard.store.tables import EnvironmentRow


def to_entity(row: EnvironmentRow) -> Environment:
    return Environment(
        name=row.name,
        version=row.version,
        description=row.description,
        tags=row.tags or {},
        spec=EnvironmentSpec.model_validate(row.spec["spec"]),
        spec_hash=row.spec_hash,
        resolved=ResolvedEnvironment.model_validate(row.spec["resolved"]),
        created_at=as_utc(row.created_at),
        created_by=row.created_by,
    )


def same_content(row: EnvironmentRow, resolved: ResolvedEnvironment) -> bool:
    return row.spec_hash == resolved.spec_hash and row.spec["resolved"].get("image") == resolved.image


def list_versions(session: Session, name: str) -> list[EnvironmentRow]:
    return list(
        session.scalars(
            select(EnvironmentRow).where(EnvironmentRow.name == name).order_by(EnvironmentRow.id.desc())
        )
    )


def list_latest(session: Session) -> list[EnvironmentRow]:
    """The newest version of every environment name."""
    newest = select(func.max(EnvironmentRow.id)).group_by(EnvironmentRow.name)
    return list(
        session.scalars(
            select(EnvironmentRow).where(EnvironmentRow.id.in_(newest)).order_by(EnvironmentRow.name)
        )
    )


def names(session: Session) -> list[str]:
    return list(session.scalars(select(EnvironmentRow.name).distinct().order_by(EnvironmentRow.name)))
