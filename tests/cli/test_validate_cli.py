"""`mlyard validate` driven as CI drives it: subprocesses, exit codes (0 passed, 11 failed, 2/3 for a
wrong command) and the `-o json` report listing every problem with its row count."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.cli.test_cli import as_json, mlyard

TRAIN_CSV = """age,bmi,sex,target
30,22.5,m,151
40,30.1,f,75
50,27.0,m,141
60,25.5,f,206
"""
TRAIN_PY = """import csv, sys
import mlyard
rows = list(csv.DictReader(open(sys.argv[1])))
if "target" not in rows[0]:
    raise SystemExit(f"no target column in {sys.argv[1]}")
mlyard.log_metric("rows", len(rows))
"""
# Written for a cloud cluster, reading a registered asset: validation runs it locally on the sample.
JOB_YML = """code: ./src
command: python train.py ${{inputs.training_data}}
inputs:
  training_data: {type: uri_file, path: azureml:diabetes@latest}
environment: inherit
compute: azureml:cpu-cluster
"""
SCORE_PY = """import json, os
factor = None

def init():
    global factor
    print("loading the model")  # a script's prints must not spoil the JSON report on stdout
    factor = float(open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "factor.txt")).read())

def run(raw_data):
    rows = json.loads(raw_data)["input_data"]["data"]
    return [row[0] * factor for row in rows]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small MLOps repository: a sample, a training job, a scoring script and its model."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(TRAIN_PY)
    (tmp_path / "job.yml").write_text(JOB_YML)
    (tmp_path / "sample.csv").write_text(TRAIN_CSV)
    (tmp_path / "score.py").write_text(SCORE_PY)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "factor.txt").write_text("2")
    return tmp_path


def _problems(report: dict) -> dict[tuple[str, str | None], int | None]:
    return {(p["check"], p["column"]): p["rows"] for p in report["problems"]}


def test_a_sample_that_fits_its_data_asset_passes_with_exit_0(workspace_path: Path, project: Path) -> None:
    mlyard(
        "data",
        "create",
        "--name",
        "diabetes",
        "--path",
        str(project / "sample.csv"),
        workspace=workspace_path,
    )
    done = mlyard(
        "validate",
        "--data",
        str(project / "sample.csv"),
        "--against",
        "diabetes@latest",
        "-o",
        "json",
        workspace=workspace_path,
    )
    result = as_json(done)
    assert result["passed"] is True
    (report,) = result["reports"]
    assert (report["kind"], report["checked_rows"], report["problems"]) == ("data", 4, [])
    assert report["details"]["against"] == "diabetes:1"


def test_a_bad_data_file_exits_11_listing_every_problem_with_row_counts(
    workspace_path: Path, project: Path
) -> None:
    mlyard(
        "data",
        "create",
        "--name",
        "diabetes",
        "--path",
        str(project / "sample.csv"),
        workspace=workspace_path,
    )
    bad = project / "bad.csv"
    bad.write_text("age,bmi,note\nabc,22.6,x\n4.5,,x\n90,99,x\n31,25,x\n")
    done = mlyard(
        "validate",
        "--data",
        str(bad),
        "--against",
        "diabetes:1",
        "-o",
        "json",
        workspace=workspace_path,
        expect=11,
    )
    (report,) = as_json(done)["reports"]
    assert report["passed"] is False
    assert _problems(report) == {
        ("type", "age"): 2,  # 'abc' and 4.5 are not whole numbers
        ("range", "age"): 1,  # 90 is above the asset's 60
        ("null_rate", "bmi"): 1,
        ("range", "bmi"): 1,  # 99 is above 30.1
        ("missing_column", "sex"): 4,
        ("missing_column", "target"): 4,
        ("unexpected_column", "note"): 4,
    }
    assert "error: validation failed: 6 in data" in done.stderr


