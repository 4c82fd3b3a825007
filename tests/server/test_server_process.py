"""`mlyard server start` as a user runs it: a real process, real HTTP, stopped by the test."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import MLYARD, start_server


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MLYARD_")}


@pytest.fixture
def server_url(tmp_path: Path) -> Iterator[str]:
    """A server over a fresh SQLite workspace, terminated (then killed if it must be) afterwards."""
    server = start_server(tmp_path / "ws", tmp_path / "server.log")
    yield str(server.url)
    # uvicorn shuts down gracefully, then re-raises the signal so the exit status tells it
    # (a server that needed killing after 15 s exits with -SIGKILL, and fails here).
    assert server.stop(timeout=15) in (0, -signal.SIGTERM), server.output()
    assert "Application shutdown complete" in server.output()


def test_the_server_process_answers_real_http_and_counts_it(server_url):
    api = f"{server_url}/api/v1/workspaces/default"
    with httpx.Client(timeout=10) as client:
        created = client.post(f"{api}/jobs", json={"experiment": "remote"})
        assert created.status_code == 201 and created.headers["x-request-id"]
        run_id = created.json()["id"]
        batch = {"params": {"alpha": 0.5}, "metrics": [{"key": "loss", "value": 0.25, "step": 3}]}
        assert client.post(f"{api}/jobs/{run_id}/log-batch", json=batch).status_code == 204
        assert client.post(f"{api}/jobs/{run_id}/end").json()["status"] == "Completed"
        found = client.get(f"{api}/jobs", params={"filter": "metrics.loss < 1"}).json()["value"]
        assert [job["id"] for job in found] == [run_id]
        assert client.get(f"{api}/jobs/{run_id}/log-batch").status_code == 405
        assert client.get(f"{server_url}/docs").status_code == 200

        metrics = client.get(f"{server_url}/metrics").text
    jobs_route = "/api/v1/workspaces/{ws}/jobs"
    assert f'mlyard_http_requests_total{{method="POST",route="{jobs_route}",status="201"}} 1.0' in metrics
    assert f'mlyard_http_requests_total{{method="GET",route="{jobs_route}",status="200"}} 1.0' in metrics
    assert 'route="/api/v1/workspaces/{ws}/jobs/{job_id}/log-batch",status="204"} 1.0' in metrics


def _start_public(workspace: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *MLYARD,
            "--workspace",
            str(workspace),
            "server",
            "start",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            *options,
        ],
        capture_output=True,
        text=True,
        env={**_environment(), "COLUMNS": "200"},
        timeout=60,
    )


def test_a_non_loopback_host_is_refused_without_api_keys(tmp_path):
    done = _start_public(tmp_path / "ws")
    assert done.returncode == 5, done.stderr
    assert "refusing to listen on '0.0.0.0'" in done.stderr and "mlyard key create" in done.stderr
    assert not (tmp_path / "ws").exists()  # refused before anything was created

    from mlyard.services.workspaces.workspace import create_workspace

    create_workspace(tmp_path / "ws")
    done = _start_public(tmp_path / "ws")
    assert done.returncode == 5 and "has no API key" in done.stderr, done.stderr
    done = _start_public(tmp_path / "ws", "--no-auth")
    assert done.returncode == 5 and "without authentication" in done.stderr, done.stderr


def test_beyond_loopback_is_allowed_once_every_workspace_has_a_key(tmp_path):
    """The check `serve` makes before binding (tests never bind beyond 127.0.0.1 themselves)."""
    from mlyard.errors import PermissionDenied
    from mlyard.server.app import create_app
    from mlyard.server.config import ServerConfig
    from mlyard.server.main import _check_public
    from mlyard.services.workspaces.keys import create_key
    from mlyard.services.workspaces.workspace import create_workspace

    workspace, _ = create_workspace(tmp_path / "ws")
    app = create_app(ServerConfig.single(tmp_path / "ws"))
    with pytest.raises(PermissionDenied, match="has no API key"):
        _check_public(app, "0.0.0.0", auth=False)
    create_key(workspace, "ops", "admin")
    _check_public(app, "0.0.0.0", auth=True)
    with pytest.raises(PermissionDenied, match="without authentication"):
        _check_public(app, "0.0.0.0", auth=False)


def test_a_port_in_use_is_refused_clearly(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = str(taken.getsockname()[1])
        done = subprocess.run(
            [*MLYARD, "--workspace", str(tmp_path / "ws"), "server", "start", "--port", port],
            capture_output=True,
            text=True,
            env={**_environment(), "COLUMNS": "200"},
            timeout=60,
        )
    assert done.returncode == 4, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "--port" in done.stderr


def test_kept_alive_connections_get_answers_without_waiting_for_delayed_acks(server_url):
    """A listening socket made without IPPROTO_TCP got no TCP_NODELAY: ~40 ms per kept-alive request."""
    with httpx.Client(timeout=10) as client:
        client.get(f"{server_url}/healthz")  # opens the connection that the timed requests reuse
        seconds = []
        for _ in range(20):
            began = time.perf_counter()
            assert client.get(f"{server_url}/healthz").status_code == 200
            seconds.append(time.perf_counter() - began)
    # The delay hits every request (~40 ms); the fastest of twenty shows it on any machine, however loaded.
    assert min(seconds) < 0.02, seconds


def _poll(deadline_seconds: float, probe):  # type: ignore[no-untyped-def]
    """The first truthy answer of `probe()`, asked until the deadline (no fixed sleeps)."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        answer = probe()
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)


