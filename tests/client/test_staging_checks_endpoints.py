"""Smoke and performance checks against real online deployments on a team server (127.0.0.1, free
port), from the SDK, the CLI (exit codes, -o json, --report) and the built-in components inside a
real pipeline job that the server's worker runs."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import mlyard
from mlyard.client import staging_checks
from mlyard.entities.jobs.job import JobStatus
from mlyard.errors import InvalidArgument, NotFound
from tests.processes import MLYARD, clean_environment
from tests.serving.endpoint_support import FAILING_RUN_SCRIPT, register_ridge, write_script

pytestmark = pytest.mark.slow


@dataclass
class Staging:
    url: str
    client: Any
    model: str
    key: str
    root: Path


@pytest.fixture(scope="module")
def staging(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from mlyard.services.workspaces.workspace import create_workspace
    from tests.servers import serve_in_thread

    root = tmp_path_factory.mktemp("staging")
    create_workspace(root / "ws")
    server = serve_in_thread(root / "ws")
    client = mlyard.MLClient(url=server.url)
    try:
        version, _, _ = register_ridge(client)
        failing = write_script(root / "failing", FAILING_RUN_SCRIPT)
        for name in ("staging", "broken"):
            client.online_endpoints.create({"name": name})
        client.online_deployments.create(
            {"name": "blue", "endpoint_name": "staging", "model": f"azureml:{version.ref}"},
            all_traffic=True, timeout=120,
        )  # fmt: skip
        client.online_deployments.create(
            {"name": "blue", "endpoint_name": "broken",
             "code_configuration": {"code": str(failing), "scoring_script": "score.py"}},
            all_traffic=True, timeout=120,
        )  # fmt: skip
        key = client.online_endpoints.get_credentials("staging").primary_key or ""
        yield Staging(server.url, client, version.ref, key, root)
    finally:
        client.close()
        server.stop()


def test_smoke_passes_by_name_by_url_and_from_the_signature(
    staging: Staging, diabetes_csv: Path, monkeypatch
):
    by_name = staging_checks.smoke(
        staging.client, endpoint="staging", data=diabetes_csv, rows=3, model=staging.model
    )
    assert by_name.passed, by_name.text()
    assert by_name.metrics["status"] == 200 and by_name.metrics["request_rows"] == 3
    uri = staging.client.online_endpoints.get("staging").scoring_uri
    monkeypatch.setenv(staging_checks.ENV_ENDPOINT_KEY, staging.key)
    by_url = staging_checks.smoke(staging.client, url=uri, data=diabetes_csv, model=staging.model)
    assert by_url.passed and by_url.target == uri
    # Without a model to pick the columns it takes, the sample's extra `target` column is refused.
    extra = staging_checks.smoke(staging.client, url=uri, data=diabetes_csv)
    assert extra.metrics["status"] == 422 and "target" in extra.problems[0].message
    from_signature = staging_checks.smoke(staging.client, endpoint="staging", model=staging.model, rows=2)
    assert from_signature.passed and from_signature.metrics["request_rows"] == 2


def test_smoke_fails_on_errors_and_on_a_shape_not_expected(staging: Staging, diabetes_csv: Path):
    broken = staging_checks.smoke(staging.client, endpoint="broken", data=diabetes_csv)
    assert not broken.passed and broken.problems[0].check == "status"
    assert "answered 500" in broken.problems[0].message
    keyed = staging_checks.smoke(
        staging.client, endpoint="staging", data=diabetes_csv, expect_keys=["label"], model=staging.model
    )
    assert [p.check for p in keyed.problems] == ["response_keys"]
    with pytest.raises(NotFound, match="online endpoint 'nowhere'"):
        staging_checks.smoke(staging.client, endpoint="nowhere", data=diabetes_csv)
    with pytest.raises(InvalidArgument, match="--endpoint NAME or --url"):
        staging_checks.smoke(
            staging.client, endpoint="staging", url="http://127.0.0.1:1/x", data=diabetes_csv
        )
    uri = staging.client.online_endpoints.get("staging").scoring_uri
    with pytest.raises(InvalidArgument, match="needs a sample request"):
        staging_checks.smoke(staging.client, url=uri, key=staging.key)


def test_an_endpoint_check_without_model_checks_the_deployed_version(staging: Staging, diabetes_csv: Path):
    # The deployment taking the traffic names the model: its signature drops the extra `target`
    # column from the sample, and the report is recorded against that version.
    found = staging_checks.smoke(staging.client, endpoint="staging", data=diabetes_csv, rows=2)
    assert found.passed, found.text()
    assert found.model == staging.model
    from_signature = staging_checks.smoke(staging.client, endpoint="staging", deployment="blue")
    assert from_signature.passed and from_signature.model == staging.model
    run = _cli(staging, "check", "performance", "--endpoint", "staging", "--requests", "5", "-o", "json")
    assert run.returncode == 0, run.stderr
    record = staging.client.models.check_reports("ridge", staging.model.split(":")[1], "performance")[0]
    assert record.id == json.loads(run.stdout)["record"] and record.passed
    with pytest.raises(NotFound, match="blue-ghost"):
        staging_checks.smoke(staging.client, endpoint="staging", deployment="blue-ghost")


def test_performance_measures_a_bounded_load_against_thresholds(staging: Staging, diabetes_csv: Path):
    plan = staging_checks.LoadPlan(requests=120, concurrency=4, seconds=60)
    report = staging_checks.performance(
        staging.client, endpoint="staging", data=diabetes_csv, plan=plan, p99_ms=5000, model=staging.model
    )
    assert report.passed, report.text()
    assert report.metrics["requests"] == 120 and report.metrics["errors"] == 0
    assert 0 < report.metrics["p50_ms"] <= report.metrics["p99_ms"] < 5000
    too_strict = staging_checks.performance(
        staging.client, endpoint="staging", data=diabetes_csv, p99_ms=0.001, model=staging.model,
        plan=staging_checks.LoadPlan(20, 2, 30),
    )  # fmt: skip
    assert [p.check for p in too_strict.problems] == ["p99_latency"]
    failing = staging_checks.performance(
        staging.client, endpoint="broken", data=diabetes_csv, plan=staging_checks.LoadPlan(20, 2, 30)
    )
    assert [p.check for p in failing.problems] == ["error_rate"]
    assert failing.problems[0].rows == 20 and "20 of 20 requests failed" in failing.problems[0].message
    with pytest.raises(InvalidArgument, match="--requests must be above 0 and at most 5000, not 100000"):
        staging_checks.performance(
            staging.client, endpoint="staging", data=diabetes_csv, plan=staging_checks.LoadPlan(100_000)
        )


def _cli(staging: Staging, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_environment(MLYARD_URL=staging.url)
    return subprocess.run([*MLYARD, *args], capture_output=True, text=True, env=env, timeout=120)


def test_the_cli_exits_0_or_11_writes_the_report_and_records_it(staging: Staging, diabetes_csv: Path):
    report = staging.root / "smoke.json"
    done = _cli(staging, "check", "smoke", "--endpoint", "staging", "--data", str(diabetes_csv),
                "--model", staging.model, "--report", str(report), "-o", "json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["passed"] and printed["kind"] == "smoke" and printed["record"]
    assert (
        json.loads(report.read_text())["passed"]
        and "smoke check of" in report.with_suffix(".txt").read_text()
    )
    recorded = staging.client.models.check_reports("ridge", staging.model.split(":")[1], "smoke")
    assert recorded[0].id == printed["record"] and recorded[0].location == str(report.resolve())

    failed = _cli(staging, "check", "performance", "--endpoint", "broken", "--data", str(diabetes_csv),
                  "--requests", "10", "--concurrency", "2")  # fmt: skip
    assert failed.returncode == 11, failed.stderr
    assert "performance check of online endpoint broken: FAILED" in failed.stderr
    assert "the performance check failed (error_rate)" in failed.stderr
    unknown = _cli(staging, "check", "fairness")
    assert unknown.returncode == 2 and "No such command 'fairness'" in unknown.stderr
    missing = _cli(staging, "check", "smoke", "--endpoint", "nowhere", "--data", str(diabetes_csv))
    assert missing.returncode == 3 and "online endpoint 'nowhere'" in missing.stderr


def test_the_builtin_components_run_as_steps_of_a_pipeline(staging: Staging, diabetes_csv: Path):
    staging.client.data.create("diabetes", diabetes_csv)
    pipeline = staging.root / "staging-checks.yml"
    pipeline.write_text(
        f"""
