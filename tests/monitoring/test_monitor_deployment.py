"""The priority case, for real: a team server, an online deployment with data collection, normal
then drifted requests through the gateway, the collector's files, then monitor runs over them —
data drift on the collected inputs, prediction drift on the collected outputs, model performance
with ground truth joined on the collected request id; then malformed collected data, which is one
signal's error while the run completes. The CLI talks to the same server with --url."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
import yaml

import mlyard
from tests.serving.endpoint_support import register_ridge
from tests.waiting import wait_until

SHIFT = 0.15  # bmi is scaled (sd ≈ 0.048): three standard deviations


def _send(url: str, key: str, frame: pd.DataFrame, prefix: str) -> list[str]:
    ids = []
    with httpx.Client(headers={"authorization": f"Bearer {key}"}, timeout=30) as http:
        for index in range(len(frame)):
            row = frame.iloc[[index]]
            body = {"input_data": {"columns": list(row.columns), "index": [0], "data": row.values.tolist()}}
            request_id = f"{prefix}{index}"
            answer = http.post(
                f"{url}/endpoints/diabetes/score", json=body, headers={"x-request-id": request_id}
            )
            assert answer.status_code == 200, answer.text
            ids.append(request_id)
    return ids


def _collected_rows(folder: Path, kind: str) -> int:
    return sum(len(pd.read_parquet(f)) for f in (folder / kind).rglob("*.parquet"))


@pytest.mark.slow
def test_a_collecting_deployment_is_monitored_for_drift_and_performance(
    tmp_path: Path, serve_workspace: Any
) -> None:
    from mlyard.services.workspaces.workspace import create_workspace

    create_workspace(tmp_path / "ws")
    url = serve_workspace(tmp_path / "ws")
    client = mlyard.MLClient(url=url)
    try:
        _monitored(client, url, tmp_path)
    finally:
        client.close()


def _monitored(client: Any, url: str, tmp_path: Path) -> None:
    version, model, features = register_ridge(client)
    features.to_csv(tmp_path / "train.csv", index=False)
    client.data.create("diabetes-train", tmp_path / "train.csv")
    pd.DataFrame({"prediction": model.predict(features)}).to_csv(tmp_path / "scored.csv", index=False)
    client.data.create("train-scored", tmp_path / "scored.csv")
    client.online_endpoints.create({"name": "diabetes", "auth_mode": "key"})
    collector = {"collections": {"model_inputs": {"enabled": "true"}, "model_outputs": {"enabled": "true"}}}
    client.online_deployments.create(
        {"name": "collect", "endpoint_name": "diabetes", "model": f"azureml:ridge:{version.version}",
         "data_collector": collector}, timeout=120,
    )  # fmt: skip
    client.online_endpoints.update("diabetes", traffic="collect=100")
    key = client.online_endpoints.get_credentials("diabetes").primary_key or ""

    normal = features.iloc[:120]
    drifted = features.iloc[120:240].assign(bmi=lambda f: f["bmi"] + SHIFT)
    normal_ids = _send(url, key, normal, "n")
    _send(url, key, drifted, "d")
    collected = tmp_path / "ws" / "artifacts" / "endpoints" / "diabetes" / "collect" / "collected"
    wait_until(lambda: _collected_rows(collected, "model_outputs") >= 240, timeout=30, message="collector")
    wait_until(lambda: _collected_rows(collected, "model_inputs") >= 240, timeout=30, message="collector")

    # Ground truth, a data asset keyed by the collected request id (the default correlation id).
    from sklearn.datasets import load_diabetes

    _, target = load_diabetes(return_X_y=True)
    pd.DataFrame({"request_id": normal_ids, "actual": target[:120]}).to_csv(
        tmp_path / "truth.csv", index=False
    )
    client.data.create("ground-truth", tmp_path / "truth.csv")

    spec = {"name": "watch", "create_monitor": {
        "monitoring_target": {"ml_task": "regression", "endpoint_deployment_id": "azureml:diabetes:collect"},
        "monitoring_signals": {
            "inputs": {"type": "data_drift",
                       "reference_data": {"input_data": {"path": "azureml:diabetes-train:1"}},
                       "metric_thresholds": {"numerical": {"normalized_wasserstein_distance": 0.1}}},
            "outputs": {"type": "prediction_drift",
                        "reference_data": {"input_data": {"path": "azureml:train-scored:1"}}},
            "performance": {"type": "model_performance",
                            "reference_data": {"input_data": {"path": "azureml:ground-truth:1"}},
                            "metric_thresholds": {"regression": {"mae": 1000.0, "rmse": 1.0}}},
        }}}  # fmt: skip
    (tmp_path / "watch.yml").write_text(yaml.safe_dump(spec))
    client.monitors.create(tmp_path / "watch.yml")
    job = client.jobs.wait(client.monitors.run("watch").id, timeout=180)
    assert job.status.value == "Completed", job.error

    # The CLI, through the same server.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    shown = subprocess.run(
        [sys.executable, "-m", "mlyard.cli.main", "--url", url,
         "monitor", "show", "--name", "watch", "-o", "json"],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    verdicts = {(v["signal"], v["feature"], v["metric"]): v for v in json.loads(shown.stdout)}
    errors = [v for v in verdicts.values() if v["error"]]
    assert errors == [], errors
    features_seen = {feature for signal, feature, _ in verdicts if signal == "inputs"}
    assert features_seen == set(features.columns)  # request_id, timestamp and row are no features
    assert verdicts[("inputs", "bmi", "normalized_wasserstein_distance")]["breached"] is True
    assert verdicts[("inputs", "age", "normalized_wasserstein_distance")]["breached"] is False
    assert verdicts[("inputs", "s1", "normalized_wasserstein_distance")]["breached"] is False
    assert {f for s, f, _ in verdicts if s == "outputs"} == {"prediction"}
    assert any(v["breached"] for k, v in verdicts.items() if k[0] == "outputs")
    mae = verdicts[("performance", "prediction", "mae")]
    rmse = verdicts[("performance", "prediction", "rmse")]
    assert 20 < mae["value"] < 80 and not mae["breached"] and rmse["breached"]

    # Malformed collected data: that signal's error; the others still run, the job completes.
    hour = next((collected / "model_inputs").rglob("*.parquet")).parent
    (hour / "broken.parquet").write_bytes(b"not parquet at all")
    job = client.jobs.wait(client.monitors.run("watch").id, timeout=180)
    assert job.status.value == "Completed", job.error
    latest = client.monitors.show("watch").verdicts
    broken = [v for v in latest if v.signal == "inputs"]
    assert len(broken) == 1 and "broken.parquet" in (broken[0].error or "")
    assert any(v.signal == "outputs" and v.error is None for v in latest)
