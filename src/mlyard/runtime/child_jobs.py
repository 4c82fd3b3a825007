"""What every job with children shares: starting a child command job, watching for cancels, stopping children.

Pipelines (steps), sweeps (trials) and parallel jobs (mini-batches) all run their children as
command jobs through an executor, heartbeat while they wait, and stop their children when they
are canceled or give up.
"""

from __future__ import annotations

import threading
import time

from mlyard.entities.jobs.job import QUEUE, JobStatus
from mlyard.entities.jobs.job_spec import ResolvedCommandJob
from mlyard.entities.jobs.parallel_spec import ResolvedParallelJob
from mlyard.errors import Conflict
from mlyard.runtime.executors import executor_for
from mlyard.runtime.job_log import RunResult
from mlyard.services.execution import job_runs, queue
from mlyard.services.submission.references import queue_job
from mlyard.services.submission.snapshots import snapshot_local_paths
from mlyard.services.workspaces.workspace import Workspace

CHECK_SECONDS = 0.5


def start_child(
    workspace: Workspace,
    parent_id: str,
    experiment: str,
    job: ResolvedCommandJob | ResolvedParallelJob,
    display_name: str,
    tags: dict[str, str] | None = None,
) -> str:
    """Record a Queued child job of `parent_id` (a command job, or a pipeline's parallel step);
    returns its id.

    The child of a job the team server's queue dispatched goes to the queue too, for any worker:
    its local inputs (a mini-batch's folder, say) are stored with it (services/snapshots).
    """
    dispatch = queue.dispatch_of(workspace, parent_id)
    spec = job.model_dump(mode="json")
    if dispatch == QUEUE:
        spec = snapshot_local_paths(workspace, spec)
    job_type = "parallel" if isinstance(job, ResolvedParallelJob) else "command"
    child = queue_job(workspace, spec, job_type, experiment, display_name, tags, parent_id, dispatch)
    if dispatch == QUEUE:
        notify_queued()
    return child.id


def run_child(
    workspace: Workspace, child_id: str, job: ResolvedCommandJob, default_compute: str | None
) -> RunResult:
    """Run a queued child to its end on its compute (the job's own, else the parent's); a child in
    the team server's queue is run by a worker, and this waits for it."""
    if queue.dispatch_of(workspace, child_id) == QUEUE:
        return wait_for_end(workspace, child_id)
    return executor_for(workspace, job.compute or default_compute).run(workspace, child_id, job)


def wait_for_end(workspace: Workspace, job_id: str) -> RunResult:
    """Poll a job a worker runs until it ends (quickly at first: most steps are short)."""
    started = time.monotonic()
    while True:
        status = job_runs.status_of(workspace, job_id)
        if status.is_terminal:
            from mlyard.services.tracking.jobs import get_job

            return RunResult(status, get_job(workspace, job_id).error)
        time.sleep(0.02 if time.monotonic() - started < 2 else CHECK_SECONDS)


_queued = threading.Condition()


def notify_queued() -> None:
    """Wake this process's workers: a job was just queued (they look every second otherwise)."""
    with _queued:
        _queued.notify_all()


def wait_for_queued(seconds: float) -> None:
    with _queued:
        _queued.wait(seconds)


def cancel_children(workspace: Workspace, parent_id: str) -> None:
    """Ask every child of `parent_id` that has not ended to stop."""
    for child_id, status, _ in job_runs.children(workspace, parent_id):
        if not status.is_terminal:
            try:
                job_runs.request_cancel(workspace, child_id)
            except Conflict:
                continue  # it ended meanwhile


class CancelWatch:
    """Polls the parent's status (and heartbeats) at most every `CHECK_SECONDS`; says when to stop."""

    def __init__(self, workspace: Workspace, job_id: str) -> None:
        self.workspace = workspace
        self.job_id = job_id
        self._last_check = time.monotonic()
        self._last_beat = self._last_check
        self.canceled = False

    def check(self) -> bool:
        """True once a cancel was requested (or the job was ended from outside)."""
        now = time.monotonic()
        if self.canceled or now - self._last_check < CHECK_SECONDS:
            return self.canceled
        self._last_check = now
        if now - self._last_beat >= job_runs.HEARTBEAT_SECONDS:
            status = job_runs.heartbeat(self.workspace, self.job_id)
            self._last_beat = now
        else:
            status = job_runs.status_of(self.workspace, self.job_id)
        self.canceled = status == JobStatus.CANCEL_REQUESTED or status.is_terminal
        return self.canceled
