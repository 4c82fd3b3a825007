"""A demo workspace for the studio's browser tests and `make screenshots`: the diabetes runs (params,
metric histories, artifacts of every preview kind), registered versions with a production alias
reached through an approved promotion and one pending, a pipeline with a reused step, a sweep, a
running job with a log — written through `services/`, as the SDK would — and a monitor whose three
runs are real monitor jobs (a runner process each), which take most of the seeding's time."""

from __future__ import annotations

import io
import json
import math
import random
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from mlyard.entities.governance.access import Actor, Role
from mlyard.entities.jobs.job import DataInput, Metric
from mlyard.runtime.job_log import JobLog, RunResult
from mlyard.services.data_assets import data
from mlyard.services.execution import job_runs
from mlyard.services.model_registry import models, promotions
from mlyard.services.tracking import job_artifacts, jobs
from mlyard.services.workspaces import audit
from mlyard.services.workspaces.workspace import Workspace

PIPELINE_SPEC = {
    "type": "pipeline",
    "jobs": {
        "prep": {"type": "command", "command": "python prep.py"},
        "train": {"type": "command", "inputs": {"data": "${{parent.jobs.prep.outputs.data}}"}},
        "gate": {"type": "command", "inputs": {"model": "${{parent.jobs.train.outputs.model}}"}},
    },
}

SWEEP_SPEC = {
    "type": "sweep",
    "objective": {"goal": "minimize", "primary_metric": "mse"},
    "search_space": {
        "alpha": {"type": "uniform", "min_value": 0, "max_value": 1},
        "solver": {"type": "choice", "values": ["auto", "svd"]},
    },
}


@dataclass
class Demo:
    """Ids the tests click through to."""

    runs: list[str] = field(default_factory=list)
    pipeline: str = ""
    sweep: str = ""
    running: str = ""
    pending_promotion: str = ""
    data: str = "diabetes"
    endpoint: str = "diabetes"
    batch_endpoint: str = "diabetes-batch"
    batch_job: str = ""
    scored_job: str = ""
    schedule: str = "nightly-retrain"
    subscription: str = "ops-hook"
    monitor: str = "diabetes-watch"
    monitor_runs: list[str] = field(default_factory=list)


def _points(key: str, values: list[float], start_ms: int) -> list[Metric]:
    return [Metric(key, value, step, start_ms + step * 1000) for step, value in enumerate(values)]


def _png() -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4, 3))
    axes = figure.subplots()
    axes.scatter(range(20), [math.sin(i / 3) for i in range(20)])
    axes.set_title("predicted vs actual")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _run(workspace: Workspace, name: str, alpha: float, rng: random.Random, steps: int) -> tuple[str, float]:
    job = jobs.start_job(workspace, experiment="diabetes", display_name=name, tags={"team": "clinic"})
    mse = 2800 + 900 * alpha + rng.uniform(-80, 80)
    loss = [mse * (1 + 4 * math.exp(-s / 40)) + rng.uniform(-30, 30) for s in range(steps)]
    jobs.record_run_data(
        workspace, job.id, {"alpha": str(alpha), "solver": "auto"},
        _points("loss", loss, 1_700_000_000_000), {"model": "ridge"},
    )  # fmt: skip
    job_artifacts.log_bytes(
        workspace, job.id, json.dumps({"alpha": alpha, "features": 10}).encode(), "config.json"
    )
    rows = "\n".join(f"{i},{150 + i},{148 + i + rng.uniform(-9, 9):.1f}" for i in range(30))
    job_artifacts.log_bytes(workspace, job.id, f"row,actual,predicted\n{rows}\n".encode(), "predictions.csv")
    job_artifacts.log_bytes(
        workspace, job.id, b"Ridge regression on the diabetes table.\n", "notes/report.txt"
    )
    job_artifacts.log_bytes(workspace, job.id, _png(), "plots/fit.png")
    jobs.end_job(
        workspace,
        job.id,
        metrics=[
            Metric("mse", mse, 0, 1_700_000_100_000),
            Metric("r2", 0.5 - alpha / 10, 0, 1_700_000_100_000),
        ],
    )
    return job.id, mse


