"""Rows for submitted jobs: their spec, who runs them, cancel requests, outputs and reuse keys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from mlyard.entities.jobs.job import JobOutputInfo, JobStatus
from mlyard.store.jobs import TERMINAL_STATUSES, as_utc
from mlyard.store.tables import JobOutputRow, JobRow

ACTIVE_STATUSES = (JobStatus.RUNNING.value, JobStatus.CANCEL_REQUESTED.value, JobStatus.FINALIZING.value)


def job_spec(session: Session, job_id: str) -> dict[str, Any] | None:
    return session.execute(select(JobRow.spec).where(JobRow.id == job_id)).scalar()


def job_status(session: Session, job_id: str) -> str | None:
    return session.execute(select(JobRow.status).where(JobRow.id == job_id)).scalar()


WAITING_STATUSES = (JobStatus.QUEUED.value, JobStatus.NOT_STARTED.value)


def claim(session: Session, job_id: str, pid: int, host: str, now: datetime) -> str | None:
    """Move a queued job to Running under this runner; returns the status it had.

    One conditional UPDATE, so of two runners claiming at once exactly one gets the job.
    """
    done = session.execute(
        update(JobRow)
        .where(JobRow.id == job_id, JobRow.status.in_(WAITING_STATUSES))
        .values(
            status=JobStatus.RUNNING.value,
            start_time=now,
            runner_pid=pid,
            runner_host=host,
            heartbeat_at=now,
        )
    )
    if done.rowcount:  # type: ignore[attr-defined]
        return JobStatus.QUEUED.value
    return job_status(session, job_id)


def set_status(session: Session, job_id: str, status: str, only_from: Sequence[str]) -> str | None:
    """Set `status` when the job is in one of `only_from`; returns the status it had."""
    before = job_status(session, job_id)
    if before in only_from:
        session.execute(update(JobRow).where(JobRow.id == job_id).values(status=status))
    return before


def heartbeat(session: Session, job_id: str, now: datetime) -> str | None:
    """Record that the runner is alive; returns the job's status (the runner learns of cancels)."""
    session.execute(update(JobRow).where(JobRow.id == job_id).values(heartbeat_at=now))
    return job_status(session, job_id)


def set_reuse(session: Session, job_id: str, reuse_key: str | None, reused_from: str | None) -> None:
    session.execute(
        update(JobRow).where(JobRow.id == job_id).values(reuse_key=reuse_key, reused_from=reused_from)
    )


def set_code(session: Session, job_id: str, code: dict[str, Any]) -> None:
    session.execute(update(JobRow).where(JobRow.id == job_id).values(code=code))


def active_jobs(session: Session) -> list[tuple[str, int | None, str | None, datetime | None]]:
    """(id, runner pid, runner host, last heartbeat) of every job a runner holds (jobs a worker of
    the team server holds under a lease are the queue's to watch)."""
    rows = session.execute(
        select(JobRow.id, JobRow.runner_pid, JobRow.runner_host, JobRow.heartbeat_at).where(
            JobRow.status.in_(ACTIVE_STATUSES), JobRow.worker_id.is_(None)
        )
    )
    return [(job_id, pid, host, as_utc(beat)) for job_id, pid, host, beat in rows]


def set_runner(session: Session, job_id: str, pid: int, host: str) -> None:
    session.execute(update(JobRow).where(JobRow.id == job_id).values(runner_pid=pid, runner_host=host))


def launched_queued_jobs(session: Session) -> list[tuple[str, int | None, str | None, datetime | None]]:
    """Queued jobs a runner process was started for but has not claimed yet."""
    rows = session.execute(
        select(JobRow.id, JobRow.runner_pid, JobRow.runner_host).where(
            JobRow.status == JobStatus.QUEUED.value, JobRow.runner_pid.is_not(None)
        )
    )
    return [(job_id, pid, host, None) for job_id, pid, host in rows]


def children(session: Session, parent_job_id: str) -> list[tuple[str, str, str | None]]:
    """(id, status, display name) of a job's children, oldest first."""
    rows = session.execute(
        select(JobRow.id, JobRow.status, JobRow.display_name)
        .where(JobRow.parent_job_id == parent_job_id)
        .order_by(JobRow.created_at, JobRow.id)
    )
    return [(job_id, status, name) for job_id, status, name in rows]


def latest_reusable(session: Session, reuse_key: str) -> str | None:
    """The newest Completed job with this reuse key (its outputs can stand in for a rerun)."""
    return session.execute(
        select(JobRow.id)
        .where(JobRow.reuse_key == reuse_key, JobRow.status == JobStatus.COMPLETED.value)
        .order_by(JobRow.end_time.desc())
        .limit(1)
    ).scalar()


def is_terminal(status: str | None) -> bool:
    return status in TERMINAL_STATUSES


# --- outputs -----------------------------------------------------------------------------------


def insert_output(session: Session, job_id: str, output: JobOutputInfo) -> None:
    session.execute(
        delete(JobOutputRow).where(JobOutputRow.job_id == job_id, JobOutputRow.name == output.name)
    )
    session.execute(
        insert(JobOutputRow).values(
            job_id=job_id,
            name=output.name,
            type=output.type,
            artifact_path=output.artifact_path,
            content_hash=output.content_hash,
            asset_kind=output.asset_kind,
            asset_name=output.asset_name,
            asset_version=output.asset_version,
        )
    )


def outputs(session: Session, job_id: str) -> list[JobOutputInfo]:
    rows = session.execute(
        select(JobOutputRow).where(JobOutputRow.job_id == job_id).order_by(JobOutputRow.name)
    ).scalars()
    return [
        JobOutputInfo(
            name=row.name,
            type=row.type,
            artifact_path=row.artifact_path,
            content_hash=row.content_hash,
            asset_kind=row.asset_kind,
            asset_name=row.asset_name,
            asset_version=row.asset_version,
        )
        for row in rows
    ]


def copy_outputs(session: Session, from_job_id: str, to_job_id: str) -> None:
    """A reusing step points at the same stored outputs: no bytes are copied."""
    for output in outputs(session, from_job_id):
        insert_output(session, to_job_id, output)
