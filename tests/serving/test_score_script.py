"""Scoring scripts with Azure ML's contract, and the instance's limits, in real instance processes."""

from __future__ import annotations

import socket
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sklearn.linear_model import Ridge

from tests.waiting import wait_until

from .conftest import Instance, StartInstance, save_model
from .slow_model import SlowModel

REPO = Path(__file__).resolve().parents[2]

SCORE_PY = """
import json, os
import joblib

model = None
calls = {"init": 0}


def init():
    global model
    calls["init"] += 1
    model = joblib.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.joblib"))


def run(raw_data):
    if raw_data == "whoami":
        return {"azureml": os.environ["AZUREML_MODEL_DIR"], "mlyard": os.environ["MLYARD_MODEL_DIR"],
                "init_calls": calls["init"], "type": type(raw_data).__name__, "cwd": os.getcwd()}
    if raw_data == "boom":
        raise ValueError("no such patient")
    if raw_data == "not json":
        return object()
    return model.predict(json.loads(raw_data)["data"]).tolist()
"""


def _code(folder: Path, source: str, name: str = "score.py") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(textwrap.dedent(source))
    return folder


@pytest.fixture(scope="module")
def scripted(
    model_dir: Path, start_module_instance: StartInstance, tmp_path_factory: pytest.TempPathFactory
) -> Instance:
    code = _code(tmp_path_factory.mktemp("code"), SCORE_PY)
    return start_module_instance("--model-dir", model_dir, "--code-dir", code, "--scoring-script", "score.py")


def test_run_gets_the_raw_body_and_answers_its_result(
    scripted: Instance, ridge: Ridge, diabetes: tuple[np.ndarray, np.ndarray]
) -> None:
    rows = diabetes[0][:3]
    response = scripted.post("/score", {"data": rows.tolist()})
    assert response.status_code == 200, response.text
    np.testing.assert_array_equal(response.json(), ridge.predict(rows))


def test_init_ran_once_with_the_model_folder_in_both_variables(scripted: Instance, model_dir: Path) -> None:
    scripted.post("/score", "whoami")
    answer = scripted.post("/score", "whoami").json()
    assert answer["azureml"] == answer["mlyard"] == str(model_dir.resolve())
    assert answer["init_calls"] == 1 and answer["type"] == "str"


def test_an_exception_in_run_is_a_500_naming_it_with_the_traceback_in_the_log(scripted: Instance) -> None:
    response = scripted.post("/score", "boom")
    assert response.status_code == 500
    assert response.json() == {
        "error_code": "MODEL_ERROR",
        "message": "run() of score.py raised ValueError: no such patient",
    }
    scripted.wait_output('raise ValueError("no such patient")', stream="stderr")
    assert any("Traceback" in line for line in scripted.stderr_lines)


def test_a_result_that_is_not_json_is_a_500(scripted: Instance) -> None:
    response = scripted.post("/score", "not json")
    assert response.status_code == 500
    assert response.json()["message"].startswith("run() of score.py returned something that is not JSON")


def test_a_script_deployment_serves_only_score(scripted: Instance) -> None:
    response = scripted.post("/invocations", {"data": [[1]]})
    assert response.status_code == 404
    assert "send requests to POST /score" in response.json()["message"]


