"""Rows of logged models (the MLflow 3 client's `logged-models`). The rules are in services/logged_models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mlyard.entities.registry.logged_model import LoggedModel, LoggedModelStatus
from mlyard.store.jobs import as_utc
from mlyard.store.tables import LoggedModelRow


def insert(session: Session, values: dict[str, Any]) -> None:
    session.add(LoggedModelRow(**values))


def get(session: Session, model_id: str) -> LoggedModel | None:
    row = session.get(LoggedModelRow, model_id)
    return to_entity(row) if row is not None else None


def update_fields(session: Session, model_id: str, values: dict[str, Any]) -> None:
    session.execute(update(LoggedModelRow).where(LoggedModelRow.id == model_id).values(**values))


def search(
    session: Session,
    experiment_ids: Sequence[int],
    equal: dict[str, str],
    not_equal: dict[str, str],
    limit: int,
    offset: int,
) -> list[LoggedModel]:
    """Logged models of `experiment_ids` (all when empty) whose columns match, newest first."""
    query = select(LoggedModelRow)
    if experiment_ids:
        query = query.where(LoggedModelRow.experiment_id.in_(list(experiment_ids)))
    for column, value in equal.items():
        query = query.where(getattr(LoggedModelRow, column) == value)
    for column, value in not_equal.items():
        query = query.where(getattr(LoggedModelRow, column) != value)
    query = query.order_by(LoggedModelRow.created_at.desc(), LoggedModelRow.id).limit(limit).offset(offset)
    return [to_entity(row) for row in session.scalars(query)]


def to_entity(row: LoggedModelRow) -> LoggedModel:
    return LoggedModel(
        id=row.id, experiment_id=row.experiment_id, name=row.name, source_run_id=row.source_run_id,
        status=LoggedModelStatus(row.status), model_type=row.model_type, params=row.params or {},
        tags=row.tags or {}, artifact_path=row.artifact_path, created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
    )  # fmt: skip
