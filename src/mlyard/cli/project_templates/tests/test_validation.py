"""Data validation with `mlyard validate` (exit 0 when valid, 11 when not), locally: a throw-away
workspace holds the sample as the reference data asset (made once: every mlyard call starts a
process). The scoring script runs in-process here; `mlyard validate --scoring` runs in pr.yml."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import prep
import train

MLYARD = [sys.executable, "-m", "mlyard.cli.main"]
ROOT = Path(__file__).resolve().parents[1]


def mlyard(*args: str, workspace: Path) -> subprocess.CompletedProcess[str]:
    local = {name: value for name, value in os.environ.items() if not name.startswith("MLYARD_")}
    return subprocess.run(
        [*MLYARD, "--workspace", str(workspace), *args], check=False, capture_output=True, text=True,
        timeout=300, env=local,  # never the server a CI job may name
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sample = ROOT / "data" / "sample" / "@{ prefix }@.csv"
    workspace = tmp_path_factory.mktemp("reference") / "workspace"
    done = mlyard("data", "create", "--name", "reference", "--path", str(sample), "--type", "uri_file",
                  workspace=workspace)
    assert done.returncode == 0, done.stderr
    return workspace


def test_the_sample_fits_its_own_profile(sample: Path, reference: Path):
    done = mlyard("validate", "--data", str(sample), "--against", "reference@latest", "-o", "json",
                  workspace=reference)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["passed"] is True


def test_a_sample_missing_a_column_fails_data_validation(sample: Path, reference: Path, tmp_path: Path):
    broken = tmp_path / "broken.csv"
    frame = pd.read_csv(sample)
    frame.drop(columns=frame.columns[0]).to_csv(broken, index=False)
    done = mlyard("validate", "--data", str(broken), "--against", "reference@latest", workspace=reference)
    assert done.returncode == 11, done.stdout + done.stderr


def test_the_scoring_script_answers_one_prediction_per_row(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    prep.main(["--raw_data", str(sample), "--split_data", str(tmp_path / "split")])
    train.main(["--training_data", str(tmp_path / "split"), "--model_output", str(tmp_path / "model")])
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(tmp_path / "model"))
    score = importlib.import_module("score")
    score.init()
    request = (ROOT / "data" / "sample" / "request.json").read_text()
    predictions = score.run(request)
    assert len(predictions) == len(json.loads(request)["input_data"]["data"])
