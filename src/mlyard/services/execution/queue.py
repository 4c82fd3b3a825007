"""The team server's job queue: workers claim queued jobs under a lease they renew.

Rules that live here: a job is claimed by one worker at a time (PostgreSQL `FOR UPDATE SKIP
LOCKED`; on SQLite the claim is one write transaction, and SQLite has one writer); a worker
holds a job only while it renews its lease; a job whose lease runs out is put back in the queue
while it has retries left (`max_retries`, else the server's default), or failed naming the lost
worker — never lost, never run by two workers at once (the old worker's next renewal is refused
with `LeaseLost`, and it stops the job's process).

Every function that reads the clock takes `now` (keyword, default: the real time), so lease
expiry can be tested on a clock the test controls rather than by waiting for it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from mlyard.entities.jobs.job import JobStatus, RunSummary
from mlyard.errors import Conflict, LeaseLost, NotFound
from mlyard.services.assets.computes import list_computes
from mlyard.services.events.job_events import emit_job_status
from mlyard.services.execution import job_runs
from mlyard.services.tracking.jobs import end_job
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import jobs as job_rows
from mlyard.store import queue as rows

DEFAULT_LEASE_SECONDS = 30.0
DEFAULT_RETRIES = 1
ORCHESTRATOR_TYPES = ("pipeline", "sweep", "parallel", "batch", "monitor")
COMMAND_TYPES = ("command",)
_CANDIDATES = 16


@dataclass(frozen=True)
class ClaimedJob:
    job_id: str
    job_type: str
    spec: dict[str, Any]
    attempt: int
    lease_seconds: float
    compute_kind: str = "local"  # where its `compute:` says it runs: local or ray


def compute_kind(spec: dict[str, Any] | None, named: dict[str, str]) -> str:
    """`local` or `ray`: where a job's `compute:` says it runs (a docker compute's jobs are local
    processes: a worker runs them as on a local compute)."""
    compute = (spec or {}).get("compute")
    if compute in (None, "", "local"):
        return "local"
    if compute == "ray":
        return "ray"
    kind = named.get(str(compute), "local")
    return "local" if kind == "docker" else kind


def claim_next(
    workspace: Workspace,
    worker_id: str,
    host: str,
    job_types: Sequence[str] = COMMAND_TYPES,
    compute_kinds: Collection[str] | None = ("local",),
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    *,
    now: datetime | None = None,
) -> ClaimedJob | None:
    """The oldest queued job of these types and computes, now held by `worker_id`; None if none."""
    named = _named_computes(workspace)

    def work(session: Session) -> ClaimedJob | None:
        claimed_at = now or datetime.now(UTC)
        lease_until = claimed_at + timedelta(seconds=lease_seconds)
        found = rows.candidates(session, job_types, _CANDIDATES, skip_locked=not workspace.database.is_sqlite)
        for job_id, job_type, spec in found:
            kind = compute_kind(spec, named)
            if compute_kinds is not None and kind not in compute_kinds:
                continue
            attempt = rows.take(session, job_id, worker_id, host, claimed_at, lease_until)
            if attempt is not None:
                emit_job_status(session, job_id, JobStatus.RUNNING)
                return ClaimedJob(job_id, job_type, spec or {}, attempt, lease_seconds, kind)
        return None

    return workspace.database.write(work)


def renew_lease(
    workspace: Workspace,
    job_id: str,
    worker_id: str,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    *,
    now: datetime | None = None,
) -> JobStatus:
    """Extend `worker_id`'s lease; returns the job's status (CancelRequested tells it to stop).

    `LeaseLost` when the job is no longer this worker's (its lease ran out and it was requeued).
    """

    def work(session: Session) -> tuple[str | None, str | None, bool]:
        renewed_at = now or datetime.now(UTC)
        lease_until = renewed_at + timedelta(seconds=lease_seconds)
        renewed = rows.renew(session, job_id, worker_id, renewed_at, lease_until)
        status, holder = rows.holder(session, job_id)
        return status, holder, renewed

    status, holder, renewed = workspace.database.write(work)
    if status is None:
        raise NotFound(f"job {job_id!r} does not exist")
    if not renewed and status not in job_rows.TERMINAL_STATUSES:
        raise LeaseLost(
            f"job {job_id} is no longer held by worker {worker_id} (now: {holder or 'the queue'})"
        )
    return JobStatus(status)


def finish(
    workspace: Workspace,
    job_id: str,
    worker_id: str,
    status: JobStatus,
    error: str | None,
    summary: RunSummary | None = None,
) -> None:
    """End a job the worker holds (with `summary` recorded in the same write); `LeaseLost` when
    another worker has it now."""
    with workspace.database.read() as session:
        _, holder = rows.holder(session, job_id)
    if holder != worker_id:
        raise LeaseLost(f"job {job_id} is no longer held by worker {worker_id}; not recording its outcome")
    summary = summary or RunSummary()
    end_job(workspace, job_id, status, error, summary.params, summary.metrics, summary.tags)


def check_holder(workspace: Workspace, job_id: str, worker_id: str) -> None:
    """`LeaseLost` unless `worker_id` holds the job now (before it stores outputs or logs)."""
    with workspace.database.read() as session:
        status, holder = rows.holder(session, job_id)
    if status is None:
        raise NotFound(f"job {job_id!r} does not exist")
    if holder != worker_id:
        raise LeaseLost(f"job {job_id} is no longer held by worker {worker_id}")


def expire_leases(
    workspace: Workspace, default_retries: int = DEFAULT_RETRIES, *, now: datetime | None = None
) -> list[tuple[str, str]]:
    """Requeue or fail the jobs whose worker stopped renewing; returns (job id, what happened)."""
    with workspace.database.read() as session:
        expired = rows.expired(session, now or datetime.now(UTC))
    outcomes = []
    for job_id, status, worker, attempt, max_retries in expired:
        retries = default_retries if max_retries is None else max_retries
        reason = f"worker {worker} stopped renewing its lease"
        with contextlib.suppress(Conflict):
            if status == JobStatus.CANCEL_REQUESTED.value:
                end_job(workspace, job_id, JobStatus.CANCELED, f"canceled; {reason}")
                outcomes.append((job_id, "canceled"))
            elif attempt <= retries and _requeue(workspace, job_id, worker):
                _keep_attempt_log(workspace, job_id, attempt, reason)
                outcomes.append((job_id, f"requeued (attempt {attempt + 1} of {retries + 1})"))
            else:
                end_job(
                    workspace,
                    job_id,
                    JobStatus.FAILED,
                    f"worker lost: {reason} (attempt {attempt} of {retries + 1})",
                )
                outcomes.append((job_id, "failed"))
    return outcomes


def _requeue(workspace: Workspace, job_id: str, worker: str | None) -> bool:
    def work(session: Session) -> bool:
        requeued = rows.requeue(session, job_id, worker)
        if requeued:
            emit_job_status(session, job_id, JobStatus.QUEUED)
        return requeued

    return workspace.database.write(work)


def _keep_attempt_log(workspace: Workspace, job_id: str, attempt: int, reason: str) -> None:
    """The lost attempt's log stays beside the next one's, with a line saying what happened."""
    log = job_runs.log_path(job_id)
    try:
        previous = workspace.artifacts.get_bytes(log)
    except NotFound:
        previous = b""
    note = f"\n[mlyard] {reason}; the job goes back to the queue\n".encode()
    workspace.artifacts.put_bytes(previous + note, log.replace(".txt", f".attempt-{attempt}.txt"))
    workspace.artifacts.delete(log)


def dispatch_of(workspace: Workspace, job_id: str) -> str | None:
    with workspace.database.read() as session:
        return rows.dispatch_of(session, job_id)


def _named_computes(workspace: Workspace) -> dict[str, str]:
    return {compute.name: compute.type for compute in list_computes(workspace)}


def queued_jobs(workspace: Workspace, job_types: Sequence[str]) -> list[str]:
    """Ids of the queue's waiting jobs of these types, oldest first."""
    with workspace.database.read() as session:
        return [job_id for job_id, _, _ in rows.candidates(session, job_types, 100, skip_locked=False)]