def _register(workspace: Workspace, job_id: str, alpha: float, name: str = "diabetes-ridge") -> str:
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    x, y = load_diabetes(return_X_y=True)
    model = Ridge(alpha=alpha).fit(x, y)
    version = models.save_and_register_model(
        workspace, model, name, "sklearn", input_example=x[:3], job_id=job_id
    )
    return version.version


def _children(workspace: Workspace, parent: str, names: list[str], experiment: str) -> list[str]:
    ids = []
    for name in names:
        child = jobs.start_job(workspace, experiment=experiment, display_name=name, parent_job_id=parent)
        ids.append(child.id)
    return ids


def _data_assets(workspace: Workspace) -> None:
    """The diabetes table twice (version 2 one row shorter), and a file that is not a table."""
    import tempfile

    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame
    frame["sex"] = ["M" if value > 0 else "F" for value in frame["sex"]]  # as the raw table has it
    with tempfile.TemporaryDirectory(prefix="mlyard-demo-data-") as folder:
        table = Path(folder) / "diabetes.csv"
        frame.to_csv(table, index=False)
        data.create_data_asset(workspace, "diabetes", table, description="sklearn's diabetes table",
                               tags={"source": "sklearn"})  # fmt: skip
        frame.iloc[:-1].to_csv(table, index=False)
        data.create_data_asset(workspace, "diabetes", table, tags={"source": "sklearn"})
        notes = Path(folder) / "notes.bin"
        notes.write_bytes(bytes(range(256)))
        data.create_data_asset(workspace, "raw-notes", notes)


COMPONENT_YAML = """\
$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
name: train_ridge
display_name: Train a ridge regression
type: command
inputs:
  training_data: {type: uri_file}
  alpha: {type: number, default: 0.5}
outputs:
  model_output: {type: mlflow_model}
code: ./src
environment: azureml:sklearn-env:2
command: >-
  python train.py --data ${{inputs.training_data}} --alpha ${{inputs.alpha}}
  --out ${{outputs.model_output}}
"""


def _assets(workspace: Workspace) -> None:
    """An environment in two versions (the second built, with its log), a component, a compute."""
    import sys
    import tempfile

    from mlyard.entities.assets.environment_spec import EnvironmentSpec
    from mlyard.runtime.environments import build_log_artifact
    from mlyard.services.assets import components, computes, environments

    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    with tempfile.TemporaryDirectory(prefix="mlyard-demo-assets-") as folder:
        base = Path(folder)
        first = EnvironmentSpec(
            name="sklearn-env", pip_requirements=["scikit-learn>=1.4"], python_version=python
        )
        environments.create_environment(workspace, first, base)
        built = environments.create_environment(workspace, EnvironmentSpec(
            name="sklearn-env", pip_requirements=["scikit-learn>=1.5", "pandas"], python_version=python,
            description="sklearn and pandas"), base).environment  # fmt: skip
        log = f"creating venv with python {python}\ninstalling scikit-learn>=1.5 pandas\ndone in 12.3 s\n"
        workspace.artifacts.put_bytes(log.encode(), build_log_artifact(built.resolved.spec_hash))
        (base / "src").mkdir()
        (base / "src" / "train.py").write_text("print('train')\n")
        (base / "train.yml").write_text(COMPONENT_YAML)
        components.create_component(workspace, base / "train.yml")
    computes.create_compute(workspace, "cluster", "ray", "ray://10.0.0.5:10001", description="the GPU nodes")


def _partition_models(workspace: Workspace, count: int) -> None:
    """Seed 004's many models: one forecaster per store, tagged with its partition, each with the
    MAPE of the run that trained it (store-13 has no run: a model registered by hand)."""
    import tempfile

    rng = random.Random(4)
    with tempfile.TemporaryDirectory(prefix="mlyard-demo-models-") as folder:
        for index in range(count):
            store = f"store-{index + 1:02d}"
            weights = Path(folder) / "weights.txt"
            weights.write_text(f"{store}\n")
            job_id = None
            if store != "store-13":
                run = jobs.start_job(
                    workspace, experiment="forecast-per-store", display_name=f"train {store}"
                )
                jobs.end_job(workspace, run.id, metrics=[Metric("mape", round(rng.uniform(4, 30), 2), 0, 0)])
                job_id = run.id
            models.register_model_folder(
                workspace, f"forecast-{store}", weights, tags={"partition": store}, job_id=job_id
            )


