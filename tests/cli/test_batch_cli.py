"""`mlyard batch-endpoint` and `mlyard batch-deployment` as a user types them: subprocesses, exit codes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

from mlyard.services.model_registry.models import save_model_folder
from tests.cli.test_cli import as_json, mlyard

pytestmark = pytest.mark.slow

DEPLOYMENT = """\
$schema: https://azuremlschemas.azureedge.net/latest/modelBatchDeployment.schema.json
name: blue
endpoint_name: diabetes-batch
type: model
model: azureml:ridge@latest
resources: {instance_count: 2}
settings:
  mini_batch_size: 100
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    features, target = load_diabetes(return_X_y=True, as_frame=True)
    (tmp_path / "model").mkdir()
    save_model_folder(Ridge().fit(features, target), tmp_path / "model", "sklearn", features[:5])
    features.to_csv(tmp_path / "patients.csv", index=False)
    (tmp_path / "deployment.yml").write_text(DEPLOYMENT)
    (tmp_path / "endpoint.yml").write_text("name: diabetes-batch\ndescription: nightly\n")
    return tmp_path


def test_create_deploy_invoke_stream_and_download(project, tmp_path):
    ws = tmp_path / "ws"
    mlyard(
        "model",
        "create",
        "--name",
        "ridge",
        "--path",
        str(project / "model"),
        "--type",
        "sklearn",
        workspace=ws,
    )
    created = mlyard("batch-endpoint", "create", "--file", str(project / "endpoint.yml"), workspace=ws)
    assert "created batch endpoint diabetes-batch" in created.stderr
    deployment = str(project / "deployment.yml")
    deployed = mlyard("batch-deployment", "create", "--file", deployment, "--set-default", workspace=ws)
    assert "model ridge:1, 2 worker(s) (the endpoint's default)" in deployed.stderr
    patients = str(project / "patients.csv")
    done = mlyard(
        "batch-endpoint", "invoke", "--name", "diabetes-batch", "--input", patients, "--stream", workspace=ws
    )
    assert "Completed" in done.stderr and "442 items scored, 0 failed" in done.stderr
    [line] = [line for line in done.stderr.splitlines() if line.startswith("output 'score': ")]
    assert line.endswith("predictions.csv") and Path(line.removeprefix("output 'score': ")).is_file()
    [job] = as_json(
        mlyard("batch-endpoint", "list-jobs", "--name", "diabetes-batch", "-o", "json", workspace=ws)
    )
    assert job["status"] == "Completed" and job["tags"]["mlyard.batch_deployment"] == "blue"
    mlyard("job", "download", job["id"], "--output-name", "score", "--download-path", str(tmp_path / "got"),
           workspace=ws)  # fmt: skip
    fetched = list((tmp_path / "got").rglob("predictions.csv"))
    assert len(fetched) == 1 and len(pd.read_csv(fetched[0])) == 442
    shown = as_json(mlyard("batch-endpoint", "show", "--name", "diabetes-batch", "-o", "json", workspace=ws))
    assert shown["default_deployment"] == "blue" and shown["description"] == "nightly"
    updated = as_json(mlyard("batch-deployment", "update", "-e", "diabetes-batch", "-n", "blue", "--set",
                             "mini_batch_size=50", "-o", "json", workspace=ws))  # fmt: skip
    assert updated["settings"]["mini_batch_size"] == 50
    listed = mlyard("batch-deployment", "list", "--endpoint-name", "diabetes-batch", workspace=ws)
    assert "blue" in listed.stdout and "no-code" in listed.stdout
    queued = mlyard("batch-endpoint", "invoke", "-n", "diabetes-batch", "-i", str(project / "patients.csv"),
                    workspace=ws)  # fmt: skip
    assert "--output-name score" in queued.stderr


def test_mistakes_exit_with_their_code_and_one_line(project, tmp_path):
    ws = tmp_path / "ws"
    mlyard("batch-endpoint", "create", "--name", "diabetes-batch", workspace=ws)
    missing = mlyard("batch-endpoint", "invoke", "--name", "nope", "--input", "x.csv", workspace=ws, expect=3)
    assert "batch endpoint 'nope' does not exist; create it with" in missing.stderr
    again = mlyard("batch-endpoint", "create", "--name", "diabetes-batch", workspace=ws, expect=4)
    assert "already exists" in again.stderr
    unknown = mlyard(
        "batch-deployment", "create", "--file", str(project / "deployment.yml"), workspace=ws, expect=3
    )
    assert "deployment.yml: model: model 'ridge' does not exist" in unknown.stderr
    (project / "typo.yml").write_text(DEPLOYMENT.replace("mini_batch_size", "mini_bach_size"))
    typo = mlyard(
        "batch-deployment", "create", "--file", str(project / "typo.yml"), "--strict", workspace=ws, expect=2
    )
    assert "typo.yml: settings.mini_bach_size: unknown field" in typo.stderr
    mlyard(
        "model",
        "create",
        "--name",
        "ridge",
        "--path",
        str(project / "model"),
        "--type",
        "sklearn",
        workspace=ws,
    )
    mlyard("batch-deployment", "create", "--file", str(project / "deployment.yml"), workspace=ws)
    no_input = mlyard(
        "batch-endpoint", "invoke", "-n", "diabetes-batch", "-i", "gone.csv", workspace=ws, expect=3
    )
    assert "--input: gone.csv is neither a file or folder" in no_input.stderr
    (project / "wrong.csv").write_text("x,y\n1,2\n")
    wrong = str(project / "wrong.csv")
    failed = mlyard(
        "batch-endpoint", "invoke", "-n", "diabetes-batch", "-i", wrong, "--stream", workspace=ws, expect=8
    )
    assert "the input has no column 'age'" in failed.stderr
    change = "defaults.deployment_name=red"
    bad_set = mlyard(
        "batch-endpoint", "update", "-n", "diabetes-batch", "--set", change, workspace=ws, expect=3
    )
    assert "has no deployment 'red' (deployments: blue)" in bad_set.stderr
    default = mlyard("batch-deployment", "delete", "-e", "diabetes-batch", "-n", "blue", workspace=ws)
    assert "deleted batch deployment diabetes-batch/blue" in default.stderr
    mlyard("batch-endpoint", "delete", "-n", "diabetes-batch", workspace=ws)
    assert as_json(mlyard("batch-endpoint", "list", "-o", "json", workspace=ws)) == []
