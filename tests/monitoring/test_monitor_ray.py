"""A monitor whose `compute` names Ray summarises the production files in Ray tasks and merges
the summaries in the monitor process: the same values as the same monitor run locally. A compute
that does not exist is refused at create time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import mlyard
from mlyard.errors import InvalidArgument


@pytest.fixture
def client(tmp_path: Path) -> Any:
    from mlyard.services.workspaces.workspace import create_workspace

    create_workspace(tmp_path / "ws")
    found = mlyard.MLClient(tmp_path / "ws")
    rng = np.random.default_rng(1)
    reference = pd.DataFrame({"age": rng.normal(50, 10, 3000), "sex": rng.choice(["m", "f"], 3000)})
    reference.to_parquet(tmp_path / "reference.parquet")
    (tmp_path / "production").mkdir()
    for part in range(3):  # three files: three Ray tasks, merged
        table = pd.DataFrame(
            {"age": rng.normal(50 + 5 * part, 10, 1000), "sex": rng.choice(["m", "f", None], 1000)}
        )
        table.to_parquet(tmp_path / "production" / f"part-{part}.parquet")
    found.data.create("reference", tmp_path / "reference.parquet")
    found.data.create("production", tmp_path / "production", type="uri_folder")
    yield found
    found.close()


def _monitor(client: Any, tmp_path: Path, name: str, compute: str | None) -> None:
    data = {"production_data": {"input_data": {"path": "azureml:production:1", "type": "uri_folder"}},
            "reference_data": {"input_data": {"path": "azureml:reference:1"}}}  # fmt: skip
    spec: dict[str, Any] = {"monitoring_signals": {
        "drift": {"type": "data_drift", **data}, "quality": {"type": "data_quality", **data}}}  # fmt: skip
    if compute is not None:
        spec["compute"] = compute
    path = tmp_path / f"{name}.yml"
    path.write_text(yaml.safe_dump({"name": name, "create_monitor": spec}))
    client.monitors.create(path)


def test_a_monitor_on_a_compute_that_does_not_exist_is_refused(client: Any, tmp_path: Path):
    with pytest.raises(
        InvalidArgument, match=r"m.yml: create_monitor.compute: compute 'rya' does not exist here"
    ):
        _monitor(client, tmp_path, "m", "rya")
    assert client.monitors.list() == []


@pytest.mark.slow
def test_the_same_monitor_gives_the_same_values_locally_and_on_ray(client: Any, tmp_path: Path):
    found = {}
    for name, compute in (("here", None), ("onray", "ray")):
        _monitor(client, tmp_path, name, compute)
        job = client.jobs.wait(client.monitors.run(name).id, timeout=300)
        assert job.status.value == "Completed", job.error
        lines: list[str] = []
        client.jobs.stream(job.id, write=lines.append)
        assert ("summarised on Ray" in "".join(lines)) == (compute == "ray"), "".join(lines)[:3000]
        found[name] = {
            (v.signal, v.feature, v.metric): (v.value, v.threshold, v.breached, v.error,
                                              v.reference_histogram, v.production_histogram)
            for v in client.monitors.show(name).verdicts
        }  # fmt: skip
    assert found["here"] == found["onray"]
    assert found["here"][("drift", "age", "normalized_wasserstein_distance")][2]  # the shifted files breach
    assert len(found["here"]) > 4