type: pipeline
display_name: staging checks
inputs:
  sample: {{type: uri_file, path: {diabetes_csv}}}
jobs:
  smoke:
    type: command
    component: azureml://registries/mlyard/components/smoke/labels/latest
    inputs: {{endpoint: staging, data: "${{{{parent.inputs.sample}}}}", model: "{staging.model}"}}
  quality:
    type: command
    component: azureml://registries/mlyard/components/data_quality/versions/1
    inputs: {{data: "${{{{parent.inputs.sample}}}}", against: diabetes@latest, model: "{staging.model}"}}
"""
    )
    job = staging.client.jobs.create(pipeline)
    ended = _wait(staging.client, job.id)
    steps = {step.display_name: step for step in staging.client.jobs.children(job.id)}
    assert ended.status == JobStatus.COMPLETED, [(s.display_name, s.error) for s in steps.values()]
    records = staging.client.models.check_reports("ridge", staging.model.split(":")[1])
    by_job = {r.job_id: r for r in records}
    for name, kind in (("smoke", "smoke"), ("quality", "data_quality")):
        record = by_job[steps[name].id]
        assert record.kind == kind and record.passed
        assert record.location == f"azureml://jobs/{steps[name].id}/outputs/report"
        report = staging.client.jobs.download(steps[name].id, staging.root / name, output_name="report")
        assert json.loads((Path(report) / "report.json").read_text())["passed"]


def test_the_performance_and_responsible_ai_components_run_as_pipeline_steps(
    staging: Staging, diabetes_csv: Path
):
    pipeline = staging.root / "load-and-fairness.yml"
    pipeline.write_text(
        f"""
