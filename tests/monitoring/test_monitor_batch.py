"""A batch deployment watched by a monitor: a real batch job scores a drifted table, then a monitor
run reads that job's input (data drift) and its predictions.csv (prediction drift)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

import mlyard

SHIFT = 0.15  # bmi is scaled (sd ≈ 0.048): three standard deviations


@pytest.mark.slow
def test_a_batch_deployment_is_monitored_through_its_jobs_inputs_and_predictions(tmp_path: Path) -> None:
    from mlyard.services.workspaces.workspace import create_workspace
    from tests.serving.endpoint_support import register_ridge

    create_workspace(tmp_path / "ws")
    client = mlyard.MLClient(tmp_path / "ws")
    try:
        _monitored(client, tmp_path, register_ridge(client))
    finally:
        client.close()


def _monitored(client: Any, tmp_path: Path, registered: Any) -> None:
    version, model, features = registered
    features.to_csv(tmp_path / "train.csv", index=False)
    client.data.create("diabetes-train", tmp_path / "train.csv")
    pd.DataFrame({"prediction": model.predict(features)}).to_csv(tmp_path / "scored.csv", index=False)
    client.data.create("train-scored", tmp_path / "scored.csv")
    client.batch_endpoints.create(name="ep")
    deployment = {"name": "blue", "endpoint_name": "ep", "type": "model",
                  "model": f"azureml:{version.name}:{version.version}",
                  "settings": {"mini_batch_size": 100, "output_file_name": "predictions.csv"}}  # fmt: skip
    (tmp_path / "blue.yml").write_text(yaml.safe_dump(deployment))
    client.batch_deployments.create(tmp_path / "blue.yml")
    features.assign(bmi=features["bmi"] + SHIFT).to_csv(tmp_path / "patients.csv", index=False)
    scored = client.batch_endpoints.invoke("ep", tmp_path / "patients.csv", wait=True)
    assert scored.status.value == "Completed"

    spec = {"name": "nightly", "create_monitor": {
        "monitoring_target": {"ml_task": "regression", "batch_deployment_id": "azureml:ep:blue"},
        "monitoring_signals": {
            "inputs": {"type": "data_drift",
                       "reference_data": {"input_data": {"path": "azureml:diabetes-train:1"}},
                       "metric_thresholds": {"numerical": {"normalized_wasserstein_distance": 0.1}}},
            "outputs": {"type": "prediction_drift",
                        "reference_data": {"input_data": {"path": "azureml:train-scored:1"}}},
        }}}  # fmt: skip
    (tmp_path / "nightly.yml").write_text(yaml.safe_dump(spec))
    monitor = client.monitors.create(tmp_path / "nightly.yml")
    assert (monitor.target_kind, monitor.endpoint, monitor.deployment) == ("batch", "ep", "blue")
    job = client.jobs.wait(client.monitors.run("nightly").id, timeout=180)
    assert job.status.value == "Completed", job.error
    verdicts = {(v.signal, v.feature, v.metric): v for v in client.monitors.show("nightly").verdicts}
    assert [v.error for v in verdicts.values() if v.error] == []
    assert {f for s, f, _ in verdicts if s == "inputs"} == set(features.columns)
    assert verdicts[("inputs", "bmi", "normalized_wasserstein_distance")].breached
    assert not verdicts[("inputs", "age", "normalized_wasserstein_distance")].breached
    assert {f for s, f, _ in verdicts if s == "outputs"} == {"prediction"}
    assert any(v.breached for k, v in verdicts.items() if k[0] == "outputs")
