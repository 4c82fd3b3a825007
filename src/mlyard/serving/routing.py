"""The gateway's routing table: endpoints → deployments → ready instances, kept in memory.

The supervisor builds it from the database and the instances it runs, and swaps in a new table
whenever anything changes (a traffic split, a key, an instance that became ready or died); the
gateway reads the current one per request — dict lookups, nothing else. Objects that carry state
across swaps (an instance's in-flight count and connection pool, a deployment's queue of waiting
requests) are reused by the next table, so a swap loses nothing that is in flight.

Threads: the supervisor thread creates and replaces these objects; only the event loop's thread
touches in-flight counts, waiters and pools (`call_soon_threadsafe` for anything else).
"""

from __future__ import annotations

import asyncio
import bisect
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlyard.errors import NotReady, TooManyRequests
from mlyard.serving.upstream import UpstreamPool


class InstanceRoute:
    """One instance process as the gateway sees it: where it listens and how busy it is."""

    __slots__ = ("key", "pool", "in_flight", "broken", "owner")

    def __init__(self, key: str, uds: str, owner: DeploymentRoute) -> None:
        self.key = key
        self.pool = UpstreamPool(uds=uds)
        self.in_flight = 0
        self.broken = False  # could not be reached; skipped until a probe finds it well again
        self.owner = owner  # the deployment whose slots it counts against


@dataclass(frozen=True)
class Limits:
    """A deployment's request_settings, in the units the hot path uses."""

    max_concurrent: int = 1
    queue_wait_seconds: float = 0.5
    timeout_seconds: float = 5.0


class DeploymentRoute:
    """One deployment: its ready instances, its limits, and the requests waiting for a free slot."""

    def __init__(self, workspace: str, endpoint: str, name: str) -> None:
        self.workspace, self.endpoint, self.name = workspace, endpoint, name
        self.name_header = name.encode()
        self.instances: tuple[InstanceRoute, ...] = ()
        self.limits = Limits()
        self.state = "Creating"  # what the database says, for the 503 message
        self.collector: Any = None  # a DataCollector when the deployment collects inputs/outputs
        self.sampling_rate = 0.0
        self.stats: Any = None  # the deployment's metrics (serving.gateway_metrics.DeploymentStats)
        self.waiters: deque[asyncio.Future[InstanceRoute]] = deque()
        self._turn = 0

    def try_acquire(self) -> InstanceRoute | None:
        """The least busy reachable instance with a free slot (its slot taken), or None."""
        instances = self.instances
        count = len(instances)
        if count == 0:
            return None
        self._turn = (self._turn + 1) % count
        best: InstanceRoute | None = None
        limit = self.limits.max_concurrent
        for offset in range(count):
            instance = instances[(self._turn + offset) % count]
            free = instance.in_flight < limit and not instance.broken
            if free and (best is None or instance.in_flight < best.in_flight):
                best = instance
                if instance.in_flight == 0:
                    break
        if best is None and all(instance.broken for instance in instances):
            best = min(instances, key=lambda instance: instance.in_flight)  # try anyway: it may be back
            if best.in_flight >= limit:
                return None
        if best is not None:
            best.in_flight += 1
        return best

    async def acquire(self) -> InstanceRoute:
        """A slot on an instance, waiting up to max_queue_wait_ms; 429 past it, 503 with no instance."""
        instance = self.try_acquire()
        if instance is not None:
            return instance
        if not self.instances:
            raise self.not_ready()
        wait = self.limits.queue_wait_seconds
        if wait <= 0:
            raise self.too_many()
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[InstanceRoute] = loop.create_future()
        self.waiters.append(waiter)
        timer = loop.call_later(wait, self._expire, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()

    def release(self, instance: InstanceRoute) -> None:
        """Give the slot back, and hand a free slot to the first request still waiting."""
        instance.in_flight -= 1
        self.wake()

    def wake(self) -> None:
        while self.waiters:
            waiter = self.waiters[0]
            if waiter.done():
                self.waiters.popleft()
                continue
            instance = self.try_acquire()
            if instance is None:
                return
            self.waiters.popleft()
            waiter.set_result(instance)

    def _expire(self, waiter: asyncio.Future[InstanceRoute]) -> None:
        if not waiter.done():
            waiter.set_exception(self.too_many())

    def too_many(self) -> TooManyRequests:
        limits = self.limits
        return TooManyRequests(
            f"deployment {self.name!r} is at its limit: {len(self.instances)} instance(s) × "
            f"max_concurrent_requests_per_instance {limits.max_concurrent} busy, and no slot freed within "
            f"max_queue_wait_ms ({limits.queue_wait_seconds * 1000:.0f} ms); retry later, or raise "
            "instance_count / max_concurrent_requests_per_instance"
        )

    def not_ready(self) -> NotReady:
        return NotReady(
            f"deployment {self.name!r} of endpoint {self.endpoint!r} has no ready instance (state "
            f"{self.state}); see: mlyard online-deployment get-logs --name {self.name} "
            f"--endpoint-name {self.endpoint}"
        )


@dataclass
class EndpointRoute:
    """One endpoint: how callers authenticate, and how its requests are split."""

    workspace: str
    name: str
    auth_mode: str
    keys: tuple[bytes, bytes]
    token_secret: bytes
    deployments: dict[str, DeploymentRoute]
    live: list[DeploymentRoute] = field(default_factory=list)  # deployments with traffic, in order
    cumulative: list[float] = field(default_factory=list)  # their cumulative percentages
    mirror: DeploymentRoute | None = None
    mirror_fraction: float = 0.0
    unrouted: Any = None  # stats of requests refused before a deployment was chosen

    @classmethod
    def build(
        cls,
        workspace: str,
        name: str,
        auth_mode: str,
        keys: tuple[str, str],
        token_secret: str,
        deployments: dict[str, DeploymentRoute],
        traffic: dict[str, int],
        mirror: dict[str, int],
    ) -> EndpointRoute:
        route = cls(workspace, name, auth_mode, (keys[0].encode(), keys[1].encode()), token_secret.encode(),
                    deployments)  # fmt: skip
        total = 0.0
        for deployment, percent in traffic.items():
            if percent > 0 and deployment in deployments:
                total += percent
                route.live.append(deployments[deployment])
                route.cumulative.append(total)
        for deployment, percent in mirror.items():
            if percent > 0 and deployment in deployments:
                route.mirror, route.mirror_fraction = deployments[deployment], percent / 100
        return route

    def choose(self, pick: Callable[[], float] = random.random) -> DeploymentRoute | None:
        """A deployment drawn by the traffic weights; None when every weight is 0."""
        if not self.live:
            return None
        index = bisect.bisect_right(self.cumulative, pick() * self.cumulative[-1])
        return self.live[min(index, len(self.live) - 1)]


@dataclass
class RoutingTable:
    """Every served workspace's endpoints; `default` answers `/endpoints/{name}/…`."""

    workspaces: dict[str, dict[str, EndpointRoute]] = field(default_factory=dict)
    default: str | None = None

    def find(self, workspace: str | None, name: str) -> EndpointRoute | None:
        endpoints = self.workspaces.get(workspace if workspace is not None else self.default or "")
        return endpoints.get(name) if endpoints is not None else None


def close_pool_soon(instance: InstanceRoute, loop: asyncio.AbstractEventLoop | None) -> None:
    """Close an instance's idle connections from any thread (the pool belongs to the loop)."""
    if loop is None or loop.is_closed():
        instance.pool.close()
    else:
        loop.call_soon_threadsafe(instance.pool.close)
