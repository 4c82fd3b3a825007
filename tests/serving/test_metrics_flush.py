"""The gateway's live window flushed into a workspace's history (SQLite and PostgreSQL), without a
server: the same requests give the same counts and percentiles in both, a flush never counts a
second twice, and the flush loop prunes minutes past the retention setting."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from mlyard.entities.endpoints.endpoint import TrafficMinute
from mlyard.entities.endpoints.endpoint_spec import endpoint_spec_from_dict
from mlyard.services.online import endpoint_metrics_history as history
from mlyard.services.online import endpoints
from mlyard.services.workspaces.workspace import Workspace
from mlyard.serving.gateway_metrics import UNKNOWN_ENDPOINT, GatewayMetrics
from mlyard.serving.metrics_flush import MetricsFlusher, persisted_and_live


class _Served:
    """The one workspace a server would serve, as `MetricsFlusher` asks for it."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def names(self) -> list[str]:
        return ["default"]

    def open(self, name: str) -> Workspace:
        assert name == "default"
        return self.workspace


@pytest.fixture
def scorer(workspace):  # type: ignore[no-untyped-def]
    endpoints.create_endpoint(workspace, endpoint_spec_from_dict({"name": "scorer"}, "endpoint.yml"))
    return workspace


def _traffic(metrics: GatewayMetrics, requests: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    blue, green = metrics.stats("default", "scorer", "blue"), metrics.stats("default", "scorer", "green")
    for _ in range(requests):
        status = 200 if rng.random() < 0.95 else rng.choice([500, 503, 429])
        blue.observe(status, rng.lognormvariate(-4.0, 0.8))  # ~18 ms typical, a long tail
    for outcome in ("200", "200", "error", "dropped"):
        green.observe_mirror(outcome)
    metrics.stats("default", "scorer", "").observe(401, 0.0002)  # a bad key: the endpoint's, nobody's
    metrics.stats("", UNKNOWN_ENDPOINT, "").observe(404, 0.0001)  # never persisted


def _since(minutes: int = 20) -> datetime:
    return history.minute_of(datetime.now(UTC) - timedelta(minutes=minutes))


def test_persisted_minutes_give_the_live_windows_counts_and_percentiles(scorer):
    metrics = GatewayMetrics(CollectorRegistry())
    _traffic(metrics, 2000)
    live = metrics.summary("default", "scorer", 900)
    written = asyncio.run(MetricsFlusher(metrics, _Served(scorer)).flush())
    assert written >= 3  # blue, green and the unrouted requests: a minute each (two if one turned)

    persisted = history.endpoint_history(scorer, "scorer", _since())
    for name in ("blue", "green"):
        kept, seen = persisted.deployments[name], live.deployments[name]
        assert kept.latency_ms == seen.latency_ms and kept.status_counts == seen.status_counts
        assert (kept.requests, kept.errors, kept.mirrored, kept.mirror_errors) == (
            seen.requests, seen.errors, seen.mirrored, seen.mirror_errors,
        )  # fmt: skip
    blue = persisted.deployments["blue"]
    assert blue.requests == 2000 and blue.latency_ms.p99 is not None and blue.latency_ms.p99 > 50
    assert persisted.deployments["green"].mirror_outcomes == {"200": 2, "dropped": 1, "error": 1}
    assert persisted.total.requests == 2001 and persisted.total.status_counts["401"] == 1
    assert set(persisted.deployments) == {"blue", "green"}  # the unrouted count only in the total


def test_a_flush_counts_each_second_once_and_reads_add_what_is_not_flushed(scorer):
    metrics = GatewayMetrics(CollectorRegistry())
    flusher = MetricsFlusher(metrics, _Served(scorer))

    async def scenario() -> list[int]:
        _traffic(metrics, 100)
        before = await persisted_and_live(metrics, scorer, "default", "scorer", _since())  # all live
        await flusher.flush()
        after = await persisted_and_live(metrics, scorer, "default", "scorer", _since())  # all persisted
        assert await flusher.flush() == 0  # nothing new: nothing written
        again = await persisted_and_live(metrics, scorer, "default", "scorer", _since())
        _traffic(metrics, 50, seed=8)
        await flusher.flush()
        more = await persisted_and_live(metrics, scorer, "default", "scorer", _since(), deployment="blue")
        return [before.total.requests, after.total.requests, again.total.requests, more.total.requests]

    assert asyncio.run(scenario()) == [101, 101, 101, 150]
    assert metrics.live_minutes("default", "scorer") == []
    assert sum(m.requests for m in history.read_minutes(scorer, "scorer", _since(), datetime.now(UTC))) == 152


def test_the_flush_loop_prunes_minutes_past_the_retention(scorer):
    old = history.minute_of(datetime.now(UTC) - timedelta(days=40))
    history.record_minutes(
        scorer, [TrafficMinute(endpoint="scorer", deployment="blue", minute=old, requests=3)]
    )
    metrics = GatewayMetrics(CollectorRegistry())
    flusher = MetricsFlusher(metrics, _Served(scorer), interval=0.05)

    async def run_briefly() -> None:
        loop = asyncio.create_task(flusher.run())
        metrics.stats("default", "scorer", "blue").observe(200, 0.01)
        await asyncio.sleep(1.5)  # past the second it was counted in: a regular flush takes it
        await flusher.stop(loop)

    asyncio.run(run_briefly())
    kept = history.read_minutes(
        scorer, "scorer", old - timedelta(days=1), datetime.now(UTC) + timedelta(minutes=1)
    )
    assert [m.requests for m in kept] == [1]
