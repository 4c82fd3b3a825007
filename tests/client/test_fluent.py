"""The active-run API as a training script uses it, including what happens at exit."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import mlyard
from mlyard.errors import Conflict, InvalidArgument


def test_with_block_completes_and_everything_logged_is_readable(client):
    with mlyard.start_run(experiment="diabetes", display_name="try", tags={"t": 1}) as run:
        mlyard.log_param("alpha", 0.5)
        mlyard.log_params({"solver": "auto", "fit_intercept": True})
        for step in range(100):
            mlyard.log_metric("loss", 1.0 / (step + 1), step=step)
        mlyard.log_metrics({"mse": 2950.0, "r2": 0.45})
        mlyard.set_tags({"team": "clinic"})
    job = client.jobs.get(run.id)
    assert job.status == mlyard.JobStatus.COMPLETED
    assert job.params == {"alpha": "0.5", "solver": "auto", "fit_intercept": "True"}
    assert job.metrics["mse"] == 2950.0 and job.metrics["loss"] == pytest.approx(0.01)
    assert job.tags == {"t": "1", "team": "clinic"}
    assert len(client.jobs.metric_history(run.id, "loss")) == 100
    assert job.code is not None and job.code.source_hash
    assert job.runtime is not None and "pytest" in job.runtime.packages


def test_exception_in_with_block_fails_the_run_and_keeps_the_points(client):
    with pytest.raises(ZeroDivisionError), mlyard.start_run() as run:
        mlyard.log_metric("loss", 0.3)
        1 / 0  # noqa: B018
    job = client.jobs.get(run.id)
    assert job.status == mlyard.JobStatus.FAILED
    assert "ZeroDivisionError" in (job.error or "")
    assert job.metrics == {"loss": 0.3}


def test_sdk_reads_see_buffered_writes(client):
    run = mlyard.start_run()
    mlyard.log_metric("mse", 10.0)
    assert client.jobs.get(run.id).metrics == {"mse": 10.0}
    mlyard.end_run()


def test_logging_without_a_run_starts_one(client):
    mlyard.log_metric("m", 1.0)
    run = mlyard.active_run()
    assert run is not None
    mlyard.end_run()
    assert client.jobs.get(run.id).status == mlyard.JobStatus.COMPLETED


def test_starting_a_second_run_needs_nested(client):
    with mlyard.start_run() as parent:
        with pytest.raises(Conflict, match="already active"):
            mlyard.start_run()
        with mlyard.start_run(nested=True) as child:
            mlyard.log_metric("x", 1)
    assert client.jobs.get(child.id).parent_job_id == parent.id


def test_a_nested_run_lands_in_its_parents_experiment(client):
    with mlyard.start_run(experiment="nest") as parent:
        with mlyard.start_run(nested=True) as child:
            mlyard.log_metric("x", 1)
        with mlyard.start_run(experiment="elsewhere", nested=True) as placed:
            pass
    assert client.jobs.get(child.id).experiment == "nest"
    assert client.jobs.get(child.id).parent_job_id == parent.id
    assert client.jobs.get(placed.id).experiment == "elsewhere"  # an explicit one still wins


def test_a_nan_or_infinite_metric_is_stored_and_the_run_completes(client):
    with mlyard.start_run(experiment="diverge") as run:
        mlyard.log_param("alpha", 0.5)
        mlyard.log_metric("loss", 1.0, step=0)
        mlyard.log_metric("loss", float("nan"), step=1)
        mlyard.log_metrics({"grad": float("inf"), "floor": -math.inf, "ok": 2.0})
    job = client.jobs.get(run.id)
    assert job.status == mlyard.JobStatus.COMPLETED and job.params == {"alpha": "0.5"}
    assert math.isnan(job.metrics["loss"])
    assert (job.metrics["grad"], job.metrics["floor"], job.metrics["ok"]) == (math.inf, -math.inf, 2.0)
    first, second = client.jobs.metric_history(run.id, "loss")
    assert (first.step, first.value, second.step) == (0, 1.0, 1) and math.isnan(second.value)
    assert json.loads(json.dumps(job.summary(), allow_nan=False))["metrics"]["loss"] == "NaN"


@pytest.mark.parametrize("value", [None, "high", True, [1.0]])
def test_a_metric_that_is_not_a_number_is_refused_at_the_call(client, value):
    with mlyard.start_run() as run:
        mlyard.log_metric("good", 1.0)
        with pytest.raises(InvalidArgument, match="metric 'loss' must be a number, got "):
            mlyard.log_metric("loss", value)
    job = client.jobs.get(run.id)
    assert job.status == mlyard.JobStatus.COMPLETED and job.metrics == {"good": 1.0}


def test_a_refused_flush_keeps_the_good_values_and_the_run_still_ends(client):
    run = mlyard.start_run()
    client.jobs.log_batch(run.id, {"alpha": "1"})  # another writer set it first
    mlyard.log_param("alpha", 2)  # buffered: the store refuses it at the flush
    mlyard.log_param("beta", 3)
    mlyard.log_metric("loss", 0.5)
    mlyard.set_tag("team", "clinic")
    with pytest.raises(Conflict, match="param 'alpha' of job .* is already '1', cannot change it to '2'"):
        mlyard.end_run()
    assert mlyard.active_run() is None
    job = client.jobs.get(run.id)  # a read flushes what is pending: nothing is, nothing raises
    assert job.status == mlyard.JobStatus.COMPLETED
    assert job.params == {"alpha": "1", "beta": "3"}
    assert job.metrics == {"loss": 0.5} and job.tags["team"] == "clinic"


def test_changing_a_param_fails_at_the_call(client):
    with mlyard.start_run():
        mlyard.log_param("alpha", 1)
        with pytest.raises(Conflict, match="param 'alpha'.*immutable"):
            mlyard.log_param("alpha", 2)
        with pytest.raises(InvalidArgument, match="metric 'mse' must be a number"):
            mlyard.log_metric("mse", "high")


def test_artifacts_dict_text_and_figure(client, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    report = tmp_path / "report.txt"
    report.write_text("hello")
    folder = tmp_path / "plots"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_text("a")
    with mlyard.start_run() as run:
        mlyard.log_artifact(report)
        mlyard.log_artifact(report, artifact_path="docs")
        mlyard.log_artifacts(folder, artifact_path="plots")
        mlyard.log_dict({"features": 10}, "config.json")
        mlyard.log_dict({"features": 10}, "config.yaml")
        figure, axes = plt.subplots()
        axes.plot([1, 2, 3])
        mlyard.log_figure(figure, "curve.png")
        plt.close(figure)
        with pytest.raises(InvalidArgument, match="'..'"):
            mlyard.log_dict({}, "../escape.json")
        with pytest.raises(InvalidArgument):
            mlyard.log_artifact(report, artifact_path="/etc")
    names = sorted(a.path for a in client.jobs.list_artifacts(run.id))
    assert names == [
        "config.json",
        "config.yaml",
        "curve.png",
        "docs/report.txt",
        "plots/sub/a.txt",
        "report.txt",
    ]
    target = client.jobs.download(run.id, tmp_path / "down")
    assert json.loads((target / "artifacts" / "config.json").read_text()) == {"features": 10}
    assert (target / "artifacts" / "curve.png").read_bytes()[:4] == b"\x89PNG"


def test_use_data_returns_a_path_and_records_lineage(client, diabetes_csv):
    client.data.create(name="diabetes", path=diabetes_csv)
    with mlyard.start_run() as run:
        path = mlyard.use_data("diabetes@latest")
        assert Path(path).read_bytes() == diabetes_csv.read_bytes()
    assert [(i.name, i.version) for i in client.jobs.get(run.id).inputs] == [("diabetes", "1")]


def test_run_get_context_attaches_to_the_job_in_the_environment(client, monkeypatch):
    job = client.jobs.create_run(experiment="jobs")
    monkeypatch.setenv("MLYARD_JOB_ID", job.id)
    run = mlyard.Run.get_context()
    assert run.id == job.id
    run.log_metric("acc", 0.9)
    mlyard.end_run()  # the runner owns the job: ending the context only flushes
    found = client.jobs.get(job.id)
    assert found.metrics == {"acc": 0.9} and found.status == mlyard.JobStatus.RUNNING


SCRIPT = """
import sys, mlyard
run = mlyard.start_run(experiment="exit")
print(run.id, flush=True)
for step in range({points}):
    mlyard.log_metric("loss", step * 0.5, step=step)
