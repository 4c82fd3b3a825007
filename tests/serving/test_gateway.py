"""The endpoint gateway over real HTTP: a team server (in a thread of this process) running real
instance processes for several endpoints, set up once for the module.

    diabetes   key auth    blue: the diabetes Ridge (100 %) · collect: Ridge + data collection (pinned)
    tokens     aml_token   blue: a scoring script
    limits     key         slow (1 at a time, no queue) · patient (1 at a time, 5 s queue) · hasty (200 ms)
    mirrored   key         blue 100 % · green (its run() raises) gets 50 % mirror traffic
    metered    key         blue, for counting requests
"""

from __future__ import annotations

import concurrent.futures
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

import mlyard
from mlyard.entities.endpoints.endpoint import DeploymentState
from mlyard.errors import NotReady
from tests.waiting import wait_until

from .endpoint_support import (
    ECHO_SCRIPT,
    FAILING_INIT_SCRIPT,
    FAILING_RUN_SCRIPT,
    register_ridge,
    scoring_body,
    write_script,
)

BODY_LIMIT = 200_000
pytestmark = pytest.mark.slow


@dataclass
class Served:
    url: str
    client: Any
    root: Path
    model: Any
    features: Any
    keys: dict[str, str]

    def post(self, endpoint: str, body: Any, key: str | None = None, **headers: str) -> httpx.Response:
        key = self.keys[endpoint] if key is None else key
        sent = {"content-type": "application/json", **headers}
        if key:
            sent["authorization"] = f"Bearer {key}"
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.post(f"{self.url}/endpoints/{endpoint}/score", content=content, headers=sent, timeout=30)


def _deploy(client: Any, endpoint: str, name: str, **fields: Any) -> None:
    client.online_deployments.create({"name": name, "endpoint_name": endpoint, **fields}, wait=False)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from mlyard.services.workspaces.workspace import create_workspace
    from tests.servers import serve_in_thread

    root = tmp_path_factory.mktemp("gateway")
    create_workspace(root / "ws")
    server = serve_in_thread(root / "ws", max_body_bytes=BODY_LIMIT)
    client = mlyard.MLClient(url=server.url)
    try:
        yield _set_up(server.url, client, root)
    finally:
        client.close()
        server.stop()


def _set_up(url: str, client: Any, root: Path) -> Served:
    version, model, features = register_ridge(client)
    echo = write_script(root / "echo", ECHO_SCRIPT)
    failing = write_script(root / "failing", FAILING_RUN_SCRIPT)
    script = {"code_configuration": {"code": str(echo), "scoring_script": "score.py"}}
    for name, auth in (("diabetes", "key"), ("tokens", "aml_token"), ("limits", "key"), ("mirrored", "key"),
                       ("metered", "key")):  # fmt: skip
        client.online_endpoints.create({"name": name, "auth_mode": auth})
    ridge = {"model": f"azureml:{version.name}:{version.version}"}
    _deploy(client, "diabetes", "blue", **ridge, request_settings={"max_concurrent_requests_per_instance": 8})
    collector = {"collections": {"model_inputs": {"enabled": "true"}, "model_outputs": {"enabled": "true"}}}
    _deploy(client, "diabetes", "collect", **ridge, data_collector=collector)
    _deploy(client, "tokens", "blue", **script)
    one_at_a_time = {"max_concurrent_requests_per_instance": 1}
    _deploy(client, "limits", "slow", **script, environment_variables={"SLEEP_SECONDS": 0.6},
            request_settings={**one_at_a_time, "max_queue_wait_ms": 0})  # fmt: skip
    _deploy(client, "limits", "patient", **script, environment_variables={"SLEEP_SECONDS": 0.3},
            request_settings={**one_at_a_time, "max_queue_wait_ms": 5000})  # fmt: skip
    _deploy(client, "limits", "hasty", **script, environment_variables={"SLEEP_SECONDS": 1.0},
            request_settings={"request_timeout_ms": 200})  # fmt: skip
    four = {"max_concurrent_requests_per_instance": 4}
    _deploy(client, "mirrored", "blue", **script, environment_variables={"ANSWER": "from blue"},
            request_settings=four)  # fmt: skip
    failing_script = {"code": str(failing), "scoring_script": "score.py"}
    _deploy(client, "mirrored", "green", code_configuration=failing_script, request_settings=four)
    _deploy(client, "metered", "blue", **script)
    for endpoint in ("diabetes", "tokens", "limits", "mirrored", "metered"):
        for deployment in client.online_deployments.list(endpoint):
            client.online_deployments.wait(deployment.name, endpoint, deployment.generation, timeout=120)
    client.online_endpoints.update("diabetes", traffic="blue=100")
    client.online_endpoints.update("tokens", traffic="blue=100")
    client.online_endpoints.update("limits", traffic="slow=100")
    client.online_endpoints.update("mirrored", traffic="blue=100", mirror_traffic="green=50")
    client.online_endpoints.update("metered", traffic="blue=100")
    keys = {name: client.online_endpoints.get_credentials(name).primary_key or ""
            for name in ("diabetes", "limits", "mirrored", "metered")}  # fmt: skip
    return Served(url, client, root, model, features, keys)


