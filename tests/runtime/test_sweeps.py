"""Sweep jobs on Optuna: trials as child jobs, best trial surfaced, early termination for real."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mlyard.entities.jobs.job import JobStatus
from mlyard.errors import InvalidSpec
from mlyard.runtime.launch import run_job
from mlyard.runtime.streaming import read_log
from mlyard.services.execution import job_runs
from mlyard.services.submission.dispatch import submit_job_file
from mlyard.services.tracking.jobs import get_job

TRAIN = """\
import argparse, time
import mlyard

p = argparse.ArgumentParser()
p.add_argument("--learning_rate", type=float)
p.add_argument("--boosting", default="gbdt")
p.add_argument("--steps", type=int, default=1)
p.add_argument("--pause", type=float, default=0.0)
a = p.parse_args()
score = 1.0 - abs(a.learning_rate - 0.1) - (0.05 if a.boosting == "dart" else 0.0)
for step in range(a.steps):
    mlyard.log_metric("accuracy", score, step=step)
    time.sleep(a.pause)
"""

SWEEP = """\
$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json
type: sweep
experiment_name: tune
compute: local
inputs:
  steps: 1
trial:
  code: ./src
  command: >-
    python train.py --learning_rate ${{{{search_space.learning_rate}}}}
    --boosting ${{{{search_space.boosting}}}} --steps ${{{{inputs.steps}}}}
  environment: inherit
sampling_algorithm: {algorithm}
search_space:
  learning_rate: {learning_rate}
  boosting:
    type: choice
    values: [gbdt, dart]
objective:
  goal: maximize
  primary_metric: accuracy
limits:
  max_total_trials: {total}
  max_concurrent_trials: 3
  timeout: 600
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(TRAIN)
    return tmp_path


def sweep_file(
    project: Path,
    algorithm="random",
    learning_rate="{type: uniform, min_value: 0.01, max_value: 0.3}",
    total=6,
    extra="",
):
    path = project / "sweep.yml"
    path.write_text(
        textwrap.dedent(SWEEP.format(algorithm=algorithm, learning_rate=learning_rate, total=total)) + extra
    )
    return path


def test_random_sweep_runs_trials_and_surfaces_the_best(workspace, project):
    job = submit_job_file(workspace, sweep_file(project))
    result = run_job(workspace, job.id)
    assert result.status == JobStatus.COMPLETED, result.error
    trials = [get_job(workspace, child_id) for child_id, _, _ in job_runs.children(workspace, job.id)]
    assert len(trials) == 6 and all(t.status == JobStatus.COMPLETED for t in trials)
    assert all(0.01 <= float(t.params["learning_rate"]) <= 0.3 for t in trials)
    best = max(trials, key=lambda t: t.metrics["accuracy"])
    sweep = get_job(workspace, job.id)
    assert sweep.tags["best_child_run_id"] == best.id
    assert sweep.metrics == {"accuracy": best.metrics["accuracy"]}
    assert sweep.params == best.params
    assert "best trial" in read_log(workspace, job.id).decode()


def test_grid_sweep_tries_every_combination_once(workspace, project):
    path = sweep_file(
        project, algorithm="grid", learning_rate="{type: choice, values: [0.05, 0.1, 0.2]}", total=100
    )
    job = submit_job_file(workspace, path)
    assert run_job(workspace, job.id).status == JobStatus.COMPLETED
    combos = sorted(
        (get_job(workspace, c).params["learning_rate"], get_job(workspace, c).params["boosting"])
        for c, _, _ in job_runs.children(workspace, job.id)
    )
    assert combos == sorted((lr, b) for lr in ("0.05", "0.1", "0.2") for b in ("gbdt", "dart"))
    # The best trial's params: its sampled values and the trial's literal input `steps`.
    best = {"learning_rate": "0.1", "boosting": "gbdt", "steps": "1"}
    assert get_job(workspace, job.id).params == best


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_bandit_stops_hopeless_trials_early(workspace, project):
    path = sweep_file(
        project,
        algorithm="grid",
        learning_rate="{type: choice, values: [0.1, 0.9]}",
        total=2,
        extra=(
            "early_termination:\n"
            "  {type: bandit, slack_factor: 0.1, evaluation_interval: 1, delay_evaluation: 2}\n"
        ),
    )
    text = (
        path.read_text()
        .replace("--steps ${{inputs.steps}}", "--steps 40 --pause 0.1")
        .replace("values: [gbdt, dart]", "values: [gbdt]")
    )
    path.write_text(text)
    job = submit_job_file(workspace, path)
    result = run_job(workspace, job.id)
    assert result.status == JobStatus.COMPLETED, (result.error, read_log(workspace, job.id).decode())
    trials = {
        get_job(workspace, c).params["learning_rate"]: get_job(workspace, c)
        for c, _, _ in job_runs.children(workspace, job.id)
    }
    assert trials["0.1"].status == JobStatus.COMPLETED
    assert trials["0.9"].status == JobStatus.CANCELED
    assert trials["0.9"].tags["mlyard.early_terminated"].startswith("bandit")
    assert "stopped early" in read_log(workspace, job.id).decode()


def test_bad_sweeps_are_refused(workspace, project):
    text = sweep_file(project).read_text().replace("${{search_space.boosting}}", "gbdt")
    bad = project / "bad.yml"
    bad.write_text(text)
    with pytest.raises(InvalidSpec, match="boosting"):
        submit_job_file(workspace, bad)
    bad.write_text(
        sweep_file(project).read_text().replace("primary_metric: accuracy", "primary_metrc: accuracy")
    )
    with pytest.raises(InvalidSpec, match="primary_metrc"):
        submit_job_file(workspace, bad)