def seed(workspace: Workspace, runs: int = 6, steps: int = 300, partitions: int = 56) -> Demo:
    demo = Demo()
    rng = random.Random(7)
    _data_assets(workspace)
    _assets(workspace)
    _partition_models(workspace, partitions)
    alice = Actor(name="alice", role=Role.CONTRIBUTOR, via="local")
    bob = Actor(name="bob", role=Role.OPERATOR, via="local")
    registered = []
    for index in range(runs):
        alpha = round(0.1 + 0.15 * index, 2)
        job_id, _ = _run(workspace, f"ridge-{index + 1}", alpha, rng, steps)
        demo.runs.append(job_id)
        jobs.record_input(workspace, job_id, DataInput(kind="data", name="diabetes", version="2"))
        if index < 3:
            registered.append(_register(workspace, job_id, alpha))
    with audit.acting_as(alice):
        first = promotions.request_promotion(
            workspace, "diabetes-ridge", registered[0], reason="best mse so far"
        )
    with audit.acting_as(bob):
        promotions.approve_promotion(workspace, first.id, "checked the evaluation")
    with audit.acting_as(alice):
        pending = promotions.request_promotion(workspace, "diabetes-ridge", registered[2], reason="retrained")
    demo.pending_promotion = pending.id
    models.set_alias(workspace, "diabetes-ridge", "staging", registered[1])

    earlier = jobs.start_job(workspace, experiment="diabetes-pipeline", display_name="pipeline (first)",
                             job_type="pipeline", spec=PIPELINE_SPEC)  # fmt: skip
    first_steps = _children(workspace, earlier.id, ["prep", "train", "gate"], "diabetes-pipeline")
    for child in first_steps:
        jobs.end_job(workspace, child)
    jobs.end_job(workspace, earlier.id)
    pipeline = jobs.start_job(workspace, experiment="diabetes-pipeline", display_name="pipeline (rerun)",
                              job_type="pipeline", spec=PIPELINE_SPEC)  # fmt: skip
    steps_now = _children(workspace, pipeline.id, ["prep", "train", "gate"], "diabetes-pipeline")
    job_runs.set_reuse(workspace, steps_now[0], "demo-reuse-key", first_steps[0])
    for child in steps_now:
        jobs.end_job(workspace, child)
    jobs.end_job(workspace, pipeline.id)
    demo.pipeline = pipeline.id

    sweep = jobs.start_job(workspace, experiment="diabetes-sweep", display_name="alpha sweep",
                           job_type="sweep", spec=SWEEP_SPEC)  # fmt: skip
    for trial in range(5):
        child = jobs.start_job(workspace, experiment="diabetes-sweep", display_name=f"trial {trial}",
                               parent_job_id=sweep.id)  # fmt: skip
        params = {"alpha": str(trial / 5), "solver": ["auto", "svd"][trial % 2], "data": "diabetes:2"}
        mse = 3000 - trial * 40 + (90 if trial == 3 else 0)  # trial 3 is worse than trial 2
        jobs.end_job(workspace, child.id, params=params,
                     metrics=[Metric("mse", mse, 0, 1_700_000_000_000)])  # fmt: skip
    jobs.end_job(workspace, sweep.id)
    demo.sweep = sweep.id

    running = jobs.start_job(workspace, experiment="diabetes", display_name="still training")
    workspace.artifacts.put_bytes(b"epoch 1: loss 3100\nepoch 2: loss 3050\n", job_runs.log_path(running.id))
    demo.running = running.id
    _endpoints(workspace, demo)
    _schedules_and_events(workspace, demo)
    _monitor(workspace, demo)
    return demo


