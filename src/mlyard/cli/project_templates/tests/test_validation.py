"""Data and scoring validation with `mlyard validate` (exit 0 when valid, 11 when not), locally:
a throw-away workspace holds the sample as the reference data asset."""

import json
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
    return subprocess.run(
        [*MLYARD, "--workspace", str(workspace), *args], check=False, capture_output=True, text=True,
        timeout=300,
    )


@pytest.fixture
def reference(sample: Path, tmp_path: Path) -> Path:
    workspace = tmp_path / "workspace"
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


def test_the_scoring_script_answers_one_prediction_per_row(sample: Path, tmp_path: Path):
    prep.main(["--raw_data", str(sample), "--split_data", str(tmp_path / "split")])
    train.main(["--training_data", str(tmp_path / "split"), "--model_output", str(tmp_path / "model")])
    done = mlyard("validate", "--scoring", str(ROOT / "src" / "score.py"), "--model", str(tmp_path / "model"),
                  "--data", str(ROOT / "data" / "sample" / "scoring.csv"), "-o", "json",
                  workspace=tmp_path / "unused")
    assert done.returncode == 0, done.stdout + done.stderr
