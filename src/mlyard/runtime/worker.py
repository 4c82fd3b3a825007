"""Workers: claim queued jobs and run them, one per slot, renewing each job's lease while it runs.

    source = LocalJobSource(workspace)            # the team server's own worker (direct database)
    source = RemoteJobSource(session)             # `mlyard worker start --server URL` elsewhere
    Worker(source, slots=2).run(stop_event)

A job's process is the command runner's as everywhere else; what differs is the host it reports
to. Losing the lease (the server gave the job to another worker after this one went silent)
stops the job's process at once and records nothing: the job belongs to someone else now.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Collection
from typing import Any, Protocol

from mlyard.entities.jobs.job import JobStatus, RunSummary
from mlyard.entities.jobs.job_spec import ResolvedCommandJob
from mlyard.errors import LeaseLost, MlyardError, PermissionDenied
from mlyard.runtime.child_jobs import wait_for_queued
from mlyard.runtime.command_runner import run_command_job
from mlyard.runtime.job_host import JobHost, LocalJobHost
from mlyard.runtime.job_log import RunResult
from mlyard.services.execution import queue
from mlyard.services.execution.queue import ClaimedJob
from mlyard.services.workspaces.workspace import Workspace

logger = logging.getLogger("mlyard.worker")
IDLE_WAIT_SECONDS = 1.0


def lease_heartbeat(lease_seconds: float) -> float:
    """How often a lease is renewed: thrice per lease (a late renewal or two is survived), at
    most every 5 s."""
    return min(lease_seconds / 3, 5.0)


def new_worker_id(kind: str = "worker") -> str:
    return f"{kind}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class JobSource(Protocol):
    """Where a worker gets jobs from, and the host each claimed job reports to."""

    def claim(self, worker_id: str, computes: Collection[str], wait_seconds: float) -> ClaimedJob | None: ...

    def host_for(self, claimed: ClaimedJob, worker_id: str) -> JobHost: ...


class LocalJobSource:
    """The queue of a workspace this process opens."""

    def __init__(self, workspace: Workspace, lease_seconds: float = queue.DEFAULT_LEASE_SECONDS) -> None:
        self.workspace = workspace
        self.lease_seconds = lease_seconds

    def claim(self, worker_id: str, computes: Collection[str], wait_seconds: float) -> ClaimedJob | None:
        claimed = queue.claim_next(
            self.workspace, worker_id, socket.gethostname(), queue.COMMAND_TYPES, computes, self.lease_seconds
        )
        if claimed is None and wait_seconds > 0:
            wait_for_queued(wait_seconds)  # woken as soon as this process queues a job
        return claimed

    def host_for(self, claimed: ClaimedJob, worker_id: str) -> JobHost:
        return LeasedJobHost(self.workspace, worker_id, claimed.lease_seconds)


class LeasedJobHost(LocalJobHost):
    """A workspace job held under a lease: heartbeats renew it, the outcome needs it."""

    guards_processes = True  # see runtime/process_guard.py

    def __init__(self, workspace: Workspace, worker_id: str, lease_seconds: float) -> None:
        super().__init__(workspace)
        self.worker_id = worker_id
        self.lease_seconds = lease_seconds
        self.heartbeat_seconds = lease_heartbeat(lease_seconds)

    def claim(self, job_id: str) -> None:  # claimed from the queue already
        return None

    def check(self, job_id: str, heartbeat: bool) -> JobStatus:
        if not heartbeat:
            return super().check(job_id, heartbeat=False)  # a read: cancels show at once
        try:
            return queue.renew_lease(self.workspace, job_id, self.worker_id, self.lease_seconds)
        except LeaseLost:
            return JobStatus.CANCELED  # stop the process; the job is another worker's now

    def end(
        self, job_id: str, status: JobStatus, error: str | None, summary: RunSummary | None = None
    ) -> None:
        queue.finish(self.workspace, job_id, self.worker_id, status, error, summary)

    def describe(self) -> dict[str, Any]:
        workspace = self.workspace
        arguments = {
            "path": str(workspace.path), "db": workspace.db_url, "artifacts": workspace.artifacts.root_url,
            "worker_id": self.worker_id, "lease_seconds": self.lease_seconds,
        }  # fmt: skip
        return {"factory": "mlyard.runtime.worker.leased_host", "arguments": arguments}


def leased_host(path: str, db: str, artifacts: str, worker_id: str, lease_seconds: float) -> LeasedJobHost:
    """A `LeasedJobHost` rebuilt on a Ray node (a node beyond this machine needs PostgreSQL and an
    artifact store it reaches, as for the Ray executor)."""
    from pathlib import Path

    from mlyard.services.workspaces.workspace import CONFIG_FILE, open_workspace

    if (Path(path) / CONFIG_FILE).is_file():
        workspace = open_workspace(path, create=False)
    else:
        workspace = open_workspace(path, db=db, artifacts=artifacts)
    return LeasedJobHost(workspace, worker_id, lease_seconds)


class Worker:
    """Runs claimed command jobs until `stop` is set; `slots` jobs at once."""

    def __init__(
        self,
        source: JobSource,
        worker_id: str | None = None,
        kinds: Collection[str] = ("local",),
        slots: int = 1,
        ray_address: str | None = None,
    ) -> None:
        """`kinds` are the computes it takes jobs of: `local` jobs run as processes here, `ray`
        jobs as tasks on the Ray cluster at `ray_address` (a local instance when None)."""
        unknown = set(kinds) - {"local", "ray"}
        if unknown or not kinds:
            raise MlyardError(f"a worker's computes are local and/or ray, not {sorted(unknown) or 'none'}")
        self.source = source
        self.worker_id = worker_id or new_worker_id()
        self.kinds = tuple(kinds)
        self.slots = max(1, slots)
        self.ray_address = ray_address
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._busy = 0  # slots running a job now
        self._busy_lock = threading.Lock()

    def run(self, stop: threading.Event) -> None:
        """Claim and run jobs until `stop` is set and the running ones have finished."""
        self.start(stop)
        self.join()

    def start(self, stop: threading.Event) -> None:
        self._stop = stop
        self._threads = [
            threading.Thread(
                target=self._slot, args=(stop, index), name=f"{self.worker_id}-{index}", daemon=True
            )
            for index in range(self.slots)
        ]
        for thread in self._threads:
            thread.start()

    def join(self) -> None:
        """Wait until every slot stopped — or, once stopping, until no job runs: an idle slot in
        the middle of a claim's long poll has nothing to finish (its thread is a daemon)."""
        while any(thread.is_alive() for thread in self._threads):
            if self._stop.is_set() and self._busy == 0:
                return
            time.sleep(0.1)  # in slices, so Ctrl-C reaches the main thread

    def _slot(self, stop: threading.Event, index: int) -> None:
        while not stop.is_set():
            try:
                claimed = self.source.claim(self.worker_id, self.kinds, IDLE_WAIT_SECONDS)
            except PermissionDenied as exc:  # a revoked key, say: retrying cannot help
                logger.error("worker %s stops: %s", self.worker_id, exc.message)
                stop.set()
                return
            except MlyardError as exc:
                logger.warning("worker %s could not claim a job: %s", self.worker_id, exc.message)
                stop.wait(IDLE_WAIT_SECONDS)
                continue
            if claimed is None:
                continue
            with self._busy_lock:
                self._busy += 1
            try:
                self.run_claimed(claimed)
            except MlyardError as exc:  # the server went away mid-job, say: its lease decides now
                logger.warning(
                    "worker %s could not finish job %s: %s", self.worker_id, claimed.job_id, exc.message
                )
                stop.wait(IDLE_WAIT_SECONDS)
            finally:
                with self._busy_lock:
                    self._busy -= 1

    def run_claimed(self, claimed: ClaimedJob) -> RunResult:
        host = self.source.host_for(claimed, self.worker_id)
        job = ResolvedCommandJob.model_validate(claimed.spec)
        logger.info("worker %s runs job %s (attempt %d)", self.worker_id, claimed.job_id, claimed.attempt)
        try:
            if claimed.compute_kind == "ray":
                return _run_on_ray(host, claimed.job_id, job, self.ray_address)
            return run_command_job(host, claimed.job_id, job, claim=False)
        except LeaseLost as exc:
            logger.warning("worker %s lost job %s: %s", self.worker_id, claimed.job_id, exc.message)
            return RunResult(JobStatus.CANCELED, exc.message)


