"""Submitted jobs' life cycle: claim by a runner, heartbeats, cancel requests, outputs, lost runners.

Rules that live here: only a Queued job can be claimed (so no job runs twice); cancelling a
queued job ends it at once, a running one is asked to stop and its runner records Canceled; a
job whose runner died — its process gone, or no heartbeat within `LEASE_SECONDS` — is failed
with that reason, never left Running.
"""

from __future__ import annotations

import contextlib
import os
import socket
from datetime import UTC, datetime
from typing import Any

import psutil
from sqlalchemy.orm import Session

from mlyard.entities.jobs.job import JobOutputInfo, JobStatus
from mlyard.errors import Conflict, NotFound
from mlyard.services.events.job_events import emit_job_status
from mlyard.services.tracking.jobs import end_job, get_job, start_job
from mlyard.services.workspaces import audit
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import job_runs as rows

HEARTBEAT_SECONDS = 5.0
LEASE_SECONDS = 120.0
LOG_PATH = "logs/std_log.txt"  # under jobs/<id>/, as Azure ML names user logs


def this_host() -> str:
    return socket.gethostname()


def job_root(job_id: str) -> str:
    return f"jobs/{job_id}"


def log_path(job_id: str) -> str:
    return f"{job_root(job_id)}/{LOG_PATH}"


def output_path(job_id: str, name: str) -> str:
    return f"{job_root(job_id)}/outputs/{name}"


def get_spec(workspace: Workspace, job_id: str) -> dict[str, Any]:
    with workspace.database.read() as session:
        spec = rows.job_spec(session, job_id)
        exists = spec is not None or rows.job_status(session, job_id) is not None
    if not exists:
        raise NotFound(f"job {job_id!r} does not exist; list jobs with: mlyard job list")
    if spec is None:
        raise Conflict(f"job {job_id} is a tracked run, not a submitted job: it has no spec to run")
    return spec


def is_submitted(workspace: Workspace, job_id: str) -> bool:
    """Whether the job was submitted to run (it has a spec), so its runner records its outcome —
    as opposed to a run a client started and ends itself (`mlyard.start_run`, `mlflow.start_run`)."""
    with workspace.database.read() as session:
        return rows.job_spec(session, job_id) is not None


def claim(workspace: Workspace, job_id: str, pid: int | None = None) -> None:
    """Take a Queued job to run it here; Conflict when it is not queued (taken, ended, canceled)."""
    pid = os.getpid() if pid is None else pid

    def work(session: Session) -> str | None:
        before = rows.claim(session, job_id, pid, this_host(), datetime.now(UTC))
        if before == JobStatus.QUEUED.value:  # this runner took it
            emit_job_status(session, job_id, JobStatus.RUNNING)
        return before

    before = workspace.database.write(work)
    if before is None:
        raise NotFound(f"job {job_id!r} does not exist")
    if before not in (JobStatus.QUEUED.value, JobStatus.NOT_STARTED.value):
        raise Conflict(f"job {job_id} is {before}, not Queued: another runner has it or it ended")


def note_runner(workspace: Workspace, job_id: str, pid: int) -> None:
    """Record the process that will run a queued job, so its death before claiming is noticed."""
    workspace.database.write(lambda session: rows.set_runner(session, job_id, pid, this_host()))


def heartbeat(workspace: Workspace, job_id: str) -> JobStatus:
    """Say the runner is alive; returns the job's status, which tells the runner of a cancel."""
    status = workspace.database.write(lambda session: rows.heartbeat(session, job_id, datetime.now(UTC)))
    if status is None:
        raise NotFound(f"job {job_id!r} does not exist")
    return JobStatus(status)


def status_of(workspace: Workspace, job_id: str) -> JobStatus:
    with workspace.database.read() as session:
        status = rows.job_status(session, job_id)
    if status is None:
        raise NotFound(f"job {job_id!r} does not exist; list jobs with: mlyard job list")
    return JobStatus(status)


