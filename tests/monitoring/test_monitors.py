"""Monitors end to end on an embedded SQLite workspace: create (checked whole, nothing stored on
an error), run as a job of type monitor in its own process, show, history, the CLI's JSON, the
schedule that fires it, lineage's reference and a stale model. A collecting online deployment is in
test_monitor_deployment.py, a batch deployment in test_monitor_batch.py, the other backends in
test_monitor_backends.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import mlyard
from mlyard.errors import InvalidSpec, MlyardError, NotFound


def _client(tmp_path: Path) -> Any:
    from mlyard.services.workspaces.workspace import create_workspace

    create_workspace(tmp_path / "ws")
    return mlyard.MLClient(tmp_path / "ws")


def _tables(tmp_path: Path, shift: float = 15.0) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    reference = pd.DataFrame(
        {"age": rng.normal(50, 10, 2000), "bmi": rng.normal(25, 4, 2000), "sex": rng.choice(["m", "f"], 2000)}
    )
    production = reference.copy()
    production["age"] = production["age"] + shift
    reference.to_parquet(tmp_path / "reference.parquet")
    production.to_parquet(tmp_path / "production.parquet")
    return tmp_path / "reference.parquet", tmp_path / "production.parquet"


def _write(path: Path, spec: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(spec))
    return path


def _two_assets(name: str = "two", **signal: Any) -> dict[str, Any]:
    drift = {"type": "data_drift", "production_data": {"input_data": {"path": "azureml:production:1"}},
             "reference_data": {"input_data": {"path": "azureml:reference:1"}}, **signal}  # fmt: skip
    return {"name": name, "create_monitor": {"monitoring_signals": {"drift": drift}}}


def _threshold(metric: str, value: Any) -> dict[str, Any]:
    return {"metric_thresholds": {"numerical": {metric: value}}}


@pytest.fixture
def assets(tmp_path: Path) -> Any:
    client = _client(tmp_path)
    reference, production = _tables(tmp_path)
    client.data.create("reference", reference)
    client.data.create("production", production)
    yield client
    client.close()


@pytest.mark.parametrize(
    ("signal", "expected"),
    [
        ({"type": "data_drfit"}, "unknown signal type 'data_drfit' (did you mean 'data_drift'?)"),
        (_threshold("jensen_shanon_distance", 0.1), "did you mean 'jensen_shannon_distance'"),
        (_threshold("jensen_shannon_distance", "high"), "expected a number, got 'high'"),
        ({"features": ["age", "weight"]}, "the reference azureml:reference:1 has no column 'weight'"),
        ({"production_data": {"input_data": {"path": "nowhere:1"}}}, "production_data.input_data.path"),
        ({"production_data": {"data_window": {"lookback_window_size": "7 days"}}}, "an ISO 8601 duration"),
    ],
)  # fmt: skip
def test_a_bad_monitor_is_refused_with_its_field_and_nothing_is_stored(
    assets: Any, tmp_path: Path, signal: dict[str, Any], expected: str
):
    spec = _two_assets()
    drift = spec["create_monitor"]["monitoring_signals"]["drift"]
    for key, value in signal.items():
        drift[key] = {**drift.get(key, {}), **value} if key == "production_data" else value
    with pytest.raises(MlyardError) as caught:
        assets.monitors.create(_write(tmp_path / "bad.yml", spec))
    assert expected in caught.value.message
    assert "bad.yml: create_monitor.monitoring_signals.drift" in caught.value.message
    assert assets.monitors.list() == []


def test_alert_emails_without_an_smtp_server_are_a_warning_naming_the_setting(assets: Any, tmp_path: Path):
    from mlyard.entities.specs.spec_warnings import SpecWarning

    spec = _two_assets("mailed")
    spec["create_monitor"]["alert_notification"] = {"emails": ["ops@example.com"]}
    with pytest.warns(
        SpecWarning, match=r"m.yml: create_monitor.alert_notification.emails: this workspace has no SMTP"
    ):
        assets.monitors.create(_write(tmp_path / "m.yml", spec))
    assets.monitors.delete("mailed")
    assets.settings.update(smtp_host="127.0.0.1")
    with warnings.catch_warnings():
        warnings.simplefilter("error", SpecWarning)
        assets.monitors.create(_write(tmp_path / "m.yml", spec))


def test_a_deployment_without_data_collection_is_refused(assets: Any, tmp_path: Path):
    from tests.serving.endpoint_support import register_ridge

    version, _, _ = register_ridge(assets)
    assets.online_endpoints.create({"name": "plain", "auth_mode": "key"})
    model = f"azureml:{version.name}:{version.version}"
    assets.online_deployments.create({"name": "blue", "endpoint_name": "plain", "model": model}, wait=False)
    spec = {"name": "watch", "create_monitor": {
        "monitoring_target": {"endpoint_deployment_id": "azureml:plain:blue"},
        "monitoring_signals": {"drift": {
            "type": "data_drift", "reference_data": {"input_data": {"path": "reference:1"}}}}}}  # fmt: skip
    with pytest.raises(InvalidSpec, match="deployment plain:blue does not collect model_inputs"):
        assets.monitors.create(_write(tmp_path / "m.yml", spec))
    spec["create_monitor"]["monitoring_target"]["endpoint_deployment_id"] = "azureml:plain:green"
    with pytest.raises(NotFound, match="endpoint_deployment_id"):
        assets.monitors.create(_write(tmp_path / "m.yml", spec))
    assert assets.monitors.list() == []


def test_a_monitor_schedule_stores_its_monitor_fires_a_monitor_job_and_goes_with_it(
    assets: Any, tmp_path: Path
):
    from mlyard.services.schedules import firing

    spec = _two_assets("daily") | {"trigger": {"type": "recurrence", "frequency": "day", "interval": 1}}
    assets.schedules.create(_write(tmp_path / "s.yml", spec))
    monitor = assets.monitors.get("daily")
    assert (monitor.schedule, monitor.lookback, monitor.target_kind) == ("daily", "PT86400S", "data")
    firing_id = firing.trigger_now(assets._workspace, "daily")
    fired = firing.run_pending(assets._workspace, dispatch=None, only=firing_id)
    assert fired[0].job is not None and fired[0].job.type == "monitor"
    assert fired[0].job.tags["mlyard.monitor"] == "daily"
    assets.schedules.delete("daily")
    with pytest.raises(NotFound):
        assets.monitors.get("daily")


@pytest.mark.slow
def test_two_data_assets_the_drifted_column_breaches_and_the_others_do_not(assets: Any, tmp_path: Path):
    assets.monitors.create(_write(tmp_path / "m.yml", _two_assets()))
    job = assets.jobs.wait(assets.monitors.run("two").id, timeout=120)
    assert job.status.value == "Completed", job.error
    assert job.type == "monitor"
    verdicts = {(v.feature, v.metric): v for v in assets.monitors.show("two").verdicts}
    assert verdicts[("age", "normalized_wasserstein_distance")].breached
    assert not verdicts[("bmi", "normalized_wasserstein_distance")].breached
    assert not verdicts[("sex", "jensen_shannon_distance")].breached
    assert verdicts[("age", "normalized_wasserstein_distance")].reference == "reference:1"
    assert verdicts[("age", "normalized_wasserstein_distance")].production_histogram is not None
    history = assets.monitors.history("two", "drift", "age")
    assert [h.job_id for h in history] == [job.id]
    with pytest.raises(
        NotFound, match="no signal 'drfit' \\(did you mean 'drift'\\?\\); its runs recorded: drift"
    ):
        assets.monitors.history("two", "drfit", "age")
    with pytest.raises(NotFound, match="no feature 'aeg' \\(did you mean 'age'\\?\\) for signal 'drift'"):
        assets.monitors.history("two", "drift", "aeg")
    with pytest.raises(NotFound, match="no metric 'psi' for signal 'drift'"):
        assets.monitors.history("two", "drift", "age", metric="psi")
    env = {**os.environ, "MLYARD_WORKSPACE": str(tmp_path / "ws")}
    command = [sys.executable, "-m", "mlyard.cli.main", "monitor", "show", "--name", "two", "-o", "json"]
    shown = subprocess.run(command,
                           capture_output=True, text=True, env=env, check=True)  # fmt: skip
    rows = json.loads(shown.stdout)
    assert {"feature", "metric", "value", "threshold", "breached", "signal"} <= set(rows[0])
    assert {(r["feature"], r["breached"]) for r in rows} == {("age", True), ("bmi", False), ("sex", False)}
    assets.monitors.delete("two")
    assert assets.monitors.history("two", "drift", "age")[0].job_id == job.id  # results stay


@pytest.mark.slow
def test_lineage_gives_the_default_reference_and_an_old_model_is_stale(assets: Any, tmp_path: Path):
    from sklearn.linear_model import LinearRegression

    run = assets.jobs.create_run(experiment="train")
    assets.jobs.log_input(run.id, "data", "reference", "1")
    assets.jobs.end_run(run.id)
    frame = pd.read_parquet(tmp_path / "reference.parquet")
    fitted = LinearRegression().fit(frame[["age", "bmi"]], frame["bmi"])
    assets.models.log(fitted, "risk", "sklearn", job_id=run.id)
    spec = {"name": "lineage", "create_monitor": {
        "monitoring_target": {"model_id": "azureml:risk:1"},
        "monitoring_signals": {
            "drift": {"type": "data_drift", "features": ["age", "bmi"],
                      "production_data": {"input_data": {"path": "azureml:production:1"}}},
            "stale": {"type": "model_staleness", "max_age_days": 0.000001},
            "late": {"type": "data_quality",
                     "production_data": {"input_data": {"path": "azureml:production:1"},
                                         "data_window": {"window_start": "2020-01-01T00:00:00",
                                                         "window_end": "2020-01-02T00:00:00"}}},
        }}}  # fmt: skip
    assets.monitors.create(_write(tmp_path / "m.yml", spec))
    time.sleep(0.1)
    job = assets.jobs.wait(assets.monitors.run("lineage").id, timeout=120)
    assert job.status.value == "Completed", job.error
    verdicts = {(v.signal, v.feature): v for v in assets.monitors.show("lineage").verdicts}
    assert "through lineage" in (verdicts[("drift", "age")].reference or "")
    assert verdicts[("drift", "age")].breached and not verdicts[("drift", "bmi")].breached
    stale = verdicts[("stale", "risk:1")]
    assert (
        stale.breached
        and stale.metric == "max_age_days"
        and f"trained by job {run.id}" in (stale.reference or "")
    )
    # The production asset has no timestamp: a fixed window keeps it whole (no rows are dated).
    assert ("late", "age") in verdicts
