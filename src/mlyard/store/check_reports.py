"""Rows of staging check reports. What they gate (promotion approval) is in services/model_registry."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlyard.entities.governance.validation import CheckRecord
from mlyard.store.jobs import as_utc
from mlyard.store.tables import CheckReportRow


def insert(session: Session, values: dict[str, Any]) -> None:
    session.add(CheckReportRow(**values))


def search(
    session: Session, name: str, version: str | None, kind: str | None, limit: int
) -> list[CheckRecord]:
    """Reports of model `name` (one version, one kind), newest first."""
    query = select(CheckReportRow).where(CheckReportRow.model_name == name)
    if version is not None:
        query = query.where(CheckReportRow.model_version == version)
    if kind is not None:
        query = query.where(CheckReportRow.kind == kind)
    query = query.order_by(CheckReportRow.created_at.desc(), CheckReportRow.id).limit(limit)
    return [_to_entity(row) for row in session.execute(query).scalars()]


def _to_entity(row: CheckReportRow) -> CheckRecord:
    return CheckRecord(
        id=row.id, kind=row.kind, model_name=row.model_name, model_version=row.model_version,  # type: ignore[arg-type]
        passed=row.passed, summary=row.summary, report=row.report, location=row.location,
        job_id=row.job_id, created_at=as_utc(row.created_at), created_by=row.created_by,
    )  # fmt: skip
