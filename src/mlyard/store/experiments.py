"""Rows of experiments looked up by id or name; creation on first use is `jobs.get_or_create_experiment`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from mlyard.entities.jobs.experiment import Experiment
from mlyard.entities.jobs.search import Clause
from mlyard.store.jobs import as_utc, compare
from mlyard.store.tables import ExperimentRow, JobRow
from mlyard.store.upsert import insert_for


def get(session: Session, experiment_id: int) -> Experiment | None:
    row = session.get(ExperimentRow, experiment_id)
    return _to_entity(row) if row is not None else None


def find(session: Session, name: str) -> Experiment | None:
    row = session.execute(select(ExperimentRow).where(ExperimentRow.name == name)).scalar()
    return _to_entity(row) if row is not None else None


def insert(session: Session, name: str, now: datetime) -> int | None:
    """The new experiment's id, or None when one with that name already exists."""
    stmt = insert_for(session, ExperimentRow.__table__).values(name=name, created_at=now)
    stmt = stmt.on_conflict_do_nothing(index_elements=["name"]).returning(ExperimentRow.id)
    created = session.execute(stmt).scalar()
    return None if created is None else int(created)


def of_job(session: Session, job_id: str) -> Experiment | None:
    """The experiment a job belongs to (None when the job does not exist)."""
    row = session.execute(
        select(ExperimentRow)
        .join(JobRow, JobRow.experiment_id == ExperimentRow.id)
        .where(JobRow.id == job_id)
    ).scalar()
    return _to_entity(row) if row is not None else None


_BY_NAMES = select(ExperimentRow.name, ExperimentRow.id).where(
    ExperimentRow.name.in_(bindparam("names", expanding=True))
)


def by_names(session: Session, names: Iterable[str]) -> dict[str, int]:
    # Built once, run on the connection: every search checks its experiments, and building the
    # statement and the ORM's execution layer cost more than the lookup.
    rows = session.connection().execute(_BY_NAMES, {"names": list(names)})
    return {name: experiment_id for name, experiment_id in rows}


def by_ids(session: Session, ids: Iterable[int]) -> dict[int, str]:
    rows = session.execute(
        select(ExperimentRow.id, ExperimentRow.name).where(ExperimentRow.id.in_(list(ids)))
    )
    return {experiment_id: name for experiment_id, name in rows}


def search(session: Session, name_clauses: Sequence[Clause], limit: int, offset: int) -> list[Experiment]:
    """Experiments whose name matches every clause, newest first."""
    query = select(ExperimentRow).where(*(compare(ExperimentRow.name, c.op, c.value) for c in name_clauses))
    query = query.order_by(ExperimentRow.id.desc()).limit(limit).offset(offset)
    return [_to_entity(row) for row in session.scalars(query)]


def _to_entity(row: ExperimentRow) -> Experiment:
    return Experiment(id=row.id, name=row.name, created_at=as_utc(row.created_at))
