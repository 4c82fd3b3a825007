"""`client.maturity.assess()` on embedded SQLite, embedded PostgreSQL and a real server: the same
rule and the same answer, the repository's CI files read where the client runs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

import mlyard


def write(path: Path, content: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(content))
    return path


def met(report) -> set[str]:  # type: ignore[no-untyped-def]
    return {c.id for c in report.criteria if c.met}


@pytest.fixture(scope="module")
def ridge():
    features, target = load_diabetes(return_X_y=True, as_frame=True)
    return Ridge(alpha=0.5).fit(features, target)


def tracked_training(client, ridge, diabetes_csv) -> None:  # type: ignore[no-untyped-def]
    client.data.create("diabetes", diabetes_csv)
    with mlyard.start_run(experiment="diabetes"):
        mlyard.use_data("diabetes@latest")
        mlyard.log_metric("mse", 3000.0)
        mlyard.log_model(ridge, name="ridge", flavor="sklearn")


def test_an_empty_workspace_is_level_0_with_a_next_step_for_every_criterion(client):
    report = client.maturity.assess()
    assert (report.level, report.level_name) == (0, "No MLOps")
    assert {c.level for c in report.criteria} == {1, 2, 3, 4}
    assert {c.area for c in report.criteria} == {
        "People",
        "Model creation",
        "Model release",
        "Application integration",
    }
    assert all(not c.met and c.next and "mlyard" in c.next for c in report.criteria)
    evidence = {c.id: c.evidence for c in report.criteria}
    assert evidence["versioned_data"] == "0 data asset versions"
    assert evidence["automated_builds"] == "no repository read (--repo DIR); no CI keys"


def test_runs_data_and_a_traced_model_then_ci_jobs_and_a_schedule_raise_the_level(
    client, ridge, diabetes_csv, tmp_path
):
    tracked_training(client, ridge, diabetes_csv)
    report = client.maturity.assess()
    assert {"versioned_data", "tracked_experiments", "data_lineage", "versioned_models"} <= met(report)
    assert report.level == 0  # no version control or CI seen yet
    evidence = {c.id: c.evidence for c in report.criteria}
    assert evidence["versioned_models"] == (
        "1 model versions, 1 produced by a job; 1 traced back to a job and its data: ridge:1"
    )
    assert evidence["data_lineage"] == "1 data asset versions read by jobs: diabetes:1"
    assert evidence["tracked_experiments"] == "1 jobs with metrics in diabetes"

    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    write(repo / ".github" / "workflows" / "pr.yml", "jobs:\n  t:\n    steps:\n      - run: pytest\n")
    report = client.maturity.assess(repo)
    assert (report.level, report.level_name) == (1, "DevOps but no MLOps")
    assert report.repo == str(repo.resolve()) and report.ci_files == [".github/workflows/pr.yml"]

    write(tmp_path / "env" / "conda.yml", "name: train\ndependencies:\n  - python=3.11\n")
    write(tmp_path / "env" / "env.yml", "name: train-env\nconda_file: conda.yml\n")
    client.environments.create_or_update(tmp_path / "env" / "env.yml")
    write(tmp_path / "job.yml", "command: echo training\nenvironment: inherit\nexperiment_name: nightly\n")
    client.jobs.create(tmp_path / "job.yml", wait=True)
    report = client.maturity.assess(repo)
    assert report.level == 1 and {c.id for c in report.criteria if not c.met and c.level == 2} == {
        "automated_training"
    }
    write(tmp_path / "nightly.yml", """\
        name: nightly
        trigger: {type: cron, expression: "0 3 * * *", start_time: "2030-01-01T00:00:00"}
        create_job: ./job.yml
        """)  # fmt: skip
    client.schedules.create(tmp_path / "nightly.yml")
    report = client.maturity.assess(repo)
    assert (report.level, report.level_name) == (2, "Automated training")
    automated = next(c for c in report.criteria if c.id == "automated_training")
    assert automated.met and automated.next is None
    assert automated.evidence.startswith("1 enabled schedules or triggers creating jobs: nightly (cron)")


def test_a_served_workspace_answers_as_the_embedded_one(
    tmp_path, ridge, diabetes_csv, serve_workspace, monkeypatch
):
    from mlyard.services.workspaces.workspace import create_workspace

    path = tmp_path / "ws"
    create_workspace(path)
    monkeypatch.setenv("MLYARD_WORKSPACE", str(path))
    local = mlyard.MLClient(workspace=path)
    tracked_training(local, ridge, diabetes_csv)
    repo = tmp_path / "repo"
    write(repo / "azure-pipelines.yml", "steps:\n  - script: mlyard online-deployment create --file d.yml\n")
    embedded = local.maturity.assess(repo)
    with mlyard.MLClient(url=serve_workspace(path)) as remote:
        served = remote.maturity.assess(repo)
    assert served == embedded
    assert "automated_deployment" in met(served) and served.ci_files == ["azure-pipelines.yml"]
