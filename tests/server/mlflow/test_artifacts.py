"""Artifacts through the `mlflow-artifacts` proxy API: files, folders, nested paths, big uploads."""

from __future__ import annotations

import http.client
import json
import os
from pathlib import Path
from urllib.parse import urlsplit

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from tests.server.mlflow.conftest import assert_mlflow_error, unique

ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "report"
    (root / "plots" / "deep").mkdir(parents=True)
    (root / "summary.txt").write_text("mse 2950")
    (root / "plots" / "loss.csv").write_text("step,loss\n0,1.0\n")
    (root / "plots" / "deep" / "weights.bin").write_bytes(bytes(range(256)) * 40)
    return root


def test_files_and_folders_round_trip_and_are_the_jobs_artifacts(tracking, folder, tmp_path):
    mlflow.set_experiment(unique("artifacts"))
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(folder / "summary.txt"))
        mlflow.log_artifact(str(folder / "summary.txt"), artifact_path="copies/a")
        mlflow.log_artifacts(str(folder), artifact_path="report")
        mlflow.log_dict({"alpha": 0.5}, "config/params.json")
        mlflow.log_text("hello", "notes.txt")
    client = MlflowClient()
    top = {(f.path, f.is_dir) for f in client.list_artifacts(run.info.run_id)}
    assert top == {
        ("summary.txt", False),
        ("copies", True),
        ("report", True),
        ("config", True),
        ("notes.txt", False),
    }
    [listed] = [f for f in client.list_artifacts(run.info.run_id, "report/plots") if not f.is_dir]
    assert (listed.path, listed.file_size) == ("report/plots/loss.csv", 16)
    assert client.list_artifacts(run.info.run_id, "nothing/here") == []

    fetched = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="report", dst_path=str(tmp_path / "get")
    )
    weights = Path("plots", "deep", "weights.bin")
    assert (Path(fetched) / weights).read_bytes() == (folder / weights).read_bytes()
    assert mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/config/params.json") == {"alpha": 0.5}
    assert mlflow.artifacts.load_text(f"{run.info.artifact_uri}/copies/a/summary.txt") == "mse 2950"

    jobs = tracking.client().jobs
    names = {artifact.path for artifact in jobs.list_artifacts(run.info.run_id)}
    assert {"report/plots/deep/weights.bin", "config/params.json", "copies/a/summary.txt"} <= names
    jobs.download(run.info.run_id, tmp_path / "mlyard")
    assert (tmp_path / "mlyard" / "artifacts" / "notes.txt").read_text() == "hello"


def test_an_upload_bigger_than_the_json_body_limit_streams_to_disk(tracking, tmp_path):
    big = tmp_path / "big.bin"
    chunk = os.urandom(1024 * 1024)
    with big.open("wb") as sink:
        for _ in range(20):  # 20 MiB: past the 16 MiB the server buffers for JSON routes
            sink.write(chunk)
    mlflow.set_experiment(unique("big"))
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(big))
    [info] = MlflowClient().list_artifacts(run.info.run_id)
    assert (info.path, info.file_size) == ("big.bin", 20 * 1024 * 1024)
    back = Path(MlflowClient().download_artifacts(run.info.run_id, "big.bin", str(tmp_path)))
    assert back.read_bytes()[-1024:] == chunk[-1024:]


def test_a_missing_artifact_is_a_404_naming_it(tracking):
    mlflow.set_experiment(unique("missing"))
    with mlflow.start_run() as run:
        pass
    with pytest.raises(MlflowException, match="artifact 'nope.txt' does not exist"):
        mlflow.artifacts.load_text(f"{run.info.artifact_uri}/nope.txt")


def test_artifact_paths_that_name_no_run_or_leave_their_folder_are_refused(tracking, api):
    mlflow.set_experiment(unique("paths"))
    with mlflow.start_run() as run:
        pass
    experiment, run_id = run.info.experiment_id, run.info.run_id
    assert_mlflow_error(
        api.get(f"{ARTIFACTS}/{experiment}/no_such_run/artifacts/x"),
        404,
        "RESOURCE_DOES_NOT_EXIST",
        "job 'no_such_run' does not exist",
    )
    assert_mlflow_error(
        api.put(f"{ARTIFACTS}/999999/{run_id}/artifacts/x.txt", content=b"x"),
        404,
        "RESOURCE_DOES_NOT_EXIST",
        f"run {run_id} is not in experiment 999999",
    )
    assert_mlflow_error(
        api.put(f"{ARTIFACTS}/{experiment}/{run_id}/artifacts/a/%2E%2E/%2E%2E/x", content=b"x"),
        400,
        "INVALID_PARAMETER_VALUE",
        "contains '..'",
    )
    assert_mlflow_error(
        api.get(ARTIFACTS, params={"path": "elsewhere"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
        "artifact paths are <experiment id>/<run id>/artifacts/",
    )
    assert_mlflow_error(
        api.put(f"{ARTIFACTS}/{experiment}/{run_id}/artifacts", content=b"x"),
        400,
        "INVALID_PARAMETER_VALUE",
        "needs a file name after the artifact folder",
    )
    assert api.get(ARTIFACTS).json() == {"files": []}


def test_an_upload_declaring_more_than_the_limit_is_refused_before_its_body(tracking):
    mlflow.set_experiment(unique("limit"))
    with mlflow.start_run() as run:
        pass
    address = urlsplit(tracking.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        connection.putrequest(
            "PUT", f"{ARTIFACTS}/{run.info.experiment_id}/{run.info.run_id}/artifacts/huge.bin"
        )
        connection.putheader("Content-Length", str(6 * 1024**3))  # and no body follows
        connection.endheaders()
        refused = connection.getresponse()
        body = json.loads(refused.read())
    finally:
        connection.close()
    assert refused.status == 413 and body["error_code"] == "REQUEST_TOO_LARGE"
    assert "6,442,450,944 bytes; the limit is 5,368,709,120 bytes per file" in body["message"]
    assert MlflowClient().list_artifacts(run.info.run_id) == []
