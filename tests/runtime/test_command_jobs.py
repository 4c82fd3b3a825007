"""Command jobs end to end: YAML → resolved spec → a real subprocess → status, metrics, logs, outputs."""

from __future__ import annotations

import os
import signal
import textwrap
import time
from pathlib import Path

import pytest

from mlyard.entities.jobs.job import JobStatus
from mlyard.errors import InvalidArgument, InvalidSpec, NotFound
from mlyard.runtime.launch import launch_detached, run_job
from mlyard.runtime.streaming import follow, read_log
from mlyard.services.assets.computes import create_compute
from mlyard.services.data_assets.data import create_data_asset
from mlyard.services.execution import job_runs
from mlyard.services.execution.job_outputs import download_job
from mlyard.services.model_registry.model_comparison import lineage
from mlyard.services.model_registry.models import get_model_version
from mlyard.services.submission.dispatch import submit_job_file
from mlyard.services.tracking.jobs import get_job, metric_history, search_jobs
from tests.waiting import wait_until

TRAIN = """\
import argparse, json, pathlib, sys
import mlyard

parser = argparse.ArgumentParser()
parser.add_argument("--data")
parser.add_argument("--alpha", type=float)
parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--model")
args = parser.parse_args()
rows = pathlib.Path(args.data).read_text().splitlines()
print(f"read {len(rows)} rows with alpha={args.alpha}")
print("something on stderr", file=sys.stderr)
for step in range(args.epochs):
    mlyard.log_metric("loss", 1.0 / (step + 1), step=step)
mlyard.log_param("alpha", args.alpha)
out = pathlib.Path(args.model)
(out / "model.json").write_text(json.dumps({"alpha": args.alpha, "rows": len(rows)}))
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    write(root / "src" / "train.py", TRAIN)
    write(root / "data" / "rows.csv", "a,b\n1,2\n3,4\n")
    return root


def job_yaml(project: Path, body: str, name: str = "job.yml") -> Path:
    return write(project / name, body)


COMMAND_JOB = """\
$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
code: ./src
command: >-
  python train.py --data ${{inputs.data}} --alpha ${{inputs.alpha}}
  $[[--epochs ${{inputs.epochs}}]] --model ${{outputs.model}}
inputs:
  data: {type: uri_file, path: ./data/rows.csv}
  alpha: 0.5
  epochs: {type: integer, value: 3}
outputs:
  model: {type: custom_model, name: rows-model}
