"""The custom signal: a registered component (custom_component/mean_shift.yml) runs as a child job
of the monitor job on two data assets and writes `group, metric_name, metric_value,
threshold_value`; its rows become verdicts. Bad specs are refused at create time, located, with
nothing stored; a failing child or a malformed table is that signal's error and the others run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import mlyard
from mlyard.errors import InvalidSpec, MlyardError, NotFound

COMPONENT = Path(__file__).parent / "custom_component" / "mean_shift.yml"


@pytest.fixture
def client(tmp_path: Path) -> Any:
    from mlyard.services.workspaces.workspace import create_workspace

    create_workspace(tmp_path / "ws")
    found = mlyard.MLClient(tmp_path / "ws")
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"age": rng.normal(50, 10, 500), "bmi": rng.normal(25, 4, 500)})
    production = reference.assign(age=reference["age"] + 15)  # age moves 1.5 standard deviations
    for name, table in (("reference", reference), ("production", production)):
        (tmp_path / name).mkdir()
        table.to_parquet(tmp_path / name / "part-0.parquet")
        found.data.create(name, tmp_path / name, type="uri_folder")
    found.components.create_or_update(COMPONENT)
    yield found
    found.close()


def _custom(**fields: Any) -> dict[str, Any]:
    signal = {
        "type": "custom",
        "component_id": "azureml:mean_shift:1",
        "input_data": {
            "production_data": {"input_data": {"path": "azureml:production:1", "type": "uri_folder"}},
            "reference_data": {"input_data": {"path": "azureml:reference:1", "type": "uri_folder"}},
        },
    }
    signal.update(fields)
    return signal


def _create(client: Any, tmp_path: Path, signals: dict[str, Any], name: str = "custom") -> Any:
    path = tmp_path / f"{name}.yml"
    path.write_text(yaml.safe_dump({"name": name, "create_monitor": {"monitoring_signals": signals}}))
    return client.monitors.create(path)


@pytest.mark.parametrize(
    ("fields", "error", "expected"),
    [
        ({"component_id": None}, InvalidSpec, "shift.component_id: a custom signal names its component"),
        ({"component_id": "azureml:mean_shfit:1"}, NotFound, "shift.component_id: "),
        ({"inputs": {"shap": "good"}}, InvalidSpec,
         "shift.inputs.shap: component mean_shift has no input 'shap' (did you mean 'shape'?)"),
        ({"inputs": {"std_threshold": "high"}}, InvalidSpec,
         "shift.inputs.std_threshold: expected a value of type number, got 'high'"),
        ({"inputs": {"production_data": "x"}}, InvalidSpec,
         "shift.inputs.production_data: input 'production_data' of component mean_shift is data "
         "(uri_folder); "
         "give it under input_data"),
        ({"input_data": {"production_data": {"input_data": {"path": "azureml:production:1"}}}}, InvalidSpec,
         "component mean_shift:1 needs input(s) 'reference_data'"),
        ({"input_data": {"shape": {"input_data": {"path": "azureml:production:1"}}}}, InvalidSpec,
         "shift.input_data.shape: input 'shape' of component mean_shift is of type string; "
         "give it under inputs"),
        ({"input_data": {**_custom()["input_data"], "reference_data": {"input_data": {"path": "nowhere:3"}}}},
         NotFound, "shift.input_data.reference_data.input_data.path"),
        ({"metric_thresholds": {"mean_shift_std": 0.5}}, InvalidSpec,
         "shift.metric_thresholds: expected a list of {metric_name, threshold}"),
        ({"metric_thresholds": [{"metric_name": "mean_shift_std", "threshold": "big"}]}, InvalidSpec,
         "shift.metric_thresholds[0].threshold: expected a number, got 'big'"),
        ({"metric_thresholds": [{"metric": "mean_shift_std", "threshold": 1}]}, InvalidSpec,
         "shift.metric_thresholds[0]: expected {metric_name: <name>, threshold: <number>}"),
    ],
)  # fmt: skip
def test_a_bad_custom_signal_is_refused_with_its_field_and_nothing_is_stored(
    client: Any, tmp_path: Path, fields: dict[str, Any], error: type[MlyardError], expected: str
):
    signal = {key: value for key, value in _custom(**fields).items() if value is not None}
    with pytest.raises(error) as caught:
        _create(client, tmp_path, {"shift": signal})
    assert expected in caught.value.message
    assert "custom.yml: create_monitor.monitoring_signals.shift" in caught.value.message
    assert client.monitors.list() == []


def test_a_custom_signal_is_stored_with_its_component_and_data_pinned(client: Any, tmp_path: Path):
    signal = _custom(component_id="mean_shift@latest")
    signal["input_data"]["production_data"]["input_data"]["path"] = "production@latest"
    monitor = _create(client, tmp_path, {"shift": signal})
    stored = monitor.spec["monitoring_signals"]["shift"]
    assert stored["component_id"] == "azureml:mean_shift:1"
    assert stored["input_data"]["production_data"]["input_data"]["path"] == "production:1"


@pytest.mark.slow
def test_custom_signals_run_as_child_jobs_breach_and_fail_one_by_one(client: Any, tmp_path: Path):
    thresholds = [{"metric_name": "mean_shift_std", "threshold": 0.5}]
    _create(client, tmp_path, {
        "shift": _custom(metric_thresholds=thresholds),  # the signal's threshold: age breaches
        "lenient": _custom(inputs={"std_threshold": 5.0}),  # the rows' own threshold_value: nothing does
        "malformed": _custom(inputs={"shape": "bad"}),
        "failing": _custom(inputs={"shape": "fail"}),
    })  # fmt: skip
    run = client.monitors.run("custom")
    job = client.jobs.wait(run.id, timeout=240)
    assert job.status.value == "Completed", job.error
    verdicts = {(v.signal, v.feature, v.metric): v for v in client.monitors.show("custom").verdicts}
    age = verdicts[("shift", "age", "mean_shift_std")]
    assert age.breached and age.threshold == 0.5 and age.value == pytest.approx(1.5, abs=0.1)
    assert not verdicts[("shift", "bmi", "mean_shift_std")].breached
    count = verdicts[("shift", "age", "row_count")]
    assert (count.value, count.threshold, count.breached) == (500.0, None, False)
    lenient = verdicts[("lenient", "age", "mean_shift_std")]
    assert (lenient.threshold, lenient.breached) == (5.0, False)
    malformed = verdicts[("malformed", "", "")]
    assert "has no column 'metric_value'" in (malformed.error or "")
    failing = verdicts[("failing", "", "")]
    assert "ended Failed" in (failing.error or "")
    children = client.jobs.search(parent_job_name=run.id)
    assert len(children) == 4 and {child.type for child in children} == {"command"}
    history = client.monitors.history("custom", "shift", "age", "mean_shift_std")
    assert [point.breached for point in history] == [True]