def test_scoring_through_the_endpoint_url_answers_like_the_model(served: Served):
    body = scoring_body(served.features, 3)
    response = served.post("diabetes", body, **{"x-request-id": "my-request-1"})
    assert response.status_code == 200, response.text
    np.testing.assert_allclose(response.json(), served.model.predict(served.features.head(3)), rtol=1e-9)
    assert response.headers["azureml-model-deployment"] == "blue"
    assert response.headers["x-request-id"] == "my-request-1"  # a valid incoming id is echoed
    generated = served.post("diabetes", body).headers["x-request-id"]
    assert len(generated) == 32 and generated != "my-request-1"
    endpoint = served.client.online_endpoints.get("diabetes")
    assert endpoint.scoring_uri == f"{served.url}/endpoints/diabetes/score"
    answer = served.client.online_endpoints.invoke("diabetes", data=body)
    np.testing.assert_allclose(json.loads(answer), served.model.predict(served.features.head(3)), rtol=1e-9)


def test_the_other_contracts_and_the_schema_go_through_the_gateway(served: Served):
    headers = {"authorization": f"Bearer {served.keys['diabetes']}"}
    base = f"{served.url}/endpoints/diabetes"
    swagger = httpx.get(f"{base}/swagger.json", headers=headers)
    assert swagger.status_code == 200 and swagger.headers["azureml-model-deployment"] == "blue"
    assert "bmi" in json.dumps(swagger.json()["components"])
    rows = served.features.head(2).values.tolist()
    invocations = httpx.post(f"{base}/invocations", json={"inputs": rows}, headers=headers)
    assert invocations.status_code == 200 and len(invocations.json()["predictions"]) == 2
    v2 = {"inputs": [{"name": "x", "shape": [2, 10], "datatype": "FP64", "data": np.ravel(rows).tolist()}]}
    inferred = httpx.post(f"{base}/v2/models/diabetes/infer", json=v2, headers=headers)
    assert inferred.status_code == 200, inferred.text
    np.testing.assert_allclose(
        inferred.json()["outputs"][0]["data"], served.model.predict(served.features.head(2))
    )


