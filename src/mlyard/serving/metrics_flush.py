"""The gateway's counts persisted off the request path: a task on the server's event loop that,
every `FLUSH_SECONDS`, takes what each second of every deployment's window counted since its
last flush, as per-minute records (on the loop, where the windows are written: no lock on the
request path), and adds them to each workspace's history in a thread
(services/online/endpoint_metrics_history). A write that fails is retried whole at the next
flush (the window keeps 15 minutes of seconds); the server's shutdown flushes what is left. The
same task prunes minutes past each workspace's `endpoint_metrics_retention_days`, at start and
every `PRUNE_SECONDS`.

Several server processes serving one workspace each flush what they counted; the minutes add up.
A process killed without its shutdown loses at most its last `FLUSH_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime
from typing import Protocol

from mlyard.entities.endpoints.endpoint import EndpointMetrics
from mlyard.errors import MlyardError
from mlyard.services.online import endpoint_metrics_history as history
from mlyard.services.workspaces.workspace import Workspace
from mlyard.serving.gateway_metrics import GatewayMetrics, PendingFlush

logger = logging.getLogger("mlyard.server")
FLUSH_SECONDS = 10.0
PRUNE_SECONDS = 3600.0


class Workspaces(Protocol):
    def names(self) -> list[str]: ...
    def open(self, name: str) -> Workspace: ...


class MetricsFlusher:
    def __init__(
        self,
        metrics: GatewayMetrics,
        workspaces: Workspaces,
        interval: float = FLUSH_SECONDS,
        prune_interval: float = PRUNE_SECONDS,
    ) -> None:
        self.metrics, self.workspaces = metrics, workspaces
        self.interval, self.prune_interval = interval, prune_interval
        self._last_prune = float("-inf")

    async def run(self) -> None:
        """Flush (and prune when due) until cancelled."""
        while True:
            if time.monotonic() - self._last_prune >= self.prune_interval:
                self._last_prune = time.monotonic()
                await asyncio.to_thread(self.prune)
            await asyncio.sleep(self.interval)
            await self.flush()

    async def flush(self) -> int:
        """Persist what every second counted since its last flush; how many per-minute records were
        written. A second flushed while it runs is flushed again later for what it adds."""
        async with self.metrics.flush_lock:
            pending = self.metrics.unflushed(int(time.monotonic()))
            written = await asyncio.to_thread(self._write, pending)
            for workspace in written:
                pending.done(workspace)
        return sum(len(pending.minutes.get(name, ())) for name in written)

    async def stop(self, task: asyncio.Task[None]) -> None:
        """Cancel the loop `task`, then flush what is left."""
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        try:
            await self.flush()
        except Exception:  # shutting down: say so, never hang the shutdown on a database
            logger.exception("the last flush of the gateway's metrics failed")

    def prune(self) -> None:
        for name in self.workspaces.names():
            try:
                removed = history.prune(self.workspaces.open(name))
            except MlyardError as exc:
                logger.warning("pruning endpoint metrics of workspace %r: %s", name, exc.message)
                continue
            except Exception:  # the loop must survive one bad round
                logger.exception("pruning endpoint metrics of workspace %r failed", name)
                continue
            if removed:
                logger.info("workspace %r: removed %d minutes of endpoint metrics", name, removed)

    def _write(self, pending: PendingFlush) -> list[str]:
        """The workspaces whose records are now persisted (or that had none)."""
        written = []
        for name in pending.snapshots:
            minutes = pending.minutes.get(name)
            try:
                if minutes:
                    history.record_minutes(self.workspaces.open(name), minutes)
            except MlyardError as exc:  # kept in memory and retried with the next flush
                logger.warning("flushing endpoint metrics of workspace %r: %s", name, exc.message)
                continue
            except Exception:
                logger.exception("flushing endpoint metrics of workspace %r failed", name)
                continue
            written.append(name)
        return written


async def persisted_and_live(
    metrics: GatewayMetrics,
    workspace: Workspace,
    workspace_name: str,
    endpoint: str,
    start: datetime,
    deployment: str | None = None,
) -> EndpointMetrics:
    """`endpoint`'s persisted minutes since `start` plus what this process has not flushed yet."""
    async with metrics.flush_lock:
        live = metrics.live_minutes(workspace_name, endpoint, deployment)
        return await asyncio.to_thread(
            history.endpoint_history, workspace, endpoint, start, None, deployment, live
        )