environment_variables: {GREETING: hello}
compute: azureml:cpu-cluster
experiment_name: command-jobs
display_name: first
tags: {team: yard}
resources: {instance_count: 1}
"""


def test_command_job_runs_and_records_everything(workspace, project, tmp_path):
    # Azure ML's compute name runs here once a compute of that name exists.
    with pytest.raises(InvalidArgument, match="compute 'azureml:cpu-cluster' does not exist here"):
        submit_job_file(workspace, job_yaml(project, COMMAND_JOB))
    create_compute(workspace, "cpu-cluster", "local")
    job = submit_job_file(workspace, job_yaml(project, COMMAND_JOB))
    assert job.status == JobStatus.QUEUED and job.type == "command"
    result = run_job(workspace, job.id)
    assert result.status == JobStatus.COMPLETED, result.error
    done = get_job(workspace, job.id)
    assert done.status == JobStatus.COMPLETED
    assert done.experiment == "command-jobs" and done.display_name == "first"
    assert done.tags == {"team": "yard"}
    assert done.params == {"alpha": "0.5", "epochs": "3"}  # its literal inputs; the script logs alpha too
    assert [p.value for p in metric_history(workspace, job.id, "loss")] == [1.0, 0.5, 1 / 3]
    assert done.code is not None and done.code.source_hash
    log = read_log(workspace, job.id).decode()
    assert "read 3 rows with alpha=0.5" in log and "something on stderr" in log
    # The named output became a model version whose lineage names this job.
    [output] = job_runs.job_outputs(workspace, job.id)
    assert output.asset_ref == "rows-model:1"
    model = get_model_version(workspace, "rows-model@latest")
    assert model.job_id == job.id
    assert lineage(workspace, "rows-model:1").job_id == job.id
    target = download_job(workspace, job.id, tmp_path / "down")
    assert (target / "outputs" / "model" / "model.json").read_text() == '{"alpha": 0.5, "rows": 3}'
    assert "read 3 rows" in (target / "logs" / "std_log.txt").read_text()


def test_data_asset_inputs_are_pinned_and_recorded_as_lineage(workspace, project):
    create_compute(workspace, "cpu-cluster", "local")
    create_data_asset(workspace, "rows", project / "data" / "rows.csv")
    spec = COMMAND_JOB.replace("./data/rows.csv", "azureml:rows@latest").replace("name: rows-model", "")
    job = submit_job_file(workspace, job_yaml(project, spec))
    assert job_runs.get_spec(workspace, job.id)["inputs"]["data"]["version"] == "1"
    assert run_job(workspace, job.id).status == JobStatus.COMPLETED
    assert [(i.kind, i.name, i.version) for i in get_job(workspace, job.id).inputs] == [("data", "rows", "1")]


def test_optional_input_left_out_drops_its_part_of_the_command(workspace, project):
    create_compute(workspace, "cpu-cluster", "local")
    spec = COMMAND_JOB.replace("  epochs: {type: integer, value: 3}\n", "")
    job = submit_job_file(workspace, job_yaml(project, spec))
    assert run_job(workspace, job.id).status == JobStatus.COMPLETED
    assert len(metric_history(workspace, job.id, "loss")) == 1


def test_failing_command_is_failed_with_the_last_log_lines(workspace, tmp_path):
    spec = job_yaml(
        tmp_path,
        """\
        command: python -c "import sys; print('about to fail'); sys.exit(3)"
        """,
    )
    job = submit_job_file(workspace, spec)
    result = run_job(workspace, job.id)
    assert result.status == JobStatus.FAILED and result.exit_code == 3
    failed = get_job(workspace, job.id)
    assert failed.status == JobStatus.FAILED
    assert "exited with code 3" in failed.error and "about to fail" in failed.error


def test_timeout_fails_the_job(workspace, tmp_path, monkeypatch):
    monkeypatch.setattr("mlyard.runtime.command_runner.CANCEL_GRACE_SECONDS", 2.0)
    spec = job_yaml(tmp_path, "command: sleep 30\nlimits: {timeout: 1}\n")
    job = submit_job_file(workspace, spec)
    started = time.monotonic()
    result = run_job(workspace, job.id)
    assert time.monotonic() - started < 10
    assert result.status == JobStatus.FAILED and "timed out after 1 s" in (result.error or "")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_cancel_stops_a_detached_job_even_when_it_ignores_sigterm(workspace, tmp_path, monkeypatch):
    monkeypatch.setenv("MLYARD_CANCEL_GRACE", "1")
    script = write(
        tmp_path / "stubborn.py",
        """\
        import signal, time
        signal.signal(signal.SIGTERM, lambda *a: print("ignoring SIGTERM", flush=True))
        print("started", flush=True)
        time.sleep(60)
        """,
    )
    job = submit_job_file(workspace, job_yaml(tmp_path, f"command: python {script}\n"))
    launch_detached(workspace, job.id)
    wait_until(
        lambda: "started" in read_log(workspace, job.id).decode(), timeout=30, message="the job to start"
    )
    assert job_runs.request_cancel(workspace, job.id) == JobStatus.CANCEL_REQUESTED
    ended = follow(workspace, job.id, timeout=30)
    assert ended.status == JobStatus.CANCELED and ended.error == "canceled by request"
    assert "ignoring SIGTERM" in read_log(workspace, job.id).decode()


def test_cancel_of_a_queued_job_ends_it_at_once(workspace, tmp_path):
    job = submit_job_file(workspace, job_yaml(tmp_path, "command: echo never\n"))
    assert job_runs.request_cancel(workspace, job.id) == JobStatus.CANCELED
    with pytest.raises(Exception, match="already ended as Canceled"):
        job_runs.request_cancel(workspace, job.id)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_killed_runner_leaves_the_job_failed_not_running(workspace, tmp_path):
    job = submit_job_file(workspace, job_yaml(tmp_path, "command: echo started; sleep 60\n"))
    pid = launch_detached(workspace, job.id)
    wait_until(
        lambda: "started" in read_log(workspace, job.id).decode(), timeout=30, message="the job to start"
    )
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not _alive(pid), timeout=30, message=f"the killed runner (pid {pid}) to be gone")
    assert job.id in job_runs.reap_lost_jobs(workspace)
    lost = get_job(workspace, job.id)
    assert lost.status == JobStatus.FAILED and "runner lost" in lost.error and str(pid) in lost.error


def test_bad_specs_are_refused_before_any_job_is_recorded(workspace, tmp_path):
    cases = {
        "code: ./nowhere\ncommand: echo hi\n": (NotFound, "job.yml: code: ./nowhere does not exist"),
        "command: cat ${{inputs.f}}\ninputs:\n  f: {type: uri_file, path: ./missing.csv}\n": (
            NotFound,
            "job.yml: inputs.f.path: ./missing.csv does not exist",
        ),
        "command: cat ${{inputs.f}}\ninputs:\n  f: {type: uri_file, path: azureml:ghost:3}\n": (
            NotFound,
            "job.yml: inputs.f.path: data asset",
        ),
        "command: echo ${{inputs.nope}}\n": (InvalidSpec, "job.yml: command: uses ${{inputs.nope}}"),
        "comand: echo hi\n": (InvalidSpec, "job.yml: comand: unknown field"),
        "command: [unclosed\n": (InvalidSpec, "job.yml (line 2, column 1): not valid YAML"),
        "type: mystery\ncommand: echo\n": (
            InvalidSpec,
            "type: expected command, pipeline, sweep or parallel",
        ),
    }
    for body, (error, message) in cases.items():
        path = job_yaml(tmp_path, body)
        with pytest.raises(error) as caught:
            submit_job_file(workspace, path)
        assert message in str(caught.value), (body, str(caught.value))
    assert search_jobs(workspace) == []


def test_set_overrides_fields_before_validation(workspace, project):
    create_compute(workspace, "cpu-cluster", "local")
    job = submit_job_file(
        workspace, job_yaml(project, COMMAND_JOB), overrides={"inputs.alpha": "0.25", "inputs.epochs": "2"}
    )
    spec = job_runs.get_spec(workspace, job.id)
    assert spec["inputs"]["alpha"]["value"] == 0.25 and spec["inputs"]["epochs"]["value"] == 2


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_models_mltables_and_folders_as_inputs_and_a_data_asset_as_output(workspace, tmp_path):
    from mlyard.services.model_registry.models import register_model_folder

    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "weights.txt").write_text("0.5")
    register_model_folder(workspace, "ridge", model_dir)
    table = tmp_path / "table"
    table.mkdir()
    (table / "part.csv").write_text("a,b\n1,2\n")
    (table / "MLTable").write_text(
        "paths:\n  - file: ./part.csv\ntransformations:\n  - read_delimited: {delimiter: ','}\n"
    )
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "readme.txt").write_text("hello")
    create_data_asset(workspace, "table", table, type="mltable")
    spec = job_yaml(
        tmp_path,
        """\
        command: >-
          cat ${{inputs.model}}/weights.txt ${{inputs.table}}/part.csv ${{inputs.docs}}/readme.txt
          > ${{outputs.summary}}/summary.txt
        inputs:
          model: {type: custom_model, path: azureml:ridge@latest}
          table: {type: mltable, path: azureml:table:1}
          docs: {type: uri_folder, path: ./docs, mode: download}
        outputs:
          summary: {type: uri_folder, name: summaries, version: 3}
        """,
    )
    job = submit_job_file(workspace, spec)
    result = run_job(workspace, job.id)
    assert result.status == JobStatus.COMPLETED, result.error
    done = get_job(workspace, job.id)
    assert {(i.kind, i.name) for i in done.inputs} == {("model", "ridge"), ("data", "table")}
    [output] = job_runs.job_outputs(workspace, job.id)
    assert output.asset_ref == "summaries:3" and output.asset_kind == "data"
    from mlyard.services.data_assets.data import get_data_asset, local_path

    summary = local_path(workspace, get_data_asset(workspace, "summaries:3"))
    assert (summary / "summary.txt").read_text() == "0.5a,b\n1,2\nhello"


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_job_in_a_built_environment_logs_to_its_job(workspace, tmp_path, monkeypatch):
    monkeypatch.setenv("MLYARD_ENV_CACHE", str(tmp_path / "envs"))
    write(
        tmp_path / "conda.yml", "name: tiny\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - six\n"
    )
    spec = job_yaml(
        tmp_path,
        """\
        command: >-
          python -c "import six, sys, mlyard;
          mlyard.log_metric('in_venv', float(sys.prefix != sys.base_prefix));
          print('six from', six.__file__)"
        environment:
          conda_file: ./conda.yml
        """,
    )
    job = submit_job_file(workspace, spec)
    result = run_job(workspace, job.id)
    assert result.status == JobStatus.COMPLETED, result.error
    assert get_job(workspace, job.id).metrics == {"in_venv": 1.0}
    log = read_log(workspace, job.id).decode()
    assert f"six from {tmp_path / 'envs'}" in log


def test_a_runner_started_for_a_submission_that_fails_exits_quietly(workspace):
    from mlyard.runtime.runner_process import PendingRunner

    with pytest.raises(NotFound), PendingRunner(workspace.path) as runner:
        raise NotFound("the spec named a missing file")
    assert runner.process.wait(timeout=60) == 0
    assert not runner.log_path.exists()