def test_every_bad_request_gets_a_clear_json_error_and_never_a_500(served: Served):
    body = scoring_body(served.features)
    big = b'{"input_data": [[' + b"0.1," * (BODY_LIMIT // 4) + b"0.1]]}"
    cases = [
        (served.post("diabetes", b'{"input_data": [[1, 2'), 400, "BAD_REQUEST", "not valid JSON"),
        (served.post("diabetes", {"input_data": {"columns": ["age", "bmx"], "data": [[1, 2]]}}), 422,
         "INVALID_INPUT", "unknown column 'bmx'"),
        (served.post("diabetes", big), 413, "REQUEST_TOO_LARGE", "endpoints take at most 200,000 bytes"),
        (served.post("nowhere", body, key="k"), 404, "RESOURCE_DOES_NOT_EXIST",
         "no online endpoint 'nowhere' here; list them with: mlyard online-endpoint list"),
        (served.post("diabetes", body, key=""), 401, "UNAUTHENTICATED", "needs 'Authorization: Bearer <key>"),
        (served.post("diabetes", body, key="wrong"), 401, "UNAUTHENTICATED", "the key is not valid for"),
        (served.post("diabetes", body, key=served.keys["limits"]), 401, "UNAUTHENTICATED", "not valid"),
        (served.post("diabetes", body, **{"azureml-model-deployment": "red"}), 404, "RESOURCE_DOES_NOT_EXIST",
         "names 'red', which is not a deployment of endpoint 'diabetes' (deployments: blue, collect)"),
        (httpx.get(f"{served.url}/endpoints/diabetes/score"), 404, "RESOURCE_DOES_NOT_EXIST",
         "no route GET …/score"),
        (httpx.post(f"{served.url}/workspaces/elsewhere/endpoints/diabetes/score"), 404,
         "RESOURCE_DOES_NOT_EXIST", "workspace 'elsewhere' is not served here"),
    ]  # fmt: skip
    for response, status, code, message in cases:
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.json()["error_code"] == code and message in response.json()["message"], response.text
        assert response.headers["x-request-id"]
    assert cases[4][0].headers["www-authenticate"].startswith("Bearer")
    explicit = httpx.post(f"{served.url}/workspaces/default/endpoints/diabetes/score", json=body,
                          headers={"authorization": f"Bearer {served.keys['diabetes']}"})  # fmt: skip
    assert explicit.status_code == 200


def test_aml_token_auth_takes_fresh_tokens_and_refuses_expired_ones(served: Served):
    from mlyard.services.online import endpoints
    from mlyard.services.workspaces.workspace import open_workspace

    short = served.client.online_endpoints.get_credentials("tokens", token_lifetime_seconds=60)
    assert short.access_token and short.primary_key is None
    assert served.post("tokens", {"data": [[1]]}, key=short.access_token).json() == {
        "answer": "ok",
        "rows": 1,
    }
    # Issued on a clock two minutes back with a minute to live: it expired a minute ago.
    workspace = open_workspace(served.root / "ws")
    stale = endpoints.get_credentials(workspace, "tokens", 60, now=time.time() - 120).access_token
    expired = served.post("tokens", {"data": [[1]]}, key=stale)
    assert expired.status_code == 401
    assert "refused the token: the token expired 60 s ago" in expired.json()["message"]
    forged = served.post("tokens", {"data": [[1]]}, key=short.access_token[:-4] + "AAAA")
    assert forged.status_code == 401 and "signature is not valid" in forged.json()["message"]
    assert (
        "not an mlyard endpoint token"
        in served.post("tokens", {}, key=served.keys["diabetes"]).json()["message"]
    )
    assert (
        served.client.online_endpoints.invoke("tokens", data={"data": [[1], [2]]})
        == '{"answer":"ok","rows":2}'
    )


def test_a_regenerated_key_stops_working_at_once_while_the_other_goes_on(served: Served):
    before = served.client.online_endpoints.get_credentials("metered")
    after = served.client.online_endpoints.regenerate_keys("metered", "primary")
    assert served.post("metered", {"data": []}, key=before.primary_key).status_code == 401
    assert served.post("metered", {"data": []}, key=before.secondary_key).status_code == 200
    assert served.post("metered", {"data": []}, key=after.primary_key).status_code == 200
    served.keys["metered"] = after.primary_key or ""


def test_past_the_concurrency_limit_requests_get_429_and_a_queue_waits(served: Served):
    def burst(deployment: str, count: int) -> list[httpx.Response]:
        with concurrent.futures.ThreadPoolExecutor(count) as pool:
            pinned = {"azureml-model-deployment": deployment}
            return list(pool.map(lambda _: served.post("limits", {"data": [[1]]}, **pinned), range(count)))

    statuses = sorted(r.status_code for r in burst("slow", 3))
    assert statuses[0] == 200 and statuses.count(429) >= 1, statuses
    refused = next(r for r in burst("slow", 3) if r.status_code == 429)
    assert refused.json()["error_code"] == "TOO_MANY_REQUESTS"
    assert "max_concurrent_requests_per_instance 1 busy" in refused.json()["message"]
    assert refused.headers["retry-after"] == "1" and refused.headers["azureml-model-deployment"] == "slow"
    assert [r.status_code for r in burst("patient", 3)] == [200, 200, 200]  # each waited its turn


def test_a_request_over_request_timeout_ms_is_answered_408(served: Served):
    begin = time.monotonic()
    response = served.post("limits", {"data": [[1]]}, **{"azureml-model-deployment": "hasty"})
    assert response.status_code == 408 and response.json()["error_code"] == "REQUEST_TIMEOUT"
    assert "request_timeout_ms (200 ms" in response.json()["message"]
    assert time.monotonic() - begin < 0.9


def test_mirror_traffic_never_reaches_the_callers(served: Served):
    answers = [served.post("mirrored", {"data": [[1]]}) for _ in range(60)]
    assert {(r.status_code, r.headers["azureml-model-deployment"]) for r in answers} == {(200, "blue")}
    assert {r.json()["answer"] for r in answers} == {"from blue"}
    pinned = served.post("mirrored", {"data": [[1]]}, **{"azureml-model-deployment": "green"})
    assert pinned.status_code == 500 and "this deployment always fails" in pinned.json()["message"]

    def mirrored() -> Any:
        summary = served.client.online_endpoints.metrics("mirrored", window=120)
        green = summary.deployments.get("green")
        return green if green is not None and green.mirrored >= 15 else None

    green = wait_until(mirrored, timeout=10, message="mirror copies to show in the metrics")
    assert green.mirror_errors == green.mirrored  # every copy failed; no caller saw it
    assert green.mirrored < 60  # about half of the live requests
    text = httpx.get(f"{served.url}/metrics").text
    assert (
        'mlyard_endpoint_mirror_requests_total{deployment="green",endpoint="mirrored",outcome="500"' in text
    )


def test_the_metrics_summary_counts_what_was_sent(served: Served):
    for _ in range(30):
        assert served.post("metered", {"data": [[1]]}).status_code == 200
    for _ in range(3):
        assert served.post("metered", {"data": [[1]]}, key="nope").status_code == 401
    summary = served.client.online_endpoints.metrics("metered", window=600)
    blue = summary.deployments["blue"]
    assert blue.requests >= 30 and blue.status_counts["200"] == blue.requests  # (+ the rotation test's)
    assert summary.total.requests == blue.requests + summary.total.status_counts["401"]
    assert (
        summary.total.status_counts["401"] >= 3 and summary.total.errors == summary.total.status_counts["401"]
    )
    latency = blue.latency_ms
    assert latency.p50 is not None and 0 < latency.p50 <= latency.p95 <= latency.p99 < 1000  # type: ignore[operator]
    assert summary.window_seconds == 600 and blue.requests_per_second == pytest.approx(blue.requests / 600)
    text = httpx.get(f"{served.url}/metrics").text
    line = next(
        line for line in text.splitlines()
        if line.startswith("mlyard_endpoint_requests_total{")
        and 'endpoint="metered"' in line and 'status="200"' in line
    )  # fmt: skip
    assert float(line.rsplit(" ", 1)[1]) == blue.requests
    assert 'mlyard_endpoint_request_duration_seconds_bucket{deployment="blue",endpoint="metered"' in text


def test_collected_inputs_and_outputs_are_parquet_files_pandas_reads(served: Served):
    import pandas as pd

    body = scoring_body(served.features, 2)
    ids = []
    for index in range(5):
        response = served.post(
            "diabetes", body, **{"azureml-model-deployment": "collect", "x-request-id": f"c{index}"}
        )
        assert response.status_code == 200
        ids.append(response.headers["x-request-id"])
    folder = served.root / "ws" / "artifacts" / "endpoints" / "diabetes" / "collect" / "collected"

    def read(kind: str) -> Any:
        files = sorted((folder / kind).rglob("*.parquet"))
        frame = pd.concat([pd.read_parquet(f) for f in files]) if files else None
        return frame if frame is not None and len(frame) >= 10 else None

    inputs = wait_until(lambda: read("model_inputs"), timeout=15, message="collected inputs")
    outputs = wait_until(lambda: read("model_outputs"), timeout=15, message="collected outputs")
    assert sorted(set(inputs["request_id"])) == ids and list(inputs.columns[:3]) == [
        "request_id",
        "timestamp",
        "row",
    ]
    assert "bmi" in inputs.columns and str(inputs["timestamp"].dtype).startswith("datetime64")
    joined = inputs.merge(outputs, on=["request_id", "row"])
    np.testing.assert_allclose(
        joined["prediction"], served.model.predict(joined[list(served.features.columns)]), rtol=1e-9
    )
    hour = next((folder / "model_inputs").rglob("*.parquet")).parent.relative_to(folder / "model_inputs")
    assert len(hour.parts) == 4  # YYYY/MM/DD/HH
    assert not (served.root / "ws" / "artifacts" / "endpoints" / "diabetes" / "blue" / "collected").exists()


def test_a_failing_init_is_reported_by_create_show_and_get_logs(served: Served):
    broken = write_script(served.root / "broken", FAILING_INIT_SCRIPT)
    served.client.online_endpoints.create({"name": "broken"})
    spec = {
        "name": "blue",
        "endpoint_name": "broken",
        "code_configuration": {"code": str(broken), "scoring_script": "score.py"},
    }
    expected = (
        r"(?s)deployment 'blue' of endpoint 'broken' failed: init\(\) of score.py failed in instance 0"
        r".*ValueError: no weights in .*the model folder is empty"
    )
    with pytest.raises(NotReady, match=expected):
        served.client.online_deployments.create(spec, timeout=60)
    shown = served.client.online_deployments.get("blue", "broken")
    assert shown.provisioning_state == DeploymentState.FAILED and "Traceback" in (shown.error or "")
    logs = served.client.online_deployments.get_logs("blue", "broken")
    assert "ValueError: no weights in" in logs and "generation 1 failed" in logs
    assert len(served.client.online_deployments.get_logs("blue", "broken", lines=3).splitlines()) == 3
    key = served.client.online_endpoints.get_credentials("broken").primary_key
    pinned = {"authorization": f"Bearer {key}", "azureml-model-deployment": "blue"}
    refused = httpx.post(f"{served.url}/endpoints/broken/score", json={}, headers=pinned)
    assert refused.status_code == 503 and "has no ready instance (state Failed)" in refused.json()["message"]
    served.client.online_endpoints.delete("broken")


ENVIRONMENT_SCRIPT = """
    import sys

    def init():
        pass

    def run(raw):
        import six

        return {"python": sys.executable, "six": six.__version__}
"""


def test_a_deployment_runs_in_its_own_built_environment(served: Served, tmp_path: Path, monkeypatch):
    import sys

    monkeypatch.setenv("MLYARD_ENV_CACHE", str(tmp_path / "envs"))  # read by the server when it builds
    code = write_script(served.root / "environment", ENVIRONMENT_SCRIPT)
    served.client.online_endpoints.create({"name": "isolated"})
    environment = {
        "python_version": f"{sys.version_info.major}.{sys.version_info.minor}",
        "pip_requirements": ["six"],
    }
    spec = {
        "name": "blue", "endpoint_name": "isolated", "environment": environment,
        "code_configuration": {"code": str(code), "scoring_script": "score.py"},
    }  # fmt: skip
    deployment = served.client.online_deployments.create(spec, all_traffic=True, timeout=300)
    assert deployment.environment is not None and "six" in deployment.environment["requirements"]
    answer = json.loads(served.client.online_endpoints.invoke("isolated", data={}))
    assert answer["python"].startswith(str(tmp_path / "envs")) and answer["six"]
    assert "environment ready" in served.client.online_deployments.get_logs("blue", "isolated")
    served.client.online_endpoints.delete("isolated")