def test_swagger_of_a_script_deployment_describes_a_raw_body(scripted: Instance) -> None:
    document = scripted.get("/swagger.json").json()
    schema = document["paths"]["/score"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "run()" in schema["description"]


def test_run_with_request_headers_gets_them(
    model_dir: Path, start_instance: StartInstance, tmp_path: Path
) -> None:
    code = _code(
        tmp_path,
        """
        def init():
            pass

        def run(data, request_headers):
            trace = request_headers.get("X-Trace-Id")
            return {"data": data, "trace": trace, "type": request_headers.get("Content-Type")}
        """,
    )
    instance = start_instance("--model-dir", model_dir, "--code-dir", code, "--scoring-script", "score.py")
    response = instance.post("/score", "hello", headers={"x-trace-id": "t-1", "content-type": "text/plain"})
    assert response.json() == {"data": "hello", "trace": "t-1", "type": "text/plain"}


def test_a_failing_init_shows_its_traceback_and_readiness_stays_false(
    model_dir: Path, start_instance: StartInstance, tmp_path: Path
) -> None:
    code = _code(
        tmp_path,
        """
        import os

        def init():
            open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "weights.bin"))

        def run(raw_data):
            return raw_data
        """,
    )
    instance = start_instance(
        "--model-dir", model_dir, "--code-dir", code, "--scoring-script", "score.py", wait_ready=False
    )
    instance.wait_loaded()
    assert any(line.startswith("mlyard-instance init-failed") for line in instance.stdout_lines)
    assert instance.get("/live").status_code == 200
    ready = instance.get("/ready")
    assert ready.status_code == 503
    body = ready.json()
    assert body["state"] == "failed"
    assert body["message"].startswith("init() failed, so this instance will not score: FileNotFoundError:")
    assert "weights.bin" in body["message"]
    assert 'score.py", line 5, in init' in body["traceback"]
    assert any("weights.bin" in line for line in instance.stderr_lines)
    scoring = instance.post("/score", "x")
    assert scoring.status_code == 503 and "init() failed" in scoring.json()["message"]
    assert instance.get("/v2/health/ready").status_code == 503


GATED_INIT = """
import os, time

def init():
    while not os.path.exists(os.environ["INIT_GATE"]):  # init() runs until the test lets it end
        time.sleep(0.01)

def run(raw_data):
    return 1
"""


def test_readiness_is_false_while_init_runs(
    model_dir: Path, start_instance: StartInstance, tmp_path: Path
) -> None:
    code = _code(tmp_path / "code", GATED_INIT)
    gate = tmp_path / "init-may-end"
    instance = start_instance(
        "--model-dir", model_dir, "--code-dir", code, "--scoring-script", "score.py",
        env={"INIT_GATE": str(gate)}, wait_ready=False,
    )  # fmt: skip
    response = instance.get("/ready")
    assert response.status_code == 503
    assert response.json()["state"] == "loading"
    assert response.json()["message"].startswith("not ready yet: init() is running")
    assert instance.get("/live").status_code == 200
    gate.touch()
    instance.wait_loaded()
    assert instance.get("/ready").status_code == 200


SLEEPY = """
import time

def init():
    pass

def run(raw_data):
    time.sleep(float(raw_data))
    return "slept"
"""


GATED_RUN = """
import pathlib, threading, time

def init():
    pass

def run(raw_data):
    # raw_data names a gate file: say that this request is in run(), then hold it until the gate exists.
    gate = pathlib.Path(raw_data)
    (gate.parent / f"{gate.name}.in-run-{threading.get_ident()}").touch()
    while not gate.exists():
        time.sleep(0.01)
    return "released"
"""


def _in_run(gate: Path) -> int:
    """How many requests GATED_RUN's run() is holding at `gate`."""
    return len(list(gate.parent.glob(f"{gate.name}.in-run-*")))


def _post_in_thread(instance: Instance, body: str, results: list[Any]) -> threading.Thread:
    def call() -> None:
        results.append(instance.post("/score", body))

    thread = threading.Thread(target=call)
    thread.start()
    return thread


def test_past_the_concurrency_limit_the_instance_answers_429_at_once(
    model_dir: Path, start_instance: StartInstance, tmp_path: Path
) -> None:
    code = _code(tmp_path / "code", GATED_RUN)
    instance = start_instance(
        "--model-dir", model_dir, "--code-dir", code, "--scoring-script", "score.py",
        "--max-concurrent-requests", "2",
    )  # fmt: skip
    gate = tmp_path / "gate"
    results: list[Any] = []
    threads = [_post_in_thread(instance, str(gate), results) for _ in range(2)]
    wait_until(
        lambda: _in_run(gate) == 2, timeout=10, message="both requests to be in run()", log=instance.output
    )
    begin = time.monotonic()
    refused = instance.post("/score", str(gate))
    assert time.monotonic() - begin < 0.5
    assert refused.status_code == 429
    assert refused.json() == {
        "error_code": "TOO_MANY_REQUESTS",
        "message": "this instance is already scoring 2 request(s), its max_concurrent_requests_per_instance; "
        "retry later or add instances",
    }
    gate.touch()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in results] == [200, 200]
    assert instance.post("/score", str(gate)).status_code == 200  # slots given back


