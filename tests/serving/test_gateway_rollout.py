"""The quality bar of controlled rollout, against a real `mlyard server start` process under load.

A bounded load generator (a few threads of this process, keep-alive clients, seconds not
minutes) scores through the endpoint URL while traffic moves blue → green in steps and blue is
deleted, while a deployment rolls to a new model, and while an instance is killed with SIGKILL.
No request may fail, and the observed split must match the weights within a binomial tolerance.
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mlyard
from tests.processes import start_server
from tests.waiting import wait_until

from .endpoint_support import (
    Load,
    instance_pids,
    load,
    register_ridge,
    scoring_body,
    within_binomial,
)

pytestmark = pytest.mark.slow
# Each traffic step lasts until this many requests sent within it are answered: enough to judge
# the split within the binomial tolerance, however fast or slow the machine is today.
STEP_REQUESTS = 150
SETTINGS = {"request_settings": {"max_concurrent_requests_per_instance": 8}}


@dataclass
class Rollout:
    url: str
    client: Any
    models: dict[str, tuple[Any, Any]]  # model ref → (version, fitted model)
    features: Any

    def endpoint(self, name: str, deployments: dict[str, tuple[str, int]]) -> str:
        """Create `name` with deployments {name: (model ref, instance_count)}; returns its primary key."""
        self.client.online_endpoints.create({"name": name})
        for deployment, (ref, count) in deployments.items():
            spec = {
                "name": deployment,
                "endpoint_name": name,
                "model": f"azureml:{ref}",
                "instance_count": count,
            }
            self.client.online_deployments.create({**spec, **SETTINGS}, timeout=120)
        return self.client.online_endpoints.get_credentials(name).primary_key or ""

    def expected(self, ref: str) -> list[float]:
        return list(self.models[ref][1].predict(self.features.head(1)))


@pytest.fixture(scope="module")
def rollout(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from mlyard.services.workspaces.workspace import create_workspace

    root = tmp_path_factory.mktemp("rollout")
    create_workspace(root / "ws")
    server = start_server(root / "ws", root / "server.log")
    client = mlyard.MLClient(url=server.url)
    try:
        models = {}
        for alpha in (0.5, 5.0):
            version, model, features = register_ridge(client, alpha=alpha)
            models[version.ref] = (version, model)
        yield Rollout(server.url, client, models, features)
    finally:
        client.close()
        server.stop()


def _predictions_match(rollout: Rollout, outcomes: list[Any], served_by: dict[str, str]) -> None:
    for outcome in outcomes:
        expected = rollout.expected(served_by[outcome.deployment])
        np.testing.assert_allclose(json.loads(outcome.body), expected, rtol=1e-9)


def test_traffic_moves_blue_to_green_in_steps_and_blue_is_deleted_without_a_failed_request(rollout: Rollout):
    key = rollout.endpoint("shift", {"blue": ("ridge:1", 1), "green": ("ridge:2", 1)})
    url = f"{rollout.url}/endpoints/shift/score"
    steps = [100, 90, 50, 10, 0]  # blue's share; green gets the rest
    windows: list[tuple[int, float, float]] = []
    with load(url, key, scoring_body(rollout.features), threads=4, max_seconds=120) as running:
        for blue in steps:
            rollout.client.online_endpoints.update("shift", traffic={"blue": blue, "green": 100 - blue})
            begin = time.monotonic()
            windows.append((blue, begin, running.wait_answered(STEP_REQUESTS, since=begin)))
        rollout.client.online_deployments.delete("blue", "shift")
        deleted = time.monotonic()
        running.wait_answered(STEP_REQUESTS, since=deleted)
    failures = running.failures()
    assert not failures, failures[:5]
    for blue, begin, end in windows:
        step = running.between(begin, end)
        to_green = sum(1 for o in step if o.deployment == "green")
        assert len(step) >= STEP_REQUESTS, (blue, len(step))
        assert within_binomial(to_green, len(step), 100 - blue), (blue, to_green, len(step))
    after = [o for o in running.outcomes if o.started >= deleted]
    assert after and {o.deployment for o in after} == {"green"}
    _predictions_match(rollout, running.outcomes, {"blue": "ridge:1", "green": "ridge:2"})
    assert [d.name for d in rollout.client.online_deployments.list("shift")] == ["green"]
    logs = rollout.client.online_deployments.get_logs("green", "shift")
    assert "generation 1: all 1 instance(s) ready" in logs


def test_a_rolling_update_switches_models_without_a_failed_request(rollout: Rollout):
    key = rollout.endpoint("rolling", {"blue": ("ridge:1", 1)})
    rollout.client.online_endpoints.update("rolling", traffic="blue=100")
    url = f"{rollout.url}/endpoints/rolling/score"
    with load(url, key, scoring_body(rollout.features), threads=4, max_seconds=120) as running:
        running.wait_answered(20)  # the load is flowing before the update is asked for
        asked = time.monotonic()
        updated = rollout.client.online_deployments.update(
            "blue", "rolling", set={"model": "azureml:ridge:2", "instance_count": 2}, timeout=120
        )
        switched = time.monotonic()
        running.wait_answered(STEP_REQUESTS, since=switched)
    assert not running.failures(), running.failures()[:5]
    assert (updated.generation, updated.model.ref, updated.instance_count) == (2, "ridge:2", 2)  # type: ignore[union-attr]
    expected = {"before": rollout.expected("ridge:1"), "after": rollout.expected("ridge:2")}
    for outcome in running.outcomes:
        answer = json.loads(outcome.body)
        if outcome.ended < asked:
            np.testing.assert_allclose(answer, expected["before"], rtol=1e-9)
        elif outcome.started > switched:
            np.testing.assert_allclose(answer, expected["after"], rtol=1e-9)
    assert any(o.started > switched for o in running.outcomes)
    logs = wait_until(
        lambda: (text := rollout.client.online_deployments.get_logs("blue", "rolling")) and
        "generation 1: stopped" in text and text or None, timeout=30, message="the old generation to stop",
    )  # fmt: skip
    assert "generation 2: all 2 instance(s) ready" in logs and "generation 1: draining" in logs


def test_an_instance_killed_under_load_is_invisible_to_callers_and_restarted(rollout: Rollout):
    key = rollout.endpoint("sturdy", {"blue": ("ridge:1", 2)})
    rollout.client.online_endpoints.update("sturdy", traffic="blue=100")
    pids = instance_pids(rollout.client.online_deployments.get_logs("blue", "sturdy"))
    assert len(pids) == 2
    url = f"{rollout.url}/endpoints/sturdy/score"

    def deployment_logs() -> str:
        return rollout.client.online_deployments.get_logs("blue", "sturdy")

    def restarted() -> str | None:
        logs = deployment_logs()
        fresh = [pid for pid in instance_pids(logs) if pid not in pids]
        return logs if fresh and logs.count("g1/i0: ready after") == 2 else None

    # The load runs from before the kill until after the restart: callers must see neither.
    with load(url, key, scoring_body(rollout.features), threads=4, max_seconds=120) as running:
        running.wait_answered(50)
        os.kill(pids[0], signal.SIGKILL)
        killed = time.monotonic()
        logs = wait_until(
            restarted,
            timeout=30,
            message="the killed instance to be restarted and ready",
            log=deployment_logs,
        )
        running.wait_answered(50, since=time.monotonic())
        running.wait_answered(101, since=killed)
    assert not running.failures(), running.failures()[:5]
    assert sum(1 for o in running.outcomes if o.started > killed) > 100
    assert f"instance (pid {pids[0]}) killed by SIGKILL; restarting in 0.5 s" in logs
    _alive(instance_pids(logs)[-1])
    again = Load(url, key, scoring_body(rollout.features), threads=2, max_requests=50).start()
    again.wait_answered(50)
    again.stop()
    assert len(again.outcomes) >= 50 and not again.failures()


def _alive(pid: int) -> None:
    os.kill(pid, 0)  # raises if it is not running
    assert Path(f"/proc/{pid}").exists()
