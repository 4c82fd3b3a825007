"""Batch jobs: resumed after the runner is killed without scoring finished mini-batches twice; on Ray."""

from __future__ import annotations

import contextlib
import os
import signal
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

from mlyard.client.mlclient import MLClient
from mlyard.entities.jobs.job import JobStatus
from mlyard.runtime.launch import run_job
from mlyard.runtime.streaming import read_log
from mlyard.services.batch import batch_jobs
from mlyard.services.model_registry.models import save_and_register_model
from mlyard.store.tables import JobRow
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

SLOW_SCORE = """\
import os, pathlib, time

def init():
    pass

def run(mini_batch):
    names = [pathlib.Path(p).name for p in mini_batch]
    with open(os.environ["CALLS"], "a") as calls:
        calls.write(" ".join(names) + "\\n")
    time.sleep(0.4)
    return [f"{name} scored" for name in names]
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def scored_so_far(calls: Path) -> int:
    """How many items the scoring script has been called with (it names each in `calls`)."""
    return len(calls.read_text().split()) if calls.exists() else 0


def runner_pid(workspace, job_id: str) -> int | None:
    with workspace.database.read() as session:
        return session.get(JobRow, job_id).runner_pid


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_killed_runner_is_resumed_without_scoring_finished_mini_batches_again(
    workspace, workspace_path, tmp_path
):
    save_and_register_model(workspace, Ridge().fit([[0.0], [1.0]], [0.0, 1.0]), "m", "sklearn")
    calls = tmp_path / "calls.txt"
    write(tmp_path / "src" / "score.py", SLOW_SCORE)
    write(
        tmp_path / "deployment.yml",
        f"""\
        name: slow
        endpoint_name: ep
        model: m:1
        code_configuration: {{code: ./src, scoring_script: score.py}}
        settings: {{mini_batch_size: 1, environment_variables: {{CALLS: {calls}}}}}
    """,
    )
    names = [f"item{i:02d}.txt" for i in range(12)]
    for name in names:
        write(tmp_path / "items" / name, name)
    client = MLClient(workspace=workspace_path)
    client.batch_endpoints.create(name="ep")
    client.batch_deployments.create(tmp_path / "deployment.yml")
    job = client.batch_endpoints.invoke("ep", tmp_path / "items")
    wait_until(lambda: scored_so_far(calls) >= 4, timeout=60, message="four mini-batches to be scored")
    pid = runner_pid(workspace, job.id)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # the runner only: its worker finishes the mini-batch it is on
    with contextlib.suppress(psutil.NoSuchProcess):  # SIGKILL is sent, not yet done, when kill returns
        psutil.Process(pid).wait(timeout=10)
    resumed = client.batch_endpoints.invoke("ep", resume=job.id, wait=True)
    assert client.jobs.get(job.id).status == JobStatus.FAILED
    scored = sorted(calls.read_text().split())
    assert scored == names, "each mini-batch scored exactly once across the two jobs"
    log = read_log(workspace, resumed.id).decode()
    assert "resuming:" in log and "of 12 mini-batches already scored are kept" in log
    assert resumed.tags["mlyard.resumed_from"] == job.id
    folder = client.jobs.download(resumed.id, tmp_path / "down", output_name="score")
    assert (folder / "predictions.csv").read_text().splitlines() == [f"{name} scored" for name in names]
    with pytest.raises(Exception, match="completed; there is nothing left to score"):
        client.batch_endpoints.invoke("ep", resume=resumed.id)


@pytest.fixture(scope="module")
def ray_instance():
    import ray

    yield
    if ray.is_initialized():
        ray.shutdown()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_small_batch_on_ray_scores_like_model_predict(workspace, tmp_path, ray_instance):
    from mlyard.entities.endpoints.batch_endpoint import batch_deployment_from_dict, batch_endpoint_from_dict
    from mlyard.services.batch import batch_endpoints as service

    features, target = load_diabetes(return_X_y=True, as_frame=True)
    model = Ridge().fit(features, target)
    save_and_register_model(workspace, model, "ridge", "sklearn", input_example=features[:5])
    service.create_endpoint(workspace, batch_endpoint_from_dict({"name": "ep"}, "e.yml"))
    spec = {"name": "ray", "endpoint_name": "ep", "model": "ridge:1", "compute": "ray",
            "resources": {"instance_count": 2}, "settings": {"mini_batch_size": 100}}  # fmt: skip
    service.create_deployment(workspace, batch_deployment_from_dict(spec, "d.yml"), tmp_path, "d.yml")
    features.to_csv(tmp_path / "patients.csv", index=False)
    job = batch_jobs.submit_batch_job(workspace, "ep", "patients.csv", tmp_path)
    result = run_job(workspace, job.id)
    assert result.status == JobStatus.COMPLETED, result.error
    assert "on ray" in read_log(workspace, job.id).decode()
    output = workspace.artifacts.local_path(f"jobs/{job.id}/outputs/score/predictions.csv")
    np.testing.assert_allclose(pd.read_csv(output)["prediction"], model.predict(features), rtol=1e-12)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_crash_in_init_fails_the_job_with_its_traceback(workspace, tmp_path):
    from mlyard.entities.endpoints.batch_endpoint import batch_deployment_from_dict, batch_endpoint_from_dict
    from mlyard.services.batch import batch_endpoints as service

    save_and_register_model(workspace, Ridge().fit([[0.0], [1.0]], [0.0, 1.0]), "m", "sklearn")
    write(
        tmp_path / "src" / "score.py",
        "def init():\n    raise RuntimeError('no model here')\n\ndef run(b):\n    return b\n",
    )
    service.create_endpoint(workspace, batch_endpoint_from_dict({"name": "ep"}, "e.yml"))
    spec = {"name": "broken", "endpoint_name": "ep", "model": "m:1",
            "code_configuration": {"code": "./src", "scoring_script": "score.py"}}  # fmt: skip
    service.create_deployment(workspace, batch_deployment_from_dict(spec, "d.yml"), tmp_path, "d.yml")
    write(tmp_path / "items" / "a.txt", "a")
    job = batch_jobs.submit_batch_job(workspace, "ep", "items", tmp_path)
    result = run_job(workspace, job.id)
    assert result.status == JobStatus.FAILED
    assert "init() of the scoring script failed in worker 0" in (result.error or "")
    assert "RuntimeError: no model here" in (result.error or "")
    assert 'score.py", line 2, in init' in read_log(workspace, job.id).decode()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_canceled_batch_job_stops_its_workers_and_can_be_resumed(workspace, workspace_path, tmp_path):
    save_and_register_model(workspace, Ridge().fit([[0.0], [1.0]], [0.0, 1.0]), "m", "sklearn")
    calls = tmp_path / "calls.txt"
    write(tmp_path / "src" / "score.py", SLOW_SCORE)
    write(
        tmp_path / "deployment.yml",
        f"""\
        name: slow
        endpoint_name: ep
        model: m:1
        code_configuration: {{code: ./src, scoring_script: score.py}}
        resources: {{instance_count: 2}}
        settings: {{mini_batch_size: 1, environment_variables: {{CALLS: {calls}}}}}
    """,
    )
    for i in range(20):
        write(tmp_path / "items" / f"item{i:02d}.txt", "x")
    client = MLClient(workspace=workspace_path)
    client.batch_endpoints.create(name="ep")
    client.batch_deployments.create(tmp_path / "deployment.yml")
    job = client.batch_endpoints.invoke("ep", tmp_path / "items")
    wait_until(lambda: scored_so_far(calls) >= 2, timeout=60, message="two mini-batches to be scored")
    client.jobs.cancel(job.id)
    ended = client.jobs.stream(job.id, lambda _: None)
    assert ended.status == JobStatus.CANCELED
    started = len(calls.read_text().split())
    assert started < 20, "the workers were stopped before scoring everything"
    resumed = client.batch_endpoints.invoke("ep", resume=job.id, wait=True)
    assert resumed.metrics["batch.items_scored"] == 20
    # at most the mini-batches in flight at the cancel are scored again
    assert 20 <= len(calls.read_text().split()) <= 22