def test_a_run_over_the_timeout_answers_408_on_time(
    model_dir: Path, start_instance: StartInstance, tmp_path: Path
) -> None:
    code = _code(tmp_path, SLEEPY)
    instance = start_instance(
        "--model-dir",
        model_dir,
        "--code-dir",
        code,
        "--scoring-script",
        "score.py",
        "--request-timeout-ms",
        "300",
    )
    begin = time.monotonic()
    response = instance.post("/score", "3")
    elapsed = time.monotonic() - begin
    assert response.status_code == 408
    assert 0.3 <= elapsed < 1.5
    assert response.json()["error_code"] == "REQUEST_TIMEOUT"
    assert response.json()["message"].startswith(
        "scoring took longer than the deployment's request_timeout_ms (300 ms"
    )
    # The timed-out run() still holds its slot until it returns:
    assert instance.post("/score", "0").status_code == 429


def test_a_no_code_model_over_the_timeout_answers_408(start_instance: StartInstance, tmp_path: Path) -> None:
    folder = save_model(tmp_path / "slow", SlowModel(0.5), "custom")
    instance = start_instance(
        "--model-dir", folder, "--request-timeout-ms", "200", env={"PYTHONPATH": str(REPO)}
    )
    response = instance.post("/score", {"input_data": [[1.0, 2.0]]})
    assert response.status_code == 408
    assert "request_timeout_ms (200 ms" in response.json()["message"]


def test_sigterm_finishes_in_flight_requests_then_exits(
    model_dir: Path, start_instance: StartInstance, tmp_path: Path
) -> None:
    code = _code(tmp_path / "code", GATED_RUN)
    instance = start_instance(
        "--model-dir", model_dir, "--code-dir", code, "--scoring-script", "score.py",
        "--max-concurrent-requests", "4",
    )  # fmt: skip
    gate = tmp_path / "gate"
    results: list[Any] = []
    thread = _post_in_thread(instance, str(gate), results)
    wait_until(
        lambda: _in_run(gate) == 1, timeout=10, message="the request to be in run()", log=instance.output
    )
    instance.process.send_signal(15)
    host, port = instance.url.removeprefix("http://").split(":")
    wait_until(lambda: _refuses_connections(host, int(port)), timeout=10,
               message="the instance to stop accepting connections", log=instance.output)  # fmt: skip
    gate.touch()  # only now may the in-flight request finish
    thread.join()
    assert results[0].status_code == 200 and results[0].json() == "released"
    assert instance.process.wait(timeout=10) == 0
    instance.join_readers()
    assert any(line.startswith("mlyard-instance stopped") for line in instance.stdout_lines)


def _refuses_connections(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def test_unix_socket_only_instance(model_dir: Path, start_instance: StartInstance, tmp_path: Path) -> None:
    instance = start_instance("--model-dir", model_dir, "--uds", tmp_path / "i.sock")
    assert instance.url == "" and instance.uds == str(tmp_path / "i.sock")
    with httpx.Client(transport=httpx.HTTPTransport(uds=instance.uds), base_url="http://x") as client:
        assert client.post("/score", json={"input_data": [[0.0] * 10]}).status_code == 200
    instance.terminate()
    assert not (tmp_path / "i.sock").exists()  # removed on exit
