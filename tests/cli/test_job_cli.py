"""`mlyard job create|stream|cancel|show|download` as a user types them."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from tests.cli.test_cli import as_json, mlyard
from tests.waiting import wait_until


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return tmp_path / "ws"


def write_job(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "src").mkdir(exist_ok=True)
    (folder / "src" / "main.py").write_text(
        textwrap.dedent(
            """\
            import pathlib, sys
            import mlyard
            print("hello from the job", sys.argv[1:])
            mlyard.log_metric("accuracy", 0.93)
            pathlib.Path(sys.argv[2], "result.txt").write_text("ok")
            """
        )
    )
    path = folder / "job.yml"
    path.write_text(textwrap.dedent(body))
    return path


JOB = """\
$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
code: src
command: python main.py ${{inputs.greeting}} ${{outputs.result}}
inputs:
  greeting: hi
outputs:
  result: {type: uri_folder}
experiment_name: cli-jobs
"""


def test_create_stream_show_download(ws, tmp_path):
    path = write_job(tmp_path / "proj", JOB)
    done = mlyard("job", "create", "--file", str(path), "--stream", workspace=ws)
    assert "hello from the job ['hi'" in done.stdout
    job_id = re.search(r"job (\S+) Completed", done.stdout + done.stderr)[1]
    shown = as_json(mlyard("job", "show", job_id, "-o", "json", workspace=ws))
    assert shown["status"] == "Completed" and shown["metrics"] == {"accuracy": 0.93}
    assert [o["name"] for o in shown["outputs"]] == ["result"]
    mlyard("job", "download", job_id, "--download-path", str(tmp_path / "dl"), workspace=ws)
    assert (tmp_path / "dl" / job_id / "outputs" / "result" / "result.txt").read_text() == "ok"
    assert "hello from the job" in (tmp_path / "dl" / job_id / "logs" / "std_log.txt").read_text()
    listed = as_json(mlyard("job", "list", "-o", "json", workspace=ws))
    assert [(j["id"], j["type"]) for j in listed] == [(job_id, "command")]


def test_set_override_and_a_failing_job_exit_non_zero(ws, tmp_path):
    path = write_job(
        tmp_path / "proj", JOB.replace("command: python main.py", "command: exit 5 ; python main.py")
    )
    done = mlyard(
        "job", "create", "-f", str(path), "--stream", "--set", "inputs.greeting=yo", workspace=ws, expect=8
    )
    assert "Failed" in done.stderr and "exited with code 5" in done.stderr


def test_create_without_stream_returns_at_once_then_cancel(ws, tmp_path):
    path = write_job(tmp_path / "proj", "command: echo started; sleep 60\n")
    created = as_json(mlyard("job", "create", "-f", str(path), "-o", "json", workspace=ws))
    assert created["status"] == "Queued"
    wait_until(
        lambda: (
            as_json(mlyard("job", "show", created["id"], "-o", "json", workspace=ws))["status"] == "Running"
        ),
        timeout=30,
        message="the job to run",
        interval=0.2,
    )
    done = mlyard("job", "cancel", created["id"], workspace=ws)
    assert "cancel requested" in done.stderr
    streamed = mlyard("job", "stream", created["id"], workspace=ws, expect=8)
    assert "Canceled" in streamed.stderr


def test_bad_spec_gives_exit_2_and_no_job(ws, tmp_path):
    path = write_job(tmp_path / "proj", "comand: echo hi\n")
    done = mlyard("job", "create", "-f", str(path), workspace=ws, expect=2)
    assert "job.yml: comand: unknown field" in done.stderr
    missing = mlyard("job", "create", "-f", str(tmp_path / "nope.yml"), workspace=ws, expect=3)
    assert "nope.yml does not exist" in missing.stderr
    assert json.loads(mlyard("job", "list", "-o", "json", workspace=ws).stdout) == []


def test_compute_create_list_show_delete(ws, tmp_path):
    path = write_job(tmp_path / "proj", JOB + "compute: azureml:cpu-cluster\n")
    refused = mlyard("job", "create", "-f", str(path), workspace=ws, expect=2)
    assert "mlyard compute create --name cpu-cluster --type local" in refused.stderr
    mlyard("compute", "create", "--name", "cpu-cluster", "--type", "local", workspace=ws)
    names = [c["name"] for c in as_json(mlyard("compute", "list", "-o", "json", workspace=ws))]
    assert names == ["local", "ray", "cpu-cluster"]
    assert as_json(mlyard("compute", "show", "cpu-cluster", "-o", "json", workspace=ws))["type"] == "local"
    mlyard("job", "create", "-f", str(path), "--stream", workspace=ws)
    mlyard("compute", "delete", "cpu-cluster", workspace=ws)
    mlyard("compute", "show", "cpu-cluster", workspace=ws, expect=3)
    bad = mlyard("compute", "create", "--name", "x", "--type", "k8s", workspace=ws, expect=2)
    assert "local, ray or docker" in bad.stderr


def test_stream_of_a_pipeline_shows_step_status_changes(ws, tmp_path):
    path = tmp_path / "pipeline.yml"
    path.write_text(
        textwrap.dedent(
            """\
            type: pipeline
            jobs:
              first:
                command: echo one > ${{outputs.out}}/one.txt
                outputs: {out: {type: uri_folder}}
              second:
                command: cat ${{inputs.x}}/one.txt
                inputs: {x: "${{parent.jobs.first.outputs.out}}"}
            """
        )
    )
    done = mlyard("job", "create", "-f", str(path), "--stream", workspace=ws)
    lines = [line for line in done.stdout.splitlines() if line.startswith("[")]
    assert lines[1].startswith("[first] Running as job") and lines[2].startswith("[first] Completed")
    assert lines[3].startswith("[second] Running as job") and lines[-1].startswith("[pipeline] Completed")
    again = mlyard("job", "create", "-f", str(path), "--stream", workspace=ws)
    assert "[first] Completed: reused the outputs of job" in again.stdout
    top = as_json(mlyard("job", "list", "-o", "json", workspace=ws))
    assert [j["type"] for j in top] == ["pipeline", "pipeline"]
    steps = as_json(mlyard("job", "list", "--parent-job-name", top[0]["id"], "-o", "json", workspace=ws))
    assert sorted(j["display_name"] for j in steps) == ["first", "second"]
    assert len(as_json(mlyard("job", "list", "--all", "-o", "json", workspace=ws))) == 6


def test_an_unknown_set_path_is_an_error_with_did_you_mean_and_no_job(ws, tmp_path):
    path = write_job(tmp_path / "proj", JOB)
    misspelt = mlyard("job", "create", "-f", str(path), "--set", "inputs.greting=yo", workspace=ws, expect=2)
    assert f"--set inputs.greting=yo: {path}: inputs has no 'greting' (did you mean 'greeting'?)" in (
        " ".join(misspelt.stderr.split())
    )
    unknown = mlyard("job", "create", "-f", str(path), "--set", "inputs.nosuch=1", workspace=ws, expect=2)
    assert "inputs has no 'nosuch' (inputs: greeting)" in " ".join(unknown.stderr.split())
    assert as_json(mlyard("job", "list", "-o", "json", workspace=ws)) == []


@pytest.mark.parametrize("command", [["job", "create"], ["component", "create"], ["environment", "create"]])
def test_a_folder_or_an_empty_spec_file_is_named_as_such_not_as_missing(ws, tmp_path, command):
    empty = tmp_path / "empty.yml"
    empty.write_text("")
    (tmp_path / "src").mkdir()
    cases = {
        str(tmp_path / "src"): "src is a folder, expected a YAML file",
        "/dev/null": "/dev/null is empty",
        str(empty): "empty.yml is empty",
    }
    for given, message in cases.items():
        done = mlyard(*command, "--file", given, workspace=ws, expect=2)
        assert message in done.stderr and "does not exist" not in done.stderr


def test_a_job_that_submits_itself_stops_at_the_workspace_nesting_depth(ws, tmp_path):
    project = tmp_path / "again"
    project.mkdir()
    (project / "again.py").write_text("import mlyard\nmlyard.MLClient().jobs.create('job.yml', wait=True)\n")
    (project / "job.yml").write_text("code: .\ncommand: python again.py\n")
    mlyard("workspace", "create", workspace=ws)
    mlyard("workspace", "settings", "set", "max_job_nesting_depth=2", workspace=ws)
    done = mlyard("job", "create", "-f", str(project / "job.yml"), "--stream", workspace=ws, expect=8)
    assert "over the workspace's max_job_nesting_depth of 2" in done.stdout
    jobs = as_json(mlyard("job", "list", "-o", "json", workspace=ws))
    assert sorted(job["tags"].get("mlyard.nesting_depth", "0") for job in jobs) == ["0", "1", "2"]
    assert {job["status"] for job in jobs} == {"Failed"}


def test_literal_inputs_are_the_jobs_params_and_order_as_numbers(ws, tmp_path):
    path = write_job(
        tmp_path / "proj",
        "command: echo ${{inputs.alpha}} ${{inputs.solver}}\n"
        "inputs: {alpha: 0.1, solver: auto}\nexperiment_name: literal-params\n",
    )
    ids = {}
    for alpha in ("9", "100", "10", "0.05"):
        done = mlyard(
            "job", "create", "-f", str(path), "--stream", "--set", f"inputs.alpha={alpha}", workspace=ws
        )
        ids[alpha] = re.search(r"job (\S+) Completed", done.stdout + done.stderr)[1]
    shown = as_json(mlyard("job", "show", ids["9"], "-o", "json", workspace=ws))
    assert shown["params"] == {"alpha": "9", "solver": "auto"}
    listed = mlyard(
        "job", "list", "-e", "literal-params", "--filter", "params.alpha > 9.5",
        "--order-by", "params.alpha DESC", "-o", "json", workspace=ws,
    )  # fmt: skip
    assert [job["id"] for job in as_json(listed)] == [ids["100"], ids["10"]]
    ordered = as_json(mlyard("job", "list", "--order-by", "params.alpha DESC", "-o", "json", workspace=ws))
    assert [job["id"] for job in ordered] == [ids["100"], ids["10"], ids["9"], ids["0.05"]]


def test_a_pipeline_and_its_steps_record_their_literal_inputs_as_params(ws, tmp_path):
    path = tmp_path / "pipeline.yml"
    path.write_text(
        textwrap.dedent(
            """\
            type: pipeline
            experiment_name: piped
            inputs: {alpha: 0.3}
            jobs:
              train:
                command: echo ${{inputs.alpha}} ${{inputs.depth}}
                inputs: {alpha: "${{parent.inputs.alpha}}", depth: 4}
            """
        )
    )
    mlyard("job", "create", "-f", str(path), "--stream", "--set", "inputs.alpha=0.7", workspace=ws)
    [pipeline] = as_json(mlyard("job", "list", "-o", "json", workspace=ws))
    assert pipeline["params"] == {"alpha": "0.7"}
    [step] = as_json(mlyard("job", "list", "--parent-job-name", pipeline["id"], "-o", "json", workspace=ws))
    assert step["params"] == {"alpha": "0.7", "depth": "4"}
    found = as_json(
        mlyard("job", "list", "--all", "--filter", "params.depth = 4", "-o", "json", workspace=ws)
    )
    assert [job["id"] for job in found] == [step["id"]]


def test_listing_jobs_of_an_unknown_experiment_names_it_with_exit_3(ws, tmp_path):
    mlyard("workspace", "create", workspace=ws)
    done = mlyard("job", "list", "-e", "nosuch-exp", workspace=ws, expect=3)
    assert (
        "experiment 'nosuch-exp' does not exist; list experiments with: mlyard job experiments" in done.stderr
    )
