"""The team server's background work, started with the app and stopped with it.

leases        every LEASE_CHECK_SECONDS: jobs of silent workers go back to the queue or fail;
              jobs of dead local runners fail (`job_runs.reap_lost_jobs`)
orchestrators pipeline, sweep and parallel jobs in the queue run here, in threads: they only
              decide and wait, their steps, trials and mini-batches go to the queue for workers;
              batch scoring jobs too, with their scoring workers as processes of this machine
              (or actors on Ray compute)
workers       `workers` embedded worker slots per workspace run queued command jobs on this
              machine (0: only workers started with `mlyard worker start`)
uploads       abandoned uploads are removed after a day
endpoints     the supervisor runs every online deployment's instances and keeps the gateway's routing
              table (serving/supervisor.py); `server.json` in each workspace folder says where
scheduler     every SCHEDULER_SECONDS: due timer schedules fire (once, claimed in the database), and
              pending firings — of timers, `schedule trigger` and event triggers — become queued jobs
events        new events fan out to subscriptions and event triggers, due deliveries are sent
              (webhooks in a thread pool, email), as soon as this process commits an event or
              every EVENTS_POLL_SECONDS for events other processes commit; old events are purged
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlyard.entities.jobs.job import JobStatus
from mlyard.errors import Conflict, MlyardError
from mlyard.runtime.child_jobs import wait_for_queued
from mlyard.runtime.worker import LocalJobSource, Worker, new_worker_id
from mlyard.server.uploads import Uploads
from mlyard.server.workspaces import ServedWorkspaces
from mlyard.services.execution import job_runs, queue
from mlyard.services.workspaces.server_file import (
    ServerRecord,
    local_token,
    remove_server_file,
    write_server_file,
)
from mlyard.services.workspaces.workspace import Workspace
from mlyard.serving.gateway import Gateway
from mlyard.serving.supervisor import Supervisor

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from mlyard.services.events.senders import Senders

logger = logging.getLogger("mlyard.server")
LEASE_CHECK_SECONDS = 2.0
DISPATCH_SECONDS = 0.5
JANITOR_SECONDS = 3600.0
SCHEDULER_SECONDS = 0.5
EVENTS_POLL_SECONDS = 0.2
PURGE_SECONDS = 3600.0
DELIVERY_THREADS = 8


@dataclass
class BackgroundSettings:
    workers: int = 1
    lease_seconds: float = queue.DEFAULT_LEASE_SECONDS
    job_retries: int = queue.DEFAULT_RETRIES


class Background:
    def __init__(
        self,
        workspaces: ServedWorkspaces,
        uploads: Uploads,
        settings: BackgroundSettings,
        gateway: Gateway | None = None,
        url: str | None = None,
        local_secret: bytes = b"",
    ) -> None:
        self.workspaces = workspaces
        self.uploads = uploads
        self.settings = settings
        self.gateway, self.url, self.local_secret = gateway, url, local_secret
        self.supervisor: Supervisor | None = None
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self._orchestrating: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        self._spawn("mlyard-leases", self._lease_loop)
        self._spawn("mlyard-orchestrators", self._dispatch_loop)
        self._spawn("mlyard-uploads", self._janitor_loop)
        self._spawn("mlyard-scheduler", self._scheduler_loop)
        self._spawn("mlyard-events", self._events_loop)
        for name in self.workspaces.names():
            if self.settings.workers > 0:
                # The server's own worker takes Ray jobs too (on a local Ray instance): a job that
                # names `compute: ray` must not wait forever for a Ray worker nobody started.
                worker = Worker(
                    LocalJobSource(self.workspaces.open(name), self.settings.lease_seconds),
                    new_worker_id(f"server-{name}"), kinds=("local", "ray"), slots=self.settings.workers,
                )  # fmt: skip
                self._spawn(f"mlyard-worker-{name}", functools.partial(worker.run, self.stop_event))
        if self.gateway is not None:
            self._start_endpoints(self.gateway)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop claiming; wait for running jobs (up to `timeout`), whose leases otherwise expire."""
        self.stop_event.set()
        if self.supervisor is not None:
            self.supervisor.stop()
            for name in self.workspaces.names():
                remove_server_file(self.workspaces.open(name).path, os.getpid())
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _start_endpoints(self, gateway: Gateway) -> None:
        """The online endpoints' supervisor, and `server.json` where local clients look for the gateway."""
        from mlyard.runtime.environments import prepare_environment
        from mlyard.server.mlflow import default_workspace

        default = default_workspace(self.workspaces.locations)
        served = {name: self.workspaces.open(name) for name in self.workspaces.names()}
        self.supervisor = Supervisor(
            served, gateway, lambda ws, env, log: prepare_environment(ws, env, log).python, default
        )
        self.supervisor.start()
        if self.url is None:
            return
        for name, workspace in served.items():
            prefix = "/endpoints" if name == default else f"/workspaces/{name}/endpoints"
            token = local_token(self.local_secret, name)
            record = ServerRecord(self.url, os.getpid(), socket.gethostname(), name, prefix, token)
            write_server_file(workspace.path, record)

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self.threads = [t for t in self.threads if t.is_alive()] + [thread]

    def _each_workspace(self, what: str, work: Callable[[str, Workspace], None]) -> None:
        for name in self.workspaces.names():
            try:
                work(name, self.workspaces.open(name))
            except MlyardError as exc:
                logger.warning("%s in workspace %r: %s", what, name, exc.message)
            except Exception:  # a loop must survive one bad round
                logger.exception("%s in workspace %r failed", what, name)

    def _lease_loop(self) -> None:
        while not self.stop_event.wait(LEASE_CHECK_SECONDS):
            self._each_workspace("checking leases", self._check_leases)

    def _check_leases(self, name: str, workspace: Workspace) -> None:
        for job_id, outcome in queue.expire_leases(workspace, self.settings.job_retries):
            logger.warning(
                "workspace %r: job %s %s: its worker stopped renewing its lease", name, job_id, outcome
            )
        job_runs.reap_lost_jobs(workspace)

    def _dispatch_loop(self) -> None:
        while not self.stop_event.is_set():
            self._each_workspace("dispatching pipelines", self._dispatch)
            wait_for_queued(DISPATCH_SECONDS)

    def _dispatch(self, name: str, workspace: Workspace) -> None:
        for job_id in queue.queued_jobs(workspace, queue.ORCHESTRATOR_TYPES):
            with self._lock:
                if (name, job_id) in self._orchestrating:
                    continue
                self._orchestrating.add((name, job_id))
            self._spawn(
                f"mlyard-orchestrate-{job_id}",
                functools.partial(self._orchestrate, name, workspace, job_id),
            )

    def _orchestrate(self, name: str, workspace: Workspace, job_id: str) -> None:
        from mlyard.runtime.launch import run_job
        from mlyard.services.tracking.jobs import end_job

        try:
            run_job(workspace, job_id)
        except Conflict:
            pass  # another server claimed it first
        except Exception as exc:  # the job must not stay Running: record why it ended
            logger.exception("job %s failed in the server", job_id)
            with contextlib.suppress(MlyardError):
                end_job(workspace, job_id, JobStatus.FAILED, f"runner error: {exc!r}")
        finally:
            with self._lock:
                self._orchestrating.discard((name, job_id))

    def _janitor_loop(self) -> None:
        while not self.stop_event.wait(JANITOR_SECONDS):
            removed = self.uploads.remove_stale()
            if removed:
                logger.info("removed %d abandoned uploads", removed)

    def _scheduler_loop(self) -> None:
        while not self.stop_event.wait(SCHEDULER_SECONDS):
            self._each_workspace("firing schedules", self._fire_schedules)

    def _fire_schedules(self, name: str, workspace: Workspace) -> None:
        from mlyard.entities.jobs.job import QUEUE
        from mlyard.runtime.child_jobs import notify_queued
        from mlyard.services.schedules import firing

        firing.fire_due(workspace)
        for fired in firing.run_pending(workspace, dispatch=QUEUE):
            if fired.job is not None:
                notify_queued()
                logger.info(
                    "workspace %r: schedule %s created job %s", name, fired.firing.schedule, fired.job.id
                )
            else:
                logger.warning(
                    "workspace %r: schedule %s: %s", name, fired.firing.schedule, fired.firing.error
                )

    def _events_loop(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from mlyard.services.events.outbox import wait_for_events
        from mlyard.services.events.senders import Senders

        senders = Senders()
        last_purge = 0.0
        with ThreadPoolExecutor(DELIVERY_THREADS, thread_name_prefix="mlyard-delivery") as pool:
            while not self.stop_event.is_set():
                purge = time.monotonic() - last_purge > PURGE_SECONDS
                if purge:
                    last_purge = time.monotonic()
                work = functools.partial(self._deliver_events, senders, pool, purge)
                self._each_workspace("delivering events", work)
                wait_for_events(EVENTS_POLL_SECONDS)
        senders.close()

    def _deliver_events(
        self, senders: Senders, pool: ThreadPoolExecutor, purge: bool, name: str, workspace: Workspace
    ) -> None:
        from mlyard.services.events import dispatch
        from mlyard.services.schedules.triggers import dispatch_events

        while dispatch_events(workspace) and not self.stop_event.is_set():
            pass
        while dispatch.deliver_due(workspace, senders, pool) and not self.stop_event.is_set():
            pass
        if purge:
            removed = dispatch.purge(workspace)
            if removed:
                logger.info("workspace %r: removed %d events past their retention", name, removed)
