"""The loop closed, on a real `mlyard server start` process: a deployment with data collection
scored over HTTP with drifted rows → `mlyard monitor run` → `mlyard.monitor.alert` → a webhook
subscription (a real HTTP receiver) gets it signed → the event trigger of the demo's
retrain-on-alert.yml starts the retraining pipeline, with the alert bound, which completes and
opens a promotion request. A junk Parquet file among the collected outputs is one signal's
error: the run still completes and the loop goes on.

The YAML files are the demo's (examples/diabetes/monitoring/), so this test keeps them working.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import mlyard
from tests.processes import clean_environment, start_server
from tests.receivers import WebhookReceiver
from tests.waiting import wait_until

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "diabetes" / "monitoring"
COLUMNS = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]


def _train_production(client: Any, diabetes_csv: Path, workspace: Path) -> Any:
    """What quickstart.py does once: a weak Ridge (the retrain beats it), its training data in its
    lineage, registered as diabetes-ridge@production."""
    from sklearn.linear_model import Ridge

    client.data.create(name="diabetes", path=diabetes_csv, type="uri_file")
    with mlyard.start_run(experiment="diabetes"):
        frame = pd.read_csv(mlyard.use_data("diabetes@latest"))
        model = Ridge(alpha=5.0).fit(frame[COLUMNS], frame["target"])
        mlyard.log_metric("mse", 99999.0)
        version = mlyard.log_model(
            model, name="diabetes-ridge", flavor="sklearn", input_example=frame[COLUMNS].head(3)
        )
    client.models.set_alias("diabetes-ridge", "production", version.version)
    # The prediction-drift reference, as the demo's normal traffic makes it.
    predictions = workspace.parent / "predictions.csv"
    pd.DataFrame({"prediction": model.predict(frame[COLUMNS])}).to_csv(predictions, index=False)
    client.data.create(name="diabetes-predictions", path=predictions, type="uri_file")
    return frame


def _score(uri: str, key: str, rows: pd.DataFrame) -> None:
    with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=30) as http:
        for start in range(0, len(rows), 50):
            part = rows.iloc[start : start + 50]
            body = {"input_data": {"columns": COLUMNS, "index": list(range(len(part))),
                                   "data": part.to_numpy().tolist()}}  # fmt: skip
            answer = http.post(uri, json=body)
            assert answer.status_code == 200, answer.text


def _collected(workspace: Path, kind: str) -> Path:
    return workspace / "artifacts" / "endpoints" / "diabetes" / "blue" / "collected" / kind


@pytest.mark.slow
def test_drift_alerts_a_webhook_and_retrains_through_the_event_trigger_despite_a_junk_file(
    tmp_path: Path, diabetes_csv: Path, monkeypatch: pytest.MonkeyPatch
):
    from mlyard.services.workspaces.workspace import create_workspace

    workspace = tmp_path / "ws"
    create_workspace(workspace)
    monkeypatch.setenv("MLYARD_WORKSPACE", str(workspace))
    client = mlyard.MLClient(workspace)
    frame = _train_production(client, diabetes_csv, workspace)
    receiver = WebhookReceiver().start()
    server = start_server(workspace, tmp_path / "server.log")
    try:
        secret = client.events.subscriptions.create(
            "alerts",
            ["monitor.alert"],
            {"MonitorName": "diabetes-monitor", "SignalName": "drift"},
            webhook=receiver.url,
        ).secret
        client.online_endpoints.create(EXAMPLES / "endpoint.yml")
        client.online_deployments.create(EXAMPLES / "blue.yml", all_traffic=True)
        key = client.online_endpoints.get_credentials("diabetes").primary_key
        drifted = frame[COLUMNS].copy()
        drifted[["bmi", "bp"]] += 0.05  # about one standard deviation
        _score(f"{server.url}/endpoints/diabetes/score", key, pd.concat([drifted, drifted]))
        inputs = wait_until(lambda: list(_collected(workspace, "model_inputs").rglob("*.parquet")),
                            timeout=30, message="the collector to write model_inputs")  # fmt: skip
        junk = _collected(workspace, "model_outputs") / inputs[0].parent.relative_to(
            _collected(workspace, "model_inputs")
        )
        junk.mkdir(parents=True, exist_ok=True)
        (junk / "junk.parquet").write_bytes(b"PAR1 this is not parquet")

        client.monitors.create(EXAMPLES / "monitor.yml")
        client.schedules.create(EXAMPLES / "retrain-on-alert.yml")
        command = [sys.executable, "-m", "mlyard.cli.main", "monitor", "run", "--name", "diabetes-monitor"]
        ran = subprocess.run(command, capture_output=True, text=True, timeout=120,
                             env=clean_environment(MLYARD_WORKSPACE=str(workspace)))  # fmt: skip
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert "Completed; breached: drift" in ran.stdout + ran.stderr

        details = client.monitors.show("diabetes-monitor")
        breached = {v.feature for v in details.verdicts if v.breached and v.signal == "drift"}
        assert breached == {"bmi", "bp"}
        [prediction_error] = [v.error for v in details.verdicts if v.signal == "predictions"]
        assert prediction_error and "junk.parquet" in prediction_error
        assert any(v.signal == "quality" and v.error is None for v in details.verdicts)

        alerts = client.events.list(types=["monitor.alert"])
        [alert] = [a for a in alerts if a.data["SignalName"] == "drift"]
        assert {f["feature"] for f in alert.data["Features"]} >= {"bmi", "bp"}
        [delivered] = receiver.wait_for(1, timeout=60)
        mlyard.events.verify(delivered.headers, delivered.body, secret)
        assert delivered.event["id"] == alert.id and delivered.event["type"] == "mlyard.monitor.alert"

        def retraining_job() -> str | None:
            firings = client.schedules.show("retrain-on-alert").firings
            assert all(f.error is None for f in firings), firings
            return next((f.job_id for f in firings if f.job_id), None)

        job_id = wait_until(retraining_job, timeout=60, message="the event trigger to start the retraining")
        job = client.jobs.wait(job_id, timeout=150)
        assert job.status.value == "Completed", job.error
        assert job.type == "pipeline" and job.tags["mlyard.alert"] == alert.id
        assert job.tags["drifted"] == "monitors/diabetes-monitor/signals/drift"
        challenger = client.models.get("diabetes-ridge@challenger")
        [request] = client.models.promotions("diabetes-ridge")
        assert (request.version, request.alias, request.state.value) == (
            challenger.version,
            "production",
            "pending",
        )
        assert client.models.get("diabetes-ridge@production").version == "1"
    finally:
        server.stop()
        receiver.stop()
        client.close()