def _run_on_ray(host: JobHost, job_id: str, job: ResolvedCommandJob, address: str | None) -> RunResult:
    """Run the job as a Ray task on the cluster: the task reports to a host of the same kind."""
    import ray

    from mlyard.runtime.executors import connect_ray

    connect_ray(address)
    description = describe_host(host)
    resources = job.resources or {}
    task = ray.remote(max_retries=0)(_run_on_node).options(num_cpus=float(resources.get("cpu", 1)))
    status, error, code = ray.get(task.remote(description, job_id, job.model_dump(mode="json")))
    return RunResult(JobStatus(status), error, code)


def describe_host(host: JobHost) -> dict[str, Any]:
    """What a Ray task needs to rebuild `host` on another node."""
    described = host.describe()
    if described is None:
        raise MlyardError(f"{type(host).__name__} cannot be sent to a Ray node")
    return described


def _run_on_node(
    description: dict[str, Any], job_id: str, job: dict[str, Any]
) -> tuple[str, str | None, int | None]:
    from importlib import import_module

    module, _, name = description["factory"].rpartition(".")
    host = getattr(import_module(module), name)(**description["arguments"])
    result = run_command_job(host, job_id, ResolvedCommandJob.model_validate(job), claim=False)
    return result.status.value, result.error, result.exit_code