def test_people_get_a_verdict_and_a_table_of_problems(workspace_path: Path, project: Path) -> None:
    mlyard(
        "data",
        "create",
        "--name",
        "diabetes",
        "--path",
        str(project / "sample.csv"),
        workspace=workspace_path,
    )
    bad = project / "bad.csv"
    bad.write_text("age,bmi,sex,target\n70,22.6,m,100\n")
    done = mlyard(
        "validate", "--data", str(bad), "--against", "diabetes:1", workspace=workspace_path, expect=11
    )
    assert "data validation of" in done.stderr and "against diabetes:1, 1 row(s): FAILED" in done.stderr
    assert "1 of 1 rows are outside the data asset's range [30, 60]" in done.stdout


def test_training_validation_runs_a_cloud_job_locally_on_the_sample(project: Path) -> None:
    """No server and no workspace: a throw-away one; `compute: azureml:cpu-cluster` becomes local."""
    done = mlyard(
        "validate",
        "--training",
        str(project / "job.yml"),
        "--data",
        str(project / "sample.csv"),
        "-o",
        "json",
    )
    (report,) = as_json(done)["reports"]
    assert report["kind"] == "training" and report["passed"] is True
    assert report["details"]["status"] == "Completed"
    assert report["details"]["metrics"] == {"rows": 4.0}


def test_a_training_job_that_fails_on_the_sample_exits_11_with_its_last_log_line(project: Path) -> None:
    (project / "no_target.csv").write_text("age,bmi\n30,22.5\n")
    done = mlyard(
        "validate",
        "--training",
        str(project / "job.yml"),
        "--data",
        str(project / "no_target.csv"),
        "-o",
        "json",
        expect=11,
    )
    (report,) = as_json(done)["reports"]
    (problem,) = report["problems"]
    assert problem["check"] == "job"
    assert "ended Failed" in problem["message"] and "no target column in" in problem["message"]


def test_a_job_with_several_data_inputs_asks_which_one_reads_the_sample(project: Path) -> None:
    (project / "two.yml").write_text(
        JOB_YML.replace("inputs:\n", "inputs:\n  holdout: {type: uri_file, path: ./sample.csv}\n")
    )
    done = mlyard(
        "validate", "--training", str(project / "two.yml"), "--data", str(project / "sample.csv"), expect=2
    )
    assert "several data inputs (holdout, training_data)" in done.stderr
    assert "--set inputs.NAME.path=" in done.stderr
    bound = f"inputs.training_data.path={project / 'sample.csv'}"
    done = mlyard("validate", "--training", str(project / "two.yml"), "--set", bound, "-o", "json")
    assert as_json(done)["passed"] is True and done.stderr == ""


def test_scoring_validation_runs_score_py_on_sample_rows(project: Path) -> None:
    done = mlyard(
        "validate", "--scoring", str(project / "score.py"), "--model", str(project / "model"),
        "--data", str(project / "sample.csv"), "--rows", "3", "-o", "json",
    )  # fmt: skip
    (report,) = as_json(done)["reports"]
    assert report["passed"] is True and report["checked_rows"] == 3
    assert report["details"]["response_preview"] == [60.0, 80.0, 100.0]
    assert "loading the model" in done.stderr


@pytest.mark.parametrize(
    ("run_body", "expected"),
    [
        ("return {'predictions': [1.0]}", {("response_rows", None): 4}),
        ("return [None, None, 1.0, 2.0]", {("null_prediction", None): 2}),
        ("return 'done'", {("response_shape", None): None}),
        ("raise KeyError('input_data')", {("run", None): None}),
    ],
    ids=["too-few-predictions", "null-predictions", "not-a-list", "run-raises"],
)
def test_a_scoring_script_with_a_wrong_response_exits_11_naming_it(
    project: Path, run_body: str, expected: dict
) -> None:
    (project / "bad_score.py").write_text(f"def run(raw_data):\n    {run_body}\n")
    done = mlyard(
        "validate",
        "--scoring",
        str(project / "bad_score.py"),
        "--data",
        str(project / "sample.csv"),
        "-o",
        "json",
        expect=11,
    )
    (report,) = as_json(done)["reports"]
    assert _problems(report) == expected


