"""The keep-alive pool to an instance over its Unix socket, and the minimal forwarding app."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from sklearn.linear_model import Ridge

from mlyard.serving.upstream import UpstreamError, UpstreamPool
from tests.processes import wait_answering

from .conftest import Instance, StartInstance

BODY = b'{"input_data": [[0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1]]}'
ROW = np.array([[0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1]])


@pytest.fixture(scope="module")
def instance(
    model_dir: Path, start_module_instance: StartInstance, tmp_path_factory: pytest.TempPathFactory
) -> Instance:
    uds = tmp_path_factory.mktemp("sock") / "i.sock"
    return start_module_instance("--model-dir", model_dir, "--uds", uds, "--max-concurrent-requests", "16")


def test_the_pool_reuses_one_connection_for_sequential_requests(instance: Instance, ridge: Ridge) -> None:
    async def scenario() -> list[bytes]:
        pool = UpstreamPool(uds=instance.uds)
        bodies = []
        for _ in range(20):
            response = await pool.request("POST", "/score", [(b"content-type", b"application/json")], BODY)
            assert response.status == 200
            bodies.append(response.body)
        assert len(pool._idle) == 1  # the one connection, kept alive throughout
        pool.close()
        return bodies

    bodies = asyncio.run(scenario())
    assert set(bodies) == {f"[{float(ridge.predict(ROW)[0])!r}]".encode()}


def test_concurrent_requests_open_more_connections_and_keep_them(instance: Instance) -> None:
    async def scenario() -> tuple[list[int], int]:
        pool = UpstreamPool(uds=instance.uds)
        responses = await asyncio.gather(*(pool.request("POST", "/score", (), BODY) for _ in range(8)))
        idle = len(pool._idle)
        pool.close()
        return [r.status for r in responses], idle

    statuses, idle = asyncio.run(scenario())
    assert statuses == [200] * 8 and 1 <= idle <= 8


def test_headers_and_errors_come_back_as_the_instance_sent_them(instance: Instance) -> None:
    async def scenario() -> tuple[int, dict[bytes, bytes], bytes]:
        pool = UpstreamPool(uds=instance.uds)
        response = await pool.request("POST", "/score", [(b"x-request-id", b"r-9")], b'{"input_data": [[1]]}')
        pool.close()
        return response.status, dict(response.headers), response.body

    status, headers, body = asyncio.run(scenario())
    assert status == 422 and headers[b"x-request-id"] == b"r-9"
    assert b"the model takes shape [-1, 10]" in body


def test_a_connection_the_instance_closed_is_replaced_without_failing_the_request(
    model_dir: Path, start_instance: StartInstance, tmp_path: Path
) -> None:
    uds = tmp_path / "restart.sock"

    async def scenario() -> list[int]:
        pool = UpstreamPool(uds=str(uds))
        first = await pool.request("POST", "/score", (), BODY)
        restarted.terminate()  # the pooled connection dies with it
        start_instance("--model-dir", model_dir, "--uds", uds)
        second = await pool.request("POST", "/score", (), BODY)
        pool.close()
        return [first.status, second.status]

    restarted = start_instance("--model-dir", model_dir, "--uds", uds)
    assert asyncio.run(scenario()) == [200, 200]


def test_an_unreachable_instance_is_an_upstream_error(tmp_path: Path) -> None:
    async def scenario() -> None:
        await UpstreamPool(uds=str(tmp_path / "none.sock")).request("GET", "/live")

    with pytest.raises(UpstreamError, match=r"^cannot connect to the instance at .*none\.sock: No such file"):
        asyncio.run(scenario())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def forwarder(instance: Instance) -> Iterator[str]:
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "mlyard.serving.upstream",
        "--upstream-uds",
        str(instance.uds),
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    wait_answering(process, f"{url}/live", timeout=30)
    yield url
    process.terminate()
    process.wait(timeout=10)
    assert process.stderr is not None
    process.stderr.close()


def test_the_forwarding_app_answers_what_the_instance_answers(
    forwarder: str, instance: Instance, ridge: Ridge
) -> None:
    with httpx.Client(base_url=forwarder) as client:
        scored = client.post("/score", content=BODY, headers={"x-request-id": "fwd-1"})
        refused = client.post("/score", content=b"{")
        metadata = client.get("/v2/models/model")
    assert scored.status_code == 200 and scored.headers["x-request-id"] == "fwd-1"
    np.testing.assert_array_equal(scored.json(), ridge.predict(ROW))
    assert refused.status_code == 400 and refused.json()["error_code"] == "BAD_REQUEST"
    assert metadata.json()["name"] == "model"