def _schedules_and_events(workspace: Workspace, demo: Demo) -> None:
    """Three schedules — a nightly cron in Los Angeles that fired twice (missing two nights between),
    a disabled hourly recurrence, an event trigger — and a webhook subscription whose receiver is
    down: its first delivery is a dead letter."""
    import socket
    import tempfile
    from datetime import UTC, datetime, timedelta

    from mlyard.entities.jobs.job import QUEUE
    from mlyard.services.events import dispatch, subscriptions
    from mlyard.services.events.senders import Senders
    from mlyard.services.schedules import firing, schedules
    from mlyard.services.workspaces import settings

    now = datetime.now(UTC)
    start = (now - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%S")
    job = {"command": "python retrain.py", "environment": "inherit", "experiment_name": "nightly"}
    with tempfile.TemporaryDirectory(prefix="mlyard-demo-schedules-") as folder:
        for spec in (
            {"name": demo.schedule, "display_name": "Retrain every night", "create_job": job,
             "trigger": {"type": "cron", "expression": "0 3 * * *", "time_zone": "Pacific Standard Time",
                         "start_time": start}},
            {"name": "hourly-score", "create_job": job, "is_enabled": False,
             "trigger": {"type": "recurrence", "frequency": "hour", "interval": 1}},
            {"name": "on-register", "create_job": job,
             "trigger": {"type": "event", "event_type": "ModelRegistered",
                         "filter": {"ModelName": "diabetes*"}}},
        ):  # fmt: skip
            schedules.create_schedule(workspace, spec, Path(folder), "demo", now - timedelta(days=10))
    firing.fire_due(workspace, now - timedelta(days=3))  # the nights between were missed
    firing.fire_due(workspace, now)
    firing.run_pending(workspace, dispatch=QUEUE)

    with socket.socket() as probe:  # a port nobody listens on: the receiver is down
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.update_settings(workspace, event_delivery_attempts=1)
    subscriptions.create_subscription(workspace, demo.subscription, ["ModelRegistered", "RunCompleted"],
                                      webhook_url=f"http://127.0.0.1:{port}/hook",
                                      description="the ops team's receiver")  # fmt: skip
    jobs.end_job(workspace, jobs.start_job(workspace, experiment="nightly", display_name="warm-up").id)
    senders = Senders(timeout=2.0)
    try:
        dispatch.fan_out(workspace)
        dispatch.deliver_due(workspace, senders)
    finally:
        senders.close()


MONITOR_DAYS = 3  # one monitor run per day, the last one now


def _monitor(workspace: Workspace, demo: Demo) -> None:
    """A monitor of two data assets, run for real (one job per day, each reading that day's rows):
    `bmi` drifts more each day and breaches from the second run, the predictions' error grows, and
    the watched model's training ended 70 days before the first window, so it is stale."""
    import tempfile
    from datetime import UTC, datetime, timedelta

    import pandas as pd
    from sklearn.datasets import load_diabetes

    from mlyard.entities.automation.schedule_spec import MonitorFile
    from mlyard.monitoring.monitor_checks import check_signals
    from mlyard.runtime.job_host import LocalJobHost
    from mlyard.runtime.run_to_end import run_to_end
    from mlyard.services.monitors import monitors, runs

    now = datetime.now(UTC).replace(microsecond=0)
    first = now - timedelta(days=MONITOR_DAYS - 1)
    trained = jobs.start_job(workspace, experiment="diabetes-legacy", display_name="legacy training",
                             start_time=first - timedelta(days=70, hours=1))  # fmt: skip
    jobs.end_job(workspace, trained.id, end_time=first - timedelta(days=70))
    _register(workspace, trained.id, 1.0, "diabetes-legacy")
    frame = load_diabetes(as_frame=True).frame
    frame["sex"] = ["M" if value > 0 else "F" for value in frame["sex"]]
    features = frame[["age", "sex", "bmi", "bp", "s5"]]
    rng = random.Random(11)
    days, predictions = [], []
    for day in range(MONITOR_DAYS):
        sample = features.sample(n=150, random_state=day).reset_index(drop=True)
        sample["bmi"] = sample["bmi"] + 0.02 * day * day  # ~0, 0.4 and 1.7 standard deviations
        start = first - timedelta(days=1) + timedelta(hours=1)
        sample["timestamp"] = [start + timedelta(days=day, minutes=5 * i) for i in range(len(sample))]
        days.append(sample)
        for i, actual in enumerate(frame["target"].sample(n=150, random_state=day)):
            noise = rng.gauss(0, 30 + 25 * day)
            predictions.append({"correlation_id": f"d{day}-{i}", "prediction": actual + noise,
                                "actual": actual, "timestamp": sample["timestamp"][i]})  # fmt: skip
    scored = pd.DataFrame(predictions)
    with tempfile.TemporaryDirectory(prefix="mlyard-demo-monitor-") as folder:
        base = Path(folder)
        for name, table in (("diabetes-reference", features), ("diabetes-production", pd.concat(days)),
                            ("diabetes-predictions", scored.drop(columns=["actual"])),
                            ("diabetes-outcomes", scored[["correlation_id", "actual"]])):  # fmt: skip
            table.to_parquet(base / f"{name}.parquet", index=False)
            data.create_data_asset(workspace, name, base / f"{name}.parquet")
        window = {"lookback_window_size": "P1D"}
        spec = {
            "name": demo.monitor, "display_name": "Diabetes inputs and predictions",
            "tags": {"team": "clinic"},
            "create_monitor": {
                "monitoring_target": {"ml_task": "regression", "model_id": "azureml:diabetes-legacy:1"},
                "monitoring_signals": {
                    "drift": {"type": "data_drift", "features": ["age", "sex", "bmi", "bp", "s5"],
                              "production_data": {"input_data": {"path": "azureml:diabetes-production:1"},
                                                  "data_window": window},
                              "reference_data": {"input_data": {"path": "azureml:diabetes-reference:1"}}},
                    "performance": {"type": "model_performance",
                                    "production_data": {"data_window": window, "input_data":
                                                        {"path": "azureml:diabetes-predictions:1"}},
                                    "reference_data": {"input_data": {"path": "azureml:diabetes-outcomes:1"},
                                                       "data_column_names": {"actual": "actual"}},
                                    "metric_thresholds": {"regression": {"mae": 60, "rmse": 75}}},
                    "staleness": {"type": "model_staleness", "max_age_days": 60},
                },
            },
        }  # fmt: skip
        monitors.create_monitor(workspace, MonitorFile.model_validate(spec), base, "demo", check_signals)
    # The runs go one after the other, as a daily schedule would fire them, so each run's alerts
    # follow the one before; each is claimed, logged and ended by the runner's `run_to_end`.
    for day in range(MONITOR_DAYS):
        job = runs.submit_monitor_run(workspace, demo.monitor, as_of=first + timedelta(days=day))
        run_to_end(LocalJobHost(workspace), job.id, "monitor", partial(_MonitorHere, workspace, job.id))
        ended = jobs.get_job(workspace, job.id)
        assert ended.status.value == "Completed", ended.error
        demo.monitor_runs.append(job.id)


class _MonitorHere:
    """runtime/monitor_runner's engine with `monitoring.monitor_run` in this process rather than in
    a runner and a child process per run: the same spec, results, alerts, events and job log, without
    two Python start-ups (pandas, pyarrow, scipy) per run — most of the seeding's time. The real
    runner path is tested in tests/monitoring and tests/runtime."""

    def __init__(self, workspace: Workspace, job_id: str, log: JobLog, workdir: Path) -> None:
        self.workspace, self.job_id, self.log, self.workdir = workspace, job_id, log, workdir

    def run(self) -> RunResult:
        from mlyard.entities.jobs.job import JobStatus
        from mlyard.monitoring.monitor_run import MonitorRun

        self.workdir.mkdir(parents=True, exist_ok=True)
        spec = job_runs.get_spec(self.workspace, self.job_id)
        say = lambda line: self.log.write(f"{line}\n")  # noqa: E731
        if MonitorRun(self.workspace, self.job_id, spec, self.workdir, say).run() == 0:
            return RunResult(JobStatus.COMPLETED)
        return RunResult(JobStatus.FAILED, self.log.tail().strip() or "the monitor run broke")

    def close(self) -> None:
        pass

    def summary(self) -> None:
        return None


def _endpoints(workspace: Workspace, demo: Demo) -> None:
    """A real online endpoint — blue (version 1) takes 90 %, green (version 2) 10 %, and mirror-free
    — whose instances the served workspace's supervisor starts; a batch endpoint with a queued job."""
    from mlyard.entities.endpoints.batch_endpoint import batch_deployment_from_dict, batch_endpoint_from_dict
    from mlyard.entities.endpoints.endpoint_spec import deployment_spec_from_dict, endpoint_spec_from_dict
    from mlyard.services.batch import batch_endpoints, batch_jobs
    from mlyard.services.online import endpoint_deployments, endpoints

    here = Path.cwd()
    endpoints.create_endpoint(
        workspace,
        endpoint_spec_from_dict(
            {"name": demo.endpoint, "auth_mode": "key", "description": "diabetes progression, one year on"},
            "demo",
        ),
    )
    for name, version in (("blue", "1"), ("green", "2")):
        spec = {"name": name, "endpoint_name": demo.endpoint, "model": f"azureml:diabetes-ridge:{version}"}
        endpoint_deployments.create_deployment(workspace, deployment_spec_from_dict(spec, "demo"), here)
    endpoints.update_endpoint(workspace, demo.endpoint, {"blue": 90, "green": 10})
    batch_endpoints.create_endpoint(
        workspace,
        batch_endpoint_from_dict({"name": demo.batch_endpoint, "description": "nightly scoring"}, "demo"),
    )
    spec = {"name": "ridge", "endpoint_name": demo.batch_endpoint, "model": "azureml:diabetes-ridge:1"}
    batch_endpoints.create_deployment(workspace, batch_deployment_from_dict(spec, "demo"), here, "demo")
    scored = batch_jobs.submit_batch_job(workspace, demo.batch_endpoint, "diabetes:2", here)
    demo.scored_job = _scored(workspace, scored.id)
    demo.batch_job = batch_jobs.submit_batch_job(workspace, demo.batch_endpoint, "diabetes:2", here).id


def _scored(workspace: Workspace, job_id: str) -> str:
    """A batch job finished as the batch runner finishes one: the model's predictions of the diabetes
    table in predictions.csv, its counts as metrics, its result line as a tag."""
    import tempfile

    from sklearn.datasets import load_diabetes

    from mlyard.entities.endpoints.batch_job import RESULT_TAG
    from mlyard.entities.jobs.job_spec import JobOutput
    from mlyard.services.execution.job_outputs import store_output

    x, _ = load_diabetes(return_X_y=True)
    predictions = models.load_model(workspace, "diabetes-ridge:1").predict(x[:441])
    with tempfile.TemporaryDirectory(prefix="mlyard-demo-batch-") as folder:
        output = Path(folder)
        lines = "".join(f"{value:.3f}\n" for value in predictions)
        (output / "predictions.csv").write_text("prediction\n" + lines)
        store_output(workspace, job_id, "score", JobOutput(type="uri_folder"), output)
    counts = {"items_scored": 441, "items_failed": 0, "mini_batches_total": 5, "mini_batches_completed": 5}
    metrics = [Metric(f"batch.{key}", float(value), 0, 1_700_000_000_000) for key, value in counts.items()]
    jobs.end_job(workspace, job_id, metrics=metrics, tags={RESULT_TAG: "complete: 441 of 441 items scored"})
    return job_id


def drive_endpoint(url: str, path: Path, demo: Demo, requests: int = 40) -> None:
    """Once the server's instances are ready, score a few requests, so the gateway has live numbers."""
    import httpx

    from mlyard.entities.endpoints.endpoint import DeploymentState
    from mlyard.services.online import endpoint_deployments, endpoints
    from mlyard.services.workspaces.workspace import open_workspace
    from tests.waiting import wait_until

    workspace = open_workspace(path)

    def ready() -> bool:
        states = {
            d.provisioning_state for d in endpoint_deployments.list_deployments(workspace, demo.endpoint)
        }
        if DeploymentState.FAILED in states:
            raise AssertionError(endpoint_deployments.get_logs(workspace, demo.endpoint, "blue", 50))
        return states == {DeploymentState.SUCCEEDED}

    wait_until(ready, timeout=120, message="the demo endpoint's deployments to be ready")
    key = endpoints.get_credentials(workspace, demo.endpoint).primary_key
    row = [0.04, 0.05, 0.06, 0.02, -0.04, -0.03, -0.04, 0.0, 0.02, -0.02]
    columns = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
    body = {"input_data": {"columns": columns, "data": [row]}}
    with httpx.Client(base_url=url, headers={"authorization": f"Bearer {key}"}, timeout=30) as client:
        for _ in range(requests):
            client.post(f"/endpoints/{demo.endpoint}/score", json=body).raise_for_status()


def make_workspace(path: Path) -> Workspace:
    from mlyard.services.workspaces.workspace import create_workspace, open_workspace

    create_workspace(path)
    return open_workspace(path)
