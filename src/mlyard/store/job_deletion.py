"""Rows that a permanent job delete reads and removes. No rules here: see
services/tracking/job_deletion.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from mlyard.store.tables import (
    DataAssetRow,
    JobInputRow,
    JobOutputRow,
    JobRow,
    LatestMetricRow,
    LoggedModelRow,
    MetricRow,
    ModelVersionRow,
    ParamRow,
    TagRow,
)


def job_and_descendants(session: Session, job_id: str) -> list[tuple[str, str]]:
    """(id, status) of the job and every job below it (pipeline steps, sweep trials, …), parents first."""
    found = [
        (job, status)
        for job, status in session.execute(select(JobRow.id, JobRow.status).where(JobRow.id == job_id))
    ]
    level = [job_id]
    while level:
        below = session.execute(select(JobRow.id, JobRow.status).where(JobRow.parent_job_id.in_(level)))
        children = [(job, status) for job, status in below]
        found += children
        level = [child for child, _ in children]
    return found


def versions_produced_by(session: Session, job_ids: Sequence[str]) -> list[tuple[str, str, str]]:
    """(model name, version, job id) of the model versions whose producing run is one of `job_ids`."""
    rows = session.execute(
        select(ModelVersionRow.name, ModelVersionRow.version, ModelVersionRow.job_id)
        .where(ModelVersionRow.job_id.in_(list(job_ids)))
        .order_by(ModelVersionRow.name, ModelVersionRow.id)
    )
    return [(name, version, str(job)) for name, version, job in rows]


def files_used_elsewhere(session: Session, job_ids: Sequence[str]) -> list[str]:
    """What outside `job_ids` stores its files under one of their folders (`jobs/<id>/…`): another
    job's reused outputs, a data asset or a model version registered in place."""
    prefixes = [f"jobs/{job_id}/" for job_id in job_ids]

    def under(column: Any) -> Any:
        return or_(*(column.startswith(prefix) for prefix in prefixes))

    found = [
        f"job {job}'s output {name}"
        for job, name in session.execute(
            select(JobOutputRow.job_id, JobOutputRow.name).where(
                under(JobOutputRow.artifact_path), JobOutputRow.job_id.not_in(list(job_ids))
            )
        )
    ]
    found += [
        f"data asset {name}:{version}"
        for name, version in session.execute(
            select(DataAssetRow.name, DataAssetRow.version).where(under(DataAssetRow.artifact_path))
        )
    ]
    found += [
        f"model version {name}:{version}"
        for name, version in session.execute(
            select(ModelVersionRow.name, ModelVersionRow.version).where(under(ModelVersionRow.artifact_path))
        )
    ]
    return found


def delete_job_rows(session: Session, job_ids: Sequence[str]) -> list[str]:
    """Every row of the jobs: params, tags, metric points, lineage edges, outputs, logged models;
    returns the ids of the logged models removed (their files are the caller's to remove)."""
    ids = list(job_ids)
    found = session.execute(select(LoggedModelRow.id).where(LoggedModelRow.source_run_id.in_(ids)))
    logged = list(found.scalars())
    for table in (ParamRow, TagRow, MetricRow, LatestMetricRow, JobInputRow, JobOutputRow):
        session.execute(delete(table).where(table.job_id.in_(ids)))
    session.execute(delete(LoggedModelRow).where(LoggedModelRow.source_run_id.in_(ids)))
    session.execute(delete(JobRow).where(JobRow.id.in_(ids)))
    return logged
