"""`client.monitors` behaves the same on embedded SQLite, embedded PostgreSQL and a team server
(the `client` fixture): the statistics check refuses a bad signal at create time on every one; and
a monitor of two data assets runs as a job on a team server over PostgreSQL (the embedded SQLite
run is in test_monitors.py) and keeps its verdicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from mlyard.errors import InvalidSpec, NotFound


def _assets(client: Any, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    reference = pd.DataFrame({"age": rng.normal(50, 10, 1000), "bmi": rng.normal(25, 4, 1000)})
    production = reference.assign(age=reference["age"] + 15)
    reference.to_parquet(tmp_path / "reference.parquet")
    production.to_parquet(tmp_path / "production.parquet")
    client.data.create("reference", tmp_path / "reference.parquet")
    client.data.create("production", tmp_path / "production.parquet")


def _monitor(tmp_path: Path, name: str = "pair", **drift: Any) -> Path:
    signal = {"type": "data_drift", "production_data": {"input_data": {"path": "azureml:production:1"}},
              "reference_data": {"input_data": {"path": "azureml:reference:1"}}, **drift}  # fmt: skip
    path = tmp_path / f"{name}.yml"
    path.write_text(
        yaml.safe_dump({"name": name, "create_monitor": {"monitoring_signals": {"drift": signal}}})
    )
    return path


def test_a_bad_signal_is_refused_with_its_did_you_mean_on_every_backend(client: Any, tmp_path: Path):
    _assets(client, tmp_path)
    typo = {"metric_thresholds": {"numerical": {"jensen_shanon_distance": 0.1}}}
    with pytest.raises(InvalidSpec, match="did you mean 'jensen_shannon_distance'") as caught:
        client.monitors.create(_monitor(tmp_path, **typo))
    assert "pair.yml: create_monitor.monitoring_signals.drift" in caught.value.message
    with pytest.raises(InvalidSpec, match="expected a number"):
        client.monitors.create(
            _monitor(tmp_path, metric_thresholds={"numerical": {"jensen_shannon_distance": "x"}})
        )
    # The same check runs when the monitor comes as a schedule.
    spec = yaml.safe_load(_monitor(tmp_path, **typo).read_text())
    spec["trigger"] = {"type": "recurrence", "frequency": "day", "interval": 1}
    (tmp_path / "s.yml").write_text(yaml.safe_dump(spec))
    with pytest.raises(InvalidSpec, match="did you mean 'jensen_shannon_distance'"):
        client.schedules.create(tmp_path / "s.yml")
    assert client.monitors.list() == [] and client.schedules.list() == []
    with pytest.raises(NotFound, match="monitor 'pair' does not exist"):
        client.monitors.show("pair")


@pytest.fixture
def server_on_postgresql(tmp_path: Path, pg_database: str, serve_workspace: Any) -> Any:
    import mlyard
    from mlyard.services.workspaces.workspace import create_workspace

    create_workspace(tmp_path / "ws", db=pg_database)
    remote = mlyard.MLClient(url=serve_workspace(tmp_path / "ws"))
    yield remote
    remote.close()


@pytest.mark.slow
def test_a_monitor_of_two_data_assets_runs_as_a_job_on_a_server_over_postgresql(
    server_on_postgresql: Any, tmp_path: Path
):
    client = server_on_postgresql
    _assets(client, tmp_path)
    created = client.monitors.create(_monitor(tmp_path))
    assert created.name == "pair" and created.target_kind == "data"
    assert [m.name for m in client.monitors.list()] == ["pair"]
    job = client.jobs.wait(client.monitors.run("pair").id, timeout=180)
    assert job.type == "monitor" and job.status.value == "Completed"
    details = client.monitors.show("pair")
    assert details.latest_job == job.id and details.runs[0].job_id == job.id and details.runs[0].breached > 0
    verdicts = {(v.feature, v.metric): v.breached for v in details.verdicts}
    assert verdicts[("age", "normalized_wasserstein_distance")] is True
    assert verdicts[("bmi", "normalized_wasserstein_distance")] is False
    history = client.monitors.history("pair", "drift", "age", "normalized_wasserstein_distance")
    assert [h.job_id for h in history] == [job.id] and history[0].breached
    client.monitors.delete("pair")
    with pytest.raises(NotFound):
        client.monitors.get("pair")
    assert client.monitors.history("pair", "drift", "age")[0].job_id == job.id  # results stay