type: pipeline
inputs:
  sample: {{type: uri_file, path: {diabetes_csv}}}
jobs:
  load:
    type: command
    component: azureml://registries/mlyard/components/performance/labels/latest
    inputs: {{endpoint: staging, data: "${{{{parent.inputs.sample}}}}", requests: 8, concurrency: 2,
              seconds: 60, p99_ms: 5000}}
  fairness:
    type: command
    component: azureml://registries/mlyard/components/responsible_ai/versions/1
    inputs: {{model: "{staging.model}", data: "${{{{parent.inputs.sample}}}}", label: target,
              sensitive_feature: sex, task: regression}}
"""
    )
    job = staging.client.jobs.create(pipeline)
    ended = _wait(staging.client, job.id)
    steps = {step.display_name: step for step in staging.client.jobs.children(job.id)}
    assert ended.status == JobStatus.COMPLETED, [(s.display_name, s.error) for s in steps.values()]
    # No `model` input for the load step: the report is recorded against the deployed version.
    by_job = {r.job_id: r for r in staging.client.models.check_reports("ridge", staging.model.split(":")[1])}
    assert by_job[steps["load"].id].kind == "performance" and by_job[steps["load"].id].passed
    assert by_job[steps["fairness"].id].kind == "responsible_ai"
    for name in ("load", "fairness"):
        fetched = staging_checks.download_report(staging.client, by_job[steps[name].id], staging.root / name)
        report = json.loads(next(Path(fetched).rglob("report.json")).read_text())
        assert report["passed"]
    fairness = json.loads(next((staging.root / "fairness").rglob("report.json")).read_text())
    assert fairness["details"]["task"] == "regression" and len(fairness["details"]["by_group"]) == 2
    load = json.loads(next((staging.root / "load").rglob("report.json")).read_text())
    assert load["metrics"]["requests"] == 8 and load["metrics"]["error_rate"] == 0


def test_a_failed_check_step_keeps_its_report_as_a_job_artifact(staging: Staging, diabetes_csv: Path):
    pipeline = staging.root / "failing-check.yml"
    pipeline.write_text(
        f"""
type: pipeline
inputs:
  sample: {{type: uri_file, path: {diabetes_csv}}}
jobs:
  smoke:
    type: command
    component: azureml://registries/mlyard/components/smoke/labels/latest
    inputs: {{endpoint: broken, data: "${{{{parent.inputs.sample}}}}", model: "{staging.model}"}}
"""
    )
    job = staging.client.jobs.create(pipeline)
    ended = _wait(staging.client, job.id)
    assert ended.status == JobStatus.FAILED
    (step,) = staging.client.jobs.children(job.id)
    record = next(r for r in staging.client.models.check_reports("ridge") if r.job_id == step.id)
    assert not record.passed and record.location == f"azureml://jobs/{step.id}/artifacts/report"
    fetched = staging_checks.download_report(staging.client, record, staging.root / "failed-report")
    report = json.loads(next(Path(fetched).rglob("report.json")).read_text())
    assert report["passed"] is False and report["kind"] == "smoke"
    assert any(Path(fetched).rglob("summary.txt"))
    local = record.model_copy(update={"location": None})
    with pytest.raises(NotFound, match=f"check report {record.id} has no stored report"):
        staging_checks.download_report(staging.client, local, staging.root / "none")


def _wait(client: Any, job_id: str) -> Any:
    from mlyard.errors import JobNotCompleted

    try:
        return client.jobs.wait(job_id, timeout=180)
    except JobNotCompleted:
        return client.jobs.get(job_id)
