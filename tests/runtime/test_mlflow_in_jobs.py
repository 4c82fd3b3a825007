"""MLflow inside jobs, as on Azure ML: `mlflow.log_*` and `autolog` in a job's code write to that job.

Every test runs three times (the `client` fixture): on an embedded SQLite and an embedded
PostgreSQL workspace — the job's runner starts a loopback MLflow API for its jobs — and through a
team server, whose worker points the job at the server's own MLflow API. The code is the real
`mlflow` client, unmodified, in the job's own process.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.conftest import CLIENT_BACKENDS

pytestmark = pytest.mark.slow


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


LOG_WITH_MLFLOW = """\
import os, sys
import mlflow
import mlyard

assert os.environ["MLFLOW_RUN_ID"] == os.environ["MLYARD_JOB_ID"]
with mlflow.start_run() as run:  # resumes the job's run (MLFLOW_RUN_ID); its end does not end the job
    mlflow.log_param("alpha", sys.argv[1])
    for step in range(3):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.set_tag("framework", "mlflow")
    mlflow.log_text("hello", "notes/hello.txt")
    seen = run.info.run_id
mlyard.log_metric("mlyard_metric", 7.0)  # mlyard's own logging, alongside
assert seen == os.environ["MLYARD_JOB_ID"]
"""

COMMAND_JOB = """\
$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
command: python log.py 0.5
code: ./src
environment: inherit
experiment_name: mlflow-in-jobs
"""


def test_mlflow_logging_in_a_command_job_writes_to_the_job_and_mlyard_logging_still_works(client, tmp_path):
    write(tmp_path / "src" / "log.py", LOG_WITH_MLFLOW)
    job = client.jobs.create(write(tmp_path / "job.yml", COMMAND_JOB), wait=True)
    assert job.status.value == "Completed", job.error
    assert job.params == {"alpha": "0.5"}
    assert job.tags["framework"] == "mlflow"
    assert [point.value for point in client.jobs.metric_history(job.id, "loss")] == [1.0, 0.5, 1.0 / 3]
    assert job.metrics["mlyard_metric"] == 7.0
    artifacts = {item.path for item in client.jobs.list_artifacts(job.id)}
    assert any(path.endswith("notes/hello.txt") for path in artifacts), artifacts


AUTOLOG = """\
import mlflow
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

mlflow.sklearn.autolog(registered_model_name="{model}")
X, y = load_diabetes(return_X_y=True)
Ridge(alpha=0.25).fit(X, y)
"""


def test_sklearn_autolog_in_a_job_logs_params_metrics_and_registers_the_model(client, tmp_path):
    write(tmp_path / "src" / "log.py", AUTOLOG.format(model="autologged-ridge"))
    job = client.jobs.create(write(tmp_path / "job.yml", COMMAND_JOB), wait=True)
    assert job.status.value == "Completed", job.error
    assert job.params["alpha"] == "0.25"
    assert "training_score" in job.metrics
    version = client.models.get("autologged-ridge@latest")
    assert version.version == "1" and version.job_id == job.id


PIPELINE = """\
$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json
type: pipeline
experiment_name: mlflow-pipeline
jobs:
  first:
    command: python log.py 1
    code: ./src
    environment: inherit
  second:
    command: python log.py 2
    code: ./src
    environment: inherit
"""


def test_mlflow_logging_in_pipeline_steps_writes_to_each_step(client, tmp_path):
    write(tmp_path / "src" / "log.py", LOG_WITH_MLFLOW)
    pipeline = client.jobs.create(write(tmp_path / "pipeline.yml", PIPELINE), wait=True)
    assert pipeline.status.value == "Completed", pipeline.error
    steps = {step.params["alpha"]: step for step in client.jobs.children(pipeline.id)}
    assert set(steps) == {"1", "2"}
    for step in steps.values():
        assert step.status.value == "Completed" and step.metrics["loss"] == pytest.approx(1.0 / 3)


TRIAL = """\
import argparse, time
import mlflow

parser = argparse.ArgumentParser()
parser.add_argument("--learning_rate", type=float)
args = parser.parse_args()
score = 1.0 - abs(args.learning_rate - 0.1)
for step in range(40 if args.learning_rate > 0.5 else 3):
    mlflow.log_metric("accuracy", score, step=step)
    time.sleep(0.1)
"""

SWEEP = """\
$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json
type: sweep
experiment_name: mlflow-sweep
trial:
  code: ./src
  command: python train.py --learning_rate ${{search_space.learning_rate}}
  environment: inherit
sampling_algorithm: grid
search_space:
  learning_rate: {type: choice, values: [0.1, 0.9]}