def test_a_scoring_script_whose_init_raises_is_reported_with_its_line(project: Path) -> None:
    (project / "broken.py").write_text(
        "def init():\n    raise FileNotFoundError('model.pkl')\n\ndef run(raw_data):\n    return []\n"
    )
    done = mlyard(
        "validate",
        "--scoring",
        str(project / "broken.py"),
        "--data",
        str(project / "sample.csv"),
        "-o",
        "json",
        expect=11,
    )
    (report,) = as_json(done)["reports"]
    assert report["problems"][0]["message"] == "init raised FileNotFoundError: model.pkl (broken.py, line 2)"


def test_scoring_validation_of_a_model_folder_checks_its_signature(project: Path) -> None:
    import pandas as pd
    from sklearn.linear_model import LinearRegression

    from mlyard.entities.registry.model import ModelMetadata
    from mlyard.flavors import get_flavor
    from mlyard.flavors.metadata import write_metadata
    from mlyard.flavors.signature import infer_signature

    frame = pd.read_csv(project / "sample.csv")[["age", "bmi"]]
    folder = project / "ridge"
    flavor = get_flavor("sklearn")
    model_file = flavor.save(LinearRegression().fit(frame, [1.0, 2.0, 3.0, 4.0]), folder)
    write_metadata(
        folder,
        ModelMetadata(
            flavor="sklearn",
            model_file=model_file,
            signature=infer_signature(frame),
            created_at=datetime.now(UTC),
        ),
    )
    done = mlyard("validate", "--scoring", str(folder), "--data", str(project / "sample.csv"), "-o", "json")
    (report,) = as_json(done)["reports"]
    assert report["passed"] is True and len(report["details"]["response_preview"]) == 4

    (project / "no_bmi.csv").write_text("age\n30\n")
    done = mlyard(
        "validate", "--scoring", str(folder), "--data", str(project / "no_bmi.csv"), "-o", "json", expect=11
    )
    (report,) = as_json(done)["reports"]
    (problem,) = report["problems"]
    assert problem["check"] == "input" and "bmi" in problem["message"]