if {crash}:
    raise RuntimeError("training diverged")
"""


@pytest.mark.parametrize("crash", [False, True])
def test_no_point_is_lost_when_the_process_exits(client, crash, tmp_path):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(SCRIPT.format(points=12_345, crash=crash)))
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**_env(), **_place()},
    )
    assert done.returncode == (1 if crash else 0), done.stderr
    job = client.jobs.get(done.stdout.split()[0])
    assert len(client.jobs.metric_history(job.id, "loss")) == 12_345
    if crash:
        assert job.status == mlyard.JobStatus.FAILED and "training diverged" in (job.error or "")
    else:
        assert job.status == mlyard.JobStatus.COMPLETED


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("MLYARD_")}


def _place() -> dict[str, str]:
    """The MLYARD_* variables the `client` fixture set: a subprocess logs where the client reads."""
    import os

    return {k: v for k, v in os.environ.items() if k.startswith("MLYARD_")}


def test_interrupting_a_run_marks_it_canceled(client):
    with pytest.raises(KeyboardInterrupt), mlyard.start_run() as run:
        mlyard.log_metric("loss", 0.5)
        raise KeyboardInterrupt
    job = client.jobs.get(run.id)
    assert job.status == mlyard.JobStatus.CANCELED and job.metrics == {"loss": 0.5}