objective: {goal: maximize, primary_metric: accuracy}
limits: {max_total_trials: 2, max_concurrent_trials: 2, timeout: 600}
early_termination: {type: bandit, slack_factor: 0.1, evaluation_interval: 1, delay_evaluation: 2}
"""


@pytest.fixture(params=CLIENT_BACKENDS)
def two_slot_client(request, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """The `client` fixture's three places, with a server whose worker runs two jobs at once: early
    termination needs the trials to run side by side, as the embedded runner runs them."""
    import mlyard
    from mlyard.services.workspaces.workspace import create_workspace

    path = tmp_path / "ws"
    db = request.getfixturevalue("pg_database") if request.param == "postgresql" else None
    create_workspace(path, db=db)
    if request.param != "remote":
        monkeypatch.setenv("MLYARD_WORKSPACE", str(path))
        return mlyard.MLClient(workspace=path)
    remote = mlyard.MLClient(url=request.getfixturevalue("serve_workspace")(path, workers=2))
    request.addfinalizer(remote.close)
    return remote


def test_a_primary_metric_logged_with_mlflow_drives_the_sweep(two_slot_client, tmp_path):
    client = two_slot_client
    write(tmp_path / "src" / "train.py", TRIAL)
    sweep = client.jobs.create(write(tmp_path / "sweep.yml", SWEEP), wait=True)
    assert sweep.status.value == "Completed", sweep.error
    trials = {trial.params["learning_rate"]: trial for trial in client.jobs.children(sweep.id)}
    assert sweep.tags["best_child_run_id"] == trials["0.1"].id
    assert sweep.metrics["accuracy"] == pytest.approx(1.0)
    assert trials["0.9"].tags["mlyard.early_terminated"].startswith("bandit")


SCORE = """\
import mlflow

def init():
    pass

def run(mini_batch):
    mlflow.log_metric("rows", len(mini_batch))
    return [str(len(mini_batch))]
"""

PARALLEL = """\
$schema: https://azuremlschemas.azureedge.net/latest/parallelJob.schema.json
type: parallel
experiment_name: mlflow-parallel
inputs:
  table: {type: uri_file, path: ./table.csv}
outputs:
  scores: {type: uri_folder}
input_data: ${{inputs.table}}
partition_keys: [region]
resources: {instance_count: 1}
max_concurrency_per_instance: 2
task:
  type: run_function
  code: ./src
  entry_script: score.py
  environment: inherit
  append_row_to: ${{outputs.scores}}
"""


def test_mlflow_logging_in_a_parallel_job_writes_to_each_mini_batch(client, tmp_path):
    write(tmp_path / "src" / "score.py", SCORE)
    (tmp_path / "table.csv").write_text("region,value\nnorth,1\nnorth,2\nsouth,3\n")
    job = client.jobs.create(write(tmp_path / "parallel.yml", PARALLEL), wait=True)
    assert job.status.value == "Completed", job.error
    rows = {child.tags["region"]: child.metrics["rows"] for child in client.jobs.children(job.id)}
    assert rows == {"north": 2.0, "south": 1.0}


def test_mlflow_in_a_job_on_a_worker_elsewhere_logs_through_the_server_with_the_workers_key(tmp_path):
    """A worker that reaches its server over HTTP (here: another process), on a workspace that
    requires API keys: the job's mlflow client sends the worker's key to the server's MLflow API."""
    import mlyard
    from mlyard.services.workspaces import keys
    from mlyard.services.workspaces.workspace import create_workspace
    from tests.processes import start_server, start_worker

    workspace, _ = create_workspace(tmp_path / "ws")
    operator = keys.create_key(workspace, "worker-bot", "operator").token
    contributor = keys.create_key(workspace, "alice", "contributor").token
    write(tmp_path / "project" / "src" / "log.py", LOG_WITH_MLFLOW)
    job_file = write(tmp_path / "project" / "job.yml", COMMAND_JOB)
    server = start_server(tmp_path / "ws", tmp_path / "server.log", "--no-worker")
    try:
        client = mlyard.MLClient(url=server.url, key=contributor)
        job_id = client.jobs.create(job_file).id
        worker = start_worker(server.url, operator, tmp_path / "worker.log")
        try:
            job = client.jobs.wait(job_id, timeout=180)
        finally:
            worker.stop()
        assert job.params == {"alpha": "0.5"} and job.metrics["loss"] == pytest.approx(1.0 / 3)
        assert job.metrics["mlyard_metric"] == 7.0
        client.close()
    finally:
        server.stop()
