"""`mlyard online-endpoint metrics --since` through a real server process: the counts outlive a
restart, read by the server (persisted + unflushed), by a local client with no server (the
database), and by a remote client; percentiles agree with the live window; bad input is refused."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest

import mlyard
from mlyard.errors import NotReady
from tests.processes import MLYARD, clean_environment, start_server
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

SCORE = """
    import json

    def init():
        pass

    def run(raw):
        return {"rows": len(json.loads(raw)["data"])}
"""


def mlyard_cli(workspace: Path, *args: str, url: str | None = None) -> subprocess.CompletedProcess[str]:
    prefix = ["--url", url] if url else ["--workspace", str(workspace)]
    return subprocess.run(
        [*MLYARD, *prefix, *args], capture_output=True, text=True, env=clean_environment(), timeout=180
    )


def metrics(workspace: Path, *args: str, url: str | None = None) -> Any:
    done = mlyard_cli(workspace, "online-endpoint", "metrics", "-n", "greeter", "-o", "json", *args, url=url)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def _send(client: Any, requests: int) -> None:
    for _ in range(requests):
        assert json.loads(client.online_endpoints.invoke("greeter", data={"data": [[1], [2]]})) == {"rows": 2}


def _ready(client: Any) -> bool:
    """One scoring request, once the restarted server's instance is up."""
    try:
        _send(client, 1)
    except NotReady:
        return False
    return True


def test_metrics_since_outlive_a_server_restart(tmp_path: Path):
    workspace = tmp_path / "ws"
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "score.py").write_text(textwrap.dedent(SCORE))
    assert mlyard_cli(workspace, "workspace", "create").returncode == 0
    server = start_server(workspace, tmp_path / "server.log")
    client = mlyard.MLClient(workspace=workspace)
    try:
        client.online_endpoints.create({"name": "greeter"})
        client.online_deployments.create(
            {"name": "blue", "endpoint_name": "greeter",
             "code_configuration": {"code": str(tmp_path / "src"), "scoring_script": "score.py"}},
            all_traffic=True,
        )  # fmt: skip
        _send(client, 20)
        scoring = f"{server.url}/endpoints/greeter/score"
        for _ in range(3):
            refused = httpx.post(scoring, json={"data": [[1]]}, headers={"authorization": "Bearer nope"})
            assert refused.status_code == 401

        live = metrics(workspace, "--window", "900")
        history = metrics(workspace, "--since", "15m")  # the server: persisted + not yet flushed
        assert history["deployments"]["blue"]["requests"] == live["deployments"]["blue"]["requests"] == 20
        assert history["deployments"]["blue"]["latency_ms"] == live["deployments"]["blue"]["latency_ms"]
        assert history["total"]["status_counts"] == {"200": 20, "401": 3}
        assert history["start"] is not None and history["start"].endswith((":00Z", ":00+00:00"))

        bad = httpx.get(f"{server.url}/api/v1/workspaces/default/online-endpoints/greeter/metrics",
                        params={"since": "soon"})  # fmt: skip
        assert bad.status_code == 400 and "--since 'soon': expected" in bad.json()["message"]
    finally:
        client.close()
        server.stop()

    # No server: a local client reads what the stopping server flushed.
    stopped = metrics(workspace, "--since", "15m", "--deployment", "blue")
    assert stopped["total"]["requests"] == 20 and list(stopped["deployments"]) == ["blue"]
    lost = mlyard_cli(workspace, "online-endpoint", "metrics", "-n", "greeter")
    assert lost.returncode != 0 and "mlyard server start" in lost.stderr  # the live window needs one

    server = start_server(workspace, tmp_path / "server2.log")
    client = mlyard.MLClient(workspace=workspace)
    try:
        wait_until(lambda: _ready(client), timeout=60, message="the restarted server's instance to be ready")
        _send(client, 4)
        remote = metrics(workspace, "--since", "15m", url=server.url)
        # (plus the 503s of requests sent before the restarted instance was ready)
        assert remote["deployments"]["blue"]["status_counts"]["200"] == 25
        assert remote["total"]["status_counts"]["401"] == 3
        assert metrics(workspace, "--window", "900")["deployments"]["blue"]["status_counts"]["200"] == 5
    finally:
        client.close()
        server.stop()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--since", "yesterday"],
            "--since 'yesterday': expected a date/time (2026-11-30T08:00) or 30m, 12h, 7d",
        ),
        (["--since", "2999-01-01"], "--since 2999-01-01: that is in the future"),
        (
            ["--since", "1h", "--window", "60"],
            "give --window (the live window) or --since (the history), not both",
        ),
    ],
)
def test_bad_metrics_options_are_refused_naming_them(tmp_path: Path, args: list[str], message: str):
    from mlyard.services.workspaces.workspace import create_workspace

    workspace = tmp_path / "ws"
    create_workspace(workspace)
    mlyard.MLClient(workspace=workspace).online_endpoints.create({"name": "greeter"})
    done = mlyard_cli(workspace, "online-endpoint", "metrics", "-n", "greeter", *args)
    assert done.returncode == 2 and message in " ".join(done.stderr.split()), done.stderr
