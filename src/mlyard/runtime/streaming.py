"""Following a job as it runs: its log as it grows, until it ends (`job stream`, `--stream`, `wait`)."""

from __future__ import annotations

import time
from collections.abc import Callable

from mlyard.entities.jobs.job import Job, JobStatus
from mlyard.errors import JobNotCompleted, NotFound
from mlyard.services.execution import job_runs
from mlyard.services.tracking.jobs import get_job
from mlyard.services.workspaces.workspace import Workspace

# Quick polls at first, so a short job is reported done at once; slower ones after a while.
FIRST_POLL_SECONDS = 0.05
POLL_SECONDS = 0.3
QUICK_POLLING_SECONDS = 5.0
REAP_EVERY_SECONDS = 2.0


def read_log(workspace: Workspace, job_id: str, offset: int = 0) -> bytes:
    """The job's log from byte `offset` on (empty while nothing was written)."""
    path = job_runs.log_path(job_id)
    local = workspace.artifacts.local_path(path)
    if local is not None:
        try:
            with open(local, "rb") as file:
                file.seek(offset)
                return file.read()
        except FileNotFoundError:
            return b""
    try:
        return workspace.artifacts.get_bytes(path)[offset:]
    except NotFound:
        return b""


def follow(
    workspace: Workspace,
    job_id: str,
    write: Callable[[str], None] | None = None,
    timeout: float | None = None,
) -> Job:
    """Wait for the job to end, passing each new piece of its log to `write`; returns the ended job.

    A job whose runner dies meanwhile is failed by `reap_lost_jobs`, so this never waits forever
    on a dead job. `timeout` (seconds) raises TimeoutError while the job goes on.
    """
    started = time.monotonic()
    deadline = None if timeout is None else started + timeout
    offset = 0
    last_reap = 0.0
    while True:
        now = time.monotonic()
        if now - last_reap >= REAP_EVERY_SECONDS:
            job_runs.reap_lost_jobs(workspace)
            last_reap = now
        status = job_runs.status_of(workspace, job_id)
        chunk = read_log(workspace, job_id, offset)
        if chunk and write is not None:
            write(chunk.decode("utf-8", errors="replace"))
        offset += len(chunk)
        if status.is_terminal:
            # The runner stores the log's last part right before it ends the job.
            rest = read_log(workspace, job_id, offset)
            if rest and write is not None:
                write(rest.decode("utf-8", errors="replace"))
            return get_job(workspace, job_id)
        if deadline is not None and now > deadline:
            raise TimeoutError(f"job {job_id} is still {status.value} after {timeout} s")
        time.sleep(FIRST_POLL_SECONDS if now - started < QUICK_POLLING_SECONDS else POLL_SECONDS)


def require_completed(job: Job) -> Job:
    """The job, or `JobNotCompleted` saying how it ended (for exit codes CI can trust)."""
    if job.status != JobStatus.COMPLETED:
        reason = f": {job.error}" if job.error else ""
        raise JobNotCompleted(f"job {job.id} ended {job.status.value}{reason}")
    return job
