"""Rows of the team server's job queue: candidates to claim, leases, expired leases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mlyard.entities.jobs.job import QUEUE, JobStatus
from mlyard.store.job_runs import ACTIVE_STATUSES
from mlyard.store.jobs import as_utc
from mlyard.store.tables import JobRow


def candidates(
    session: Session, job_types: Sequence[str], limit: int, skip_locked: bool
) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(id, type, spec) of the oldest queued jobs of these types, locked for this transaction on
    PostgreSQL (rows another claimer holds are skipped, not waited for)."""
    query = (
        select(JobRow.id, JobRow.type, JobRow.spec)
        .where(
            JobRow.dispatch == QUEUE,
            JobRow.status == JobStatus.QUEUED.value,
            JobRow.type.in_(list(job_types)),
        )
        .order_by(JobRow.created_at, JobRow.id)
        .limit(limit)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return [(job_id, job_type, spec) for job_id, job_type, spec in session.execute(query)]


def take(
    session: Session, job_id: str, worker_id: str, host: str, now: datetime, lease_until: datetime
) -> int | None:
    """Give a queued job to `worker_id` under a lease; returns its attempt number (None if it was
    no longer queued)."""
    attempt = (session.execute(select(JobRow.attempt).where(JobRow.id == job_id)).scalar() or 0) + 1
    done = session.execute(
        update(JobRow)
        .where(JobRow.id == job_id, JobRow.status == JobStatus.QUEUED.value)
        .values(
            status=JobStatus.RUNNING.value,
            worker_id=worker_id,
            runner_host=host,
            runner_pid=None,
            lease_expires_at=lease_until,
            heartbeat_at=now,
            start_time=now,
            attempt=attempt,
        )  # fmt: skip
    )
    return attempt if done.rowcount else None  # type: ignore[attr-defined]


def renew(session: Session, job_id: str, worker_id: str, now: datetime, lease_until: datetime) -> bool:
    done = session.execute(
        update(JobRow)
        .where(JobRow.id == job_id, JobRow.worker_id == worker_id, JobRow.status.in_(ACTIVE_STATUSES))
        .values(lease_expires_at=lease_until, heartbeat_at=now)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def holder(session: Session, job_id: str) -> tuple[str | None, str | None]:
    """(status, worker id) of a job."""
    row = session.execute(select(JobRow.status, JobRow.worker_id).where(JobRow.id == job_id)).first()
    return (row[0], row[1]) if row is not None else (None, None)


def expired(session: Session, now: datetime) -> list[tuple[str, str, str | None, int, int | None]]:
    """(id, status, worker id, attempt, max retries) of queue jobs whose lease ran out."""
    rows = session.execute(
        select(JobRow.id, JobRow.status, JobRow.worker_id, JobRow.attempt, JobRow.max_retries).where(
            JobRow.dispatch == QUEUE,
            JobRow.status.in_(ACTIVE_STATUSES),
            JobRow.lease_expires_at.is_not(None),
            JobRow.lease_expires_at < now,
        )
    )
    return [
        (job_id, status, worker, attempt or 1, retries) for job_id, status, worker, attempt, retries in rows
    ]


def requeue(session: Session, job_id: str, worker_id: str | None) -> bool:
    """Put a job whose worker was lost back in the queue (only if that worker still holds it)."""
    done = session.execute(
        update(JobRow)
        .where(JobRow.id == job_id, JobRow.worker_id == worker_id, JobRow.status == JobStatus.RUNNING.value)
        .values(status=JobStatus.QUEUED.value, worker_id=None, lease_expires_at=None, runner_host=None)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def dispatch_of(session: Session, job_id: str) -> str | None:
    return session.execute(select(JobRow.dispatch).where(JobRow.id == job_id)).scalar()


def lease_of(session: Session, job_id: str) -> datetime | None:
    return as_utc(session.execute(select(JobRow.lease_expires_at).where(JobRow.id == job_id)).scalar())
