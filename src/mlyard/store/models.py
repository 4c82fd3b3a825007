"""Rows of models, model versions and aliases, and their conversion to entities."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from mlyard.entities.registry.model import Model, ModelSignature, ModelVersion
from mlyard.store.jobs import as_utc
from mlyard.store.tables import JobRow, ModelAliasRow, ModelRow, ModelVersionRow
from mlyard.store.upsert import insert_for


def ensure_model(session: Session, name: str, now: datetime) -> None:
    stmt = insert_for(session, ModelRow.__table__).values(name=name, tags={}, created_at=now)
    session.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))


def insert_model(
    session: Session, name: str, description: str | None, tags: dict[str, str], now: datetime
) -> bool:
    """Create a model name with no versions yet; False when it already exists."""
    stmt = insert_for(session, ModelRow.__table__).values(
        name=name, description=description, tags=tags, created_at=now
    )
    stmt = stmt.on_conflict_do_nothing(index_elements=["name"]).returning(ModelRow.name)
    return session.execute(stmt).scalar() is not None


def get_model_row(session: Session, name: str) -> ModelRow | None:
    return session.get(ModelRow, name)


def aliases_by_version(session: Session, name: str) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    rows = session.execute(
        select(ModelAliasRow.version, ModelAliasRow.alias)
        .where(ModelAliasRow.name == name)
        .order_by(ModelAliasRow.alias)
    )
    for version, alias in rows:
        grouped[version].append(alias)
    return grouped


def aliases_of(session: Session, name: str) -> dict[str, str]:
    rows = session.execute(
        select(ModelAliasRow.alias, ModelAliasRow.version)
        .where(ModelAliasRow.name == name)
        .order_by(ModelAliasRow.alias)
    )
    return {alias: version for alias, version in rows}


def get_alias(session: Session, name: str, alias: str) -> str | None:
    row = session.get(ModelAliasRow, (name, alias))
    return row.version if row else None


def set_alias(session: Session, name: str, alias: str, version: str, now: datetime) -> None:
    stmt = insert_for(session, ModelAliasRow.__table__).values(
        name=name, alias=alias, version=version, updated_at=now
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["name", "alias"],
        set_={"version": stmt.excluded.version, "updated_at": stmt.excluded.updated_at},
    )
    session.execute(stmt)


def delete_alias(session: Session, name: str, alias: str) -> bool:
    result = session.execute(
        delete(ModelAliasRow).where(ModelAliasRow.name == name, ModelAliasRow.alias == alias)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def to_version_entity(row: ModelVersionRow, aliases: Sequence[str] = ()) -> ModelVersion:
    return ModelVersion(
        name=row.name,
        version=row.version,
        flavor=row.flavor,
        description=row.description,
        tags=row.tags or {},
        properties=row.properties or {},
        aliases=list(aliases),
        archived=row.archived,
        content_hash=row.content_hash,
        artifact_path=row.artifact_path,
        signature=ModelSignature.model_validate(row.signature) if row.signature else None,
        job_id=row.job_id,
        created_at=as_utc(row.created_at),
        created_by=row.created_by,
        folder_name=row.folder_name,
    )


def list_versions(
    session: Session, name: str, include_archived: bool, tags: dict[str, str] | None
) -> list[ModelVersionRow]:
    stmt = select(ModelVersionRow).where(ModelVersionRow.name == name)
    if not include_archived:
        stmt = stmt.where(ModelVersionRow.archived.is_(False))
    rows = list(session.scalars(stmt.order_by(ModelVersionRow.id.desc())))
    return [row for row in rows if _has_tags(row.tags, tags)]


def versions_from_jobs(session: Session, job_ids: Sequence[str]) -> list[ModelVersion]:
    """The model versions (archived too) that the jobs `job_ids` or their child jobs (a pipeline's
    steps, a sweep's trials) produced, newest first."""
    if not job_ids:
        return []
    children = select(JobRow.id).where(JobRow.parent_job_id.in_(job_ids))
    rows = session.scalars(
        select(ModelVersionRow)
        .where(or_(ModelVersionRow.job_id.in_(job_ids), ModelVersionRow.job_id.in_(children)))
        .order_by(ModelVersionRow.id.desc())
    )
    return [to_version_entity(row) for row in rows]


def list_models(
    session: Session, tags: dict[str, str] | None, names: Sequence[str] | None = None
) -> list[Model]:
    """Every model name (or those in `names`) with its version count, newest version and aliases."""
    stats = {
        name: (count, latest_id)
        for name, count, latest_id in session.execute(
            select(ModelVersionRow.name, func.count(), func.max(ModelVersionRow.id))
            .where(ModelVersionRow.archived.is_(False))
            .group_by(ModelVersionRow.name)
        )
    }
    latest_ids = [latest_id for _, latest_id in stats.values()]
    latest_versions = {
        name: version
        for name, version in session.execute(
            select(ModelVersionRow.name, ModelVersionRow.version).where(ModelVersionRow.id.in_(latest_ids))
        )
    }
    aliases: dict[str, dict[str, str]] = defaultdict(dict)
    for name, alias, version in session.execute(
        select(ModelAliasRow.name, ModelAliasRow.alias, ModelAliasRow.version)
    ):
        aliases[name][alias] = version
    models = []
    query = select(ModelRow).order_by(ModelRow.name)
    if names is not None:
        query = query.where(ModelRow.name.in_(list(names)))
    for row in session.scalars(query):
        if not _has_tags(row.tags, tags) and not _any_version_has_tags(session, row.name, tags):
            continue
        count, _ = stats.get(row.name, (0, None))
        models.append(
            Model(
                name=row.name,
                description=row.description,
                tags=row.tags or {},
                latest_version=latest_versions.get(row.name),
                version_count=count,
                aliases=aliases.get(row.name, {}),
                created_at=as_utc(row.created_at),
            )
        )
    return models


def _has_tags(row_tags: dict[str, str] | None, wanted: dict[str, str] | None) -> bool:
    if not wanted:
        return True
    row_tags = row_tags or {}
    return all(key in row_tags and (value == "*" or row_tags[key] == value) for key, value in wanted.items())


def _any_version_has_tags(session: Session, name: str, wanted: dict[str, str] | None) -> bool:
    return any(True for _ in list_versions(session, name, include_archived=False, tags=wanted))