def test_a_key_made_with_the_cli_beside_a_keyless_server_closes_it_at_once(tmp_path):
    """The README's order: `server start` on a fresh workspace, then `key create` on its machine."""
    import json

    from tests.processes import clean_environment, start_server

    workspace = tmp_path / "ws"
    server = start_server(workspace, tmp_path / "server.log")
    api = f"{server.url}/api/v1/workspaces/default"
    try:
        with httpx.Client(timeout=10) as http:
            refused = http.post(f"{api}/keys", json={"owner": "intruder", "role": "admin"})
            assert refused.status_code == 401 and "mlyard key create" in refused.json()["message"]
            assert http.get(f"{api}/jobs").status_code == 200  # keyless: open to this machine

            made = subprocess.run(
                [*MLYARD, "--workspace", str(workspace), "key", "create", "--owner", "first",
                 "--role", "admin", "-o", "json"],
                capture_output=True, text=True, env=clean_environment(), timeout=60,
            )  # fmt: skip
            assert made.returncode == 0, made.stderr
            token = json.loads(made.stdout)["token"]
            admin = {"Authorization": f"Bearer {token}"}

            mine = http.get(f"{server.url}/api/v1/whoami", headers=admin)
            assert mine.status_code == 200 and mine.json()["owner"] == "first", mine.text  # at once
            assert http.get(f"{api}/keys", headers=admin).status_code == 200
            closed = _poll(5.0, lambda: http.get(f"{api}/jobs").status_code == 401)
            assert closed, "anonymous requests still pass 5 s after the first key"
            refused = http.post(f"{api}/keys", json={"owner": "intruder", "role": "admin"})
            assert refused.status_code == 401
            # The local token of server.json (this machine, the folder's reader) still acts as owner.
            assert _poll(10.0, (workspace / "server.json").exists), server.output()
            local = json.loads((workspace / "server.json").read_text())["local_token"]
            assert http.get(f"{api}/keys", headers={"Authorization": f"Bearer {local}"}).status_code == 200

            listed = subprocess.run(
                [*MLYARD, "key", "list", "-o", "json"], capture_output=True, text=True, timeout=60,
                env=clean_environment(MLYARD_URL=server.url, MLYARD_KEY=token),
            )  # fmt: skip
            assert listed.returncode == 0, listed.stderr
            assert [key["owner"] for key in json.loads(listed.stdout)] == ["first"]
    finally:
        server.stop()