def test_all_three_validations_run_in_one_call_and_all_report(workspace_path: Path, project: Path) -> None:
    mlyard(
        "data",
        "create",
        "--name",
        "diabetes",
        "--path",
        str(project / "sample.csv"),
        workspace=workspace_path,
    )
    (project / "broken.py").write_text("def run(raw_data):\n    return None\n")
    done = mlyard(
        "validate", "--data", str(project / "sample.csv"), "--against", "diabetes:1",
        "--training", str(project / "job.yml"), "--scoring", str(project / "broken.py"), "-o", "json",
        workspace=workspace_path, expect=11,
    )  # fmt: skip
    reports = as_json(done)["reports"]
    assert [(r["kind"], r["passed"]) for r in reports] == [
        ("data", True),
        ("training", True),
        ("scoring", False),
    ]
    assert "validation failed: 1 in scoring" in done.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ([], 2, "say what to validate: --against NAME@VERSION"),
        (["--against", "diabetes@latest"], 2, "--against needs the data file to check: give --data FILE"),
        (["--scoring", "score.py"], 2, "give --data FILE or --request FILE"),
        (["--model", "model", "--training", "job.yml"], 2, "--model goes with --scoring"),
        (
            ["--scoring", "missing.py", "--data", "sample.csv"],
            3,
            "scoring script or model folder missing.py does not exist",
        ),
        (["--training", "missing.yml"], 3, "job file missing.yml does not exist"),
    ],
)
def test_a_wrong_command_is_a_one_line_error_not_a_failed_validation(
    project: Path, args: list[str], code: int, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    done = mlyard("validate", *args, expect=code)
    assert message in done.stderr and done.stdout == ""


def test_an_unknown_data_asset_exits_3(workspace_path: Path, project: Path) -> None:
    done = mlyard(
        "validate",
        "--data",
        str(project / "sample.csv"),
        "--against",
        "nope@latest",
        workspace=workspace_path,
        expect=3,
    )
    assert "nope" in done.stderr
    assert done.stdout == ""


PIPELINE_YML = """type: pipeline
inputs:
  training_data: {type: uri_file, path: azureml:diabetes@latest}
settings: {default_compute: azureml:cpu-cluster}
jobs:
  train:
    code: ./src
    command: python train.py ${{inputs.data}}
    inputs:
      data: ${{parent.inputs.training_data}}
    environment: inherit
    compute: azureml:gpu-cluster
"""


def test_a_pipeline_runs_locally_and_a_failing_step_is_named(project: Path) -> None:
    (project / "pipeline.yml").write_text(PIPELINE_YML)
    done = mlyard(
        "validate",
        "--training",
        str(project / "pipeline.yml"),
        "--data",
        str(project / "sample.csv"),
        "-o",
        "json",
    )
    (report,) = as_json(done)["reports"]
    assert report["details"]["type"] == "pipeline" and report["details"]["steps"] == {"train": "Completed"}

    (project / "no_target.csv").write_text("age,bmi\n30,22.5\n")
    done = mlyard(
        "validate",
        "--training",
        str(project / "pipeline.yml"),
        "--data",
        str(project / "no_target.csv"),
        "-o",
        "json",
        expect=11,
    )
    (report,) = as_json(done)["reports"]
    messages = [p["message"] for p in report["problems"]]
    assert [p["check"] for p in report["problems"]] == ["job", "step"]
    assert messages[1].startswith("step train ended Failed") and "no target column" in messages[1]


def test_data_validation_reads_the_data_asset_from_a_team_server(tmp_path: Path, project: Path) -> None:
    from mlyard.services.workspaces.workspace import create_workspace
    from tests.processes import start_server

    workspace = tmp_path / "team"
    create_workspace(workspace)
    mlyard("data", "create", "--name", "diabetes", "--path", str(project / "sample.csv"), workspace=workspace)
    server = start_server(workspace, tmp_path / "server.log")
    try:
        bad = project / "bad.csv"
        bad.write_text("age,bmi,sex,target\n70,22.6,m,100\n")
        assert server.url is not None
        done = mlyard(
            "--url",
            server.url,
            "validate",
            "--data",
            str(bad),
            "--against",
            "diabetes@latest",
            "-o",
            "json",
            expect=11,
        )
    finally:
        server.stop()
    (report,) = as_json(done)["reports"]
    assert _problems(report) == {("range", "age"): 1}


def test_a_score_py_validates_with_a_registered_model_laid_out_as_deployments_see_it(
    workspace_path: Path, project: Path
) -> None:
    """Azure mounts a folder model under its own name: $AZUREML_MODEL_DIR/model/factor.txt."""
    mlyard(
        "model",
        "create",
        "--name",
        "scaler",
        "--path",
        str(project / "model"),
        "--type",
        "custom_model",
        workspace=workspace_path,
    )
    (project / "azure_score.py").write_text(SCORE_PY.replace('"factor.txt"', '"model", "factor.txt"'))
    args = ["validate", "--scoring", str(project / "azure_score.py"), "--data", str(project / "sample.csv")]
    done = mlyard(*args, "--model", "scaler@latest", "-o", "json", workspace=workspace_path)
    (report,) = as_json(done)["reports"]
    assert report["passed"] is True and report["details"]["model"] == "scaler:1"
    assert report["details"]["response_preview"] == [60.0, 80.0, 100.0, 120.0]

    done = mlyard(*args, "--model", "scaler@production", workspace=workspace_path, expect=3)
    assert "production" in done.stderr