def request_cancel(workspace: Workspace, job_id: str) -> JobStatus:
    """Cancel a job: a queued one ends Canceled now, a running one (and its children) is asked to stop.

    Returns the status after the request. Cancelling an ended job is a Conflict.
    """
    waiting = (JobStatus.QUEUED.value, JobStatus.NOT_STARTED.value)

    def work(session: Session) -> str | None:
        before = rows.set_status(session, job_id, JobStatus.CANCEL_REQUESTED.value, rows.ACTIVE_STATUSES)
        for child_id, child_status, _ in rows.children(session, job_id):
            if child_status in rows.ACTIVE_STATUSES:
                rows.set_status(session, child_id, JobStatus.CANCEL_REQUESTED.value, rows.ACTIVE_STATUSES)
        if before is not None and not rows.is_terminal(before):
            audit.record(session, "job.cancel", "job", job_id, f"cancel requested (job was {before})")
            if before in rows.ACTIVE_STATUSES and before != JobStatus.CANCEL_REQUESTED.value:
                emit_job_status(session, job_id, JobStatus.CANCEL_REQUESTED)
        return before

    before = workspace.database.write(work)
    if before is None:
        raise NotFound(f"job {job_id!r} does not exist; list jobs with: mlyard job list")
    if before in waiting:
        with contextlib.suppress(Conflict):  # a runner claimed and ended it meanwhile
            end_job(workspace, job_id, JobStatus.CANCELED, "canceled before it started")
        return status_of(workspace, job_id)
    if rows.is_terminal(before):
        raise Conflict(f"job {job_id} already ended as {before}")
    return JobStatus.CANCEL_REQUESTED


def reap_lost_jobs(workspace: Workspace) -> list[str]:
    """Fail the jobs whose runner is gone; returns their ids.

    On this host a runner's death is seen at once (its process no longer exists); a runner
    elsewhere is presumed dead when its heartbeat is older than `LEASE_SECONDS`.
    """
    now = datetime.now(UTC)
    host = this_host()
    with workspace.database.read() as session:
        held = rows.active_jobs(session)
        queued = rows.launched_queued_jobs(session)
    lost: list[tuple[str, str]] = []
    for job_id, pid, runner_host, beat in [*held, *queued]:
        if pid is not None and runner_host == host and not _alive(pid):
            lost.append((job_id, f"its runner process (pid {pid}) exited without finishing the job"))
        elif beat is not None and (now - beat).total_seconds() > LEASE_SECONDS:
            age = int((now - beat).total_seconds())
            lost.append((job_id, f"its runner on {runner_host} sent no heartbeat for {age} s"))
    reaped = []
    for job_id, reason in lost:
        try:
            end_job(workspace, job_id, JobStatus.FAILED, f"runner lost: {reason}")
        except Conflict:
            continue  # it ended meanwhile
        reaped.append(job_id)
    return reaped


def _alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return True  # exists but not ours to inspect


def children(workspace: Workspace, job_id: str) -> list[tuple[str, JobStatus, str | None]]:
    """(id, status, display name) of a pipeline's steps or a sweep's trials, oldest first."""
    with workspace.database.read() as session:
        found = rows.children(session, job_id)
    return [(child_id, JobStatus(status), name) for child_id, status, name in found]


# --- outputs and reuse -------------------------------------------------------------------------


def record_output(workspace: Workspace, job_id: str, output: JobOutputInfo) -> None:
    workspace.database.write(lambda session: rows.insert_output(session, job_id, output))


def job_outputs(workspace: Workspace, job_id: str) -> list[JobOutputInfo]:
    with workspace.database.read() as session:
        return rows.outputs(session, job_id)


def job_output(workspace: Workspace, job_id: str, name: str) -> JobOutputInfo:
    found = {output.name: output for output in job_outputs(workspace, job_id)}
    if name not in found:
        declared = ", ".join(sorted(found)) or "none"
        raise NotFound(f"job {job_id} has no output {name!r} (outputs: {declared})")
    return found[name]


def find_reusable(workspace: Workspace, reuse_key: str) -> str | None:
    with workspace.database.read() as session:
        return rows.latest_reusable(session, reuse_key)


def set_reuse(workspace: Workspace, job_id: str, reuse_key: str | None, reused_from: str | None) -> None:
    workspace.database.write(lambda session: rows.set_reuse(session, job_id, reuse_key, reused_from))


def set_code(workspace: Workspace, job_id: str, code: dict[str, Any]) -> None:
    workspace.database.write(lambda session: rows.set_code(session, job_id, code))


def record_reused_job(
    workspace: Workspace,
    parent_job_id: str,
    display_name: str,
    spec: dict[str, Any],
    reuse_key: str,
    reused_from: str,
    tags: dict[str, str] | None = None,
    job_type: str = "command",
) -> str:
    """A pipeline step satisfied by an earlier identical run: Completed at once, its outputs shared."""
    parent = get_job(workspace, parent_job_id)
    job = start_job(
        workspace,
        experiment=parent.experiment,
        display_name=display_name,
        tags=tags,
        job_type=job_type,
        parent_job_id=parent_job_id,
        status=JobStatus.QUEUED,
        spec=spec,
    )

    def work(session: Session) -> None:
        now = datetime.now(UTC)
        rows.claim(session, job.id, os.getpid(), this_host(), now)
        rows.set_reuse(session, job.id, reuse_key, reused_from)
        rows.copy_outputs(session, reused_from, job.id)

    workspace.database.write(work)
    end_job(workspace, job.id, JobStatus.COMPLETED)
    return job.id
