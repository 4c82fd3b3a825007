"""Batch endpoints through the SDK on embedded SQLite, embedded PostgreSQL and a team server.

Every test runs three times (the `client` fixture): create an endpoint and a deployment, invoke
it on a table or a folder of files, and read `predictions.csv` from the job's `score` output.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

import mlyard
from mlyard.entities.jobs.job import JobStatus
from mlyard.entities.specs.spec_warnings import checking_specs
from mlyard.errors import InvalidArgument, InvalidSpec, JobNotCompleted, NotFound


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture(scope="module")
def diabetes():
    features, target = load_diabetes(return_X_y=True, as_frame=True)
    return Ridge(alpha=0.5).fit(features, target), features, target


@pytest.fixture
def endpoint(client, diabetes, tmp_path):
    """Endpoint `ep` with a no-code deployment `blue` of the diabetes Ridge model."""
    model, features, _ = diabetes
    with mlyard.start_run():
        mlyard.log_model(model, name="ridge", flavor="sklearn", input_example=features[:5])
    client.batch_endpoints.create(name="ep", description="diabetes scoring")
    write(
        tmp_path / "blue.yml",
        """\
        $schema: https://azuremlschemas.azureedge.net/latest/modelBatchDeployment.schema.json
        name: blue
        endpoint_name: ep
        type: model
        model: azureml:ridge@latest
        resources: {instance_count: 2}
        settings: {mini_batch_size: 50, output_file_name: predictions.csv}
    """,
    )
    client.batch_deployments.create(tmp_path / "blue.yml")
    return "ep"


def predictions(client, job, tmp_path, name="predictions.csv"):
    folder = client.jobs.download(job.id, tmp_path / f"down-{job.id}", output_name="score")
    return folder / name


def test_a_table_is_scored_like_model_predict_in_input_order(client, endpoint, diabetes, tmp_path):
    model, features, target = diabetes
    table = features.assign(target=target)  # a column the model does not take is left aside
    table.to_csv(tmp_path / "patients.csv", index=False)
    job = client.batch_endpoints.invoke("ep", tmp_path / "patients.csv", wait=True)
    assert job.status == JobStatus.COMPLETED and job.type == "batch"
    assert job.metrics["batch.items_scored"] == 442 and job.metrics["batch.mini_batches_total"] == 9
    scored = pd.read_csv(predictions(client, job, tmp_path))
    assert list(scored.columns) == ["prediction"]
    np.testing.assert_allclose(scored["prediction"], model.predict(features), rtol=1e-12)
    [listed] = client.batch_endpoints.list_jobs("ep")
    assert listed.id == job.id and client.batch_deployments.list_jobs("ep", "blue")[0].id == job.id
    assert client.batch_endpoints.get("ep").default_deployment == "blue"


def test_a_registered_data_asset_is_scored(client, endpoint, diabetes, tmp_path):
    model, features, _ = diabetes
    features.iloc[:120].to_parquet(tmp_path / "batch.parquet", index=False)
    client.data.create("patients", tmp_path / "batch.parquet", type="uri_file")
    job = client.batch_endpoints.invoke("ep", "azureml:patients@latest", deployment_name="blue", wait=True)
    scored = pd.read_csv(predictions(client, job, tmp_path))
    np.testing.assert_allclose(scored["prediction"], model.predict(features.iloc[:120]), rtol=1e-12)
    assert [(i.kind, i.name) for i in client.jobs.get(job.id).inputs] == [
        ("data", "patients"),
        ("model", "ridge"),
    ]


SCORE = """\
import os, pathlib

import pandas as pd

calls = pathlib.Path(os.environ["CALLS"])


def init():
    global model_dir
    model_dir = os.environ["AZUREML_MODEL_DIR"]
    with open(calls / "init.txt", "a") as log:
        log.write(f"{os.getpid()}\\n")


def run(mini_batch):
    with open(calls / "run.txt", "a") as log:
        log.write(",".join(pathlib.Path(p).name for p in mini_batch) + "\\n")
    rows = []
    for path in mini_batch:
        name = pathlib.Path(path).name
        if name.startswith("bad"):
            raise ValueError(f"cannot score {name}")
        flaky = calls / f"flaky-{name}"
        if name.startswith("flaky") and not flaky.exists():
            flaky.write_text("failed once")
            raise RuntimeError(f"{name} fails the first time")
        rows.append((name, int(pathlib.Path(path).read_text()) * 2))
    if os.environ["RETURNS"] == "list":
        return [f"{name} {value}" for name, value in rows]
    return pd.DataFrame(rows, columns=["file", "doubled"])
"""


def script_deployment(client, tmp_path, name, returns, **settings):
    calls = tmp_path / f"calls-{name}"  # made after the deployment: a remote client uploads existing paths
    write(tmp_path / "src" / "score.py", SCORE)
    merged = {
        "mini_batch_size": 2,
        "environment_variables": {"CALLS": str(calls), "RETURNS": returns},
        **settings,
    }
    lines = "\n".join(
        f"  {key}: {value!r}" if isinstance(value, str) else f"  {key}: {value}"
        for key, value in merged.items()
    )
    write(
        tmp_path / f"{name}.yml",
        f"""\
name: {name}
endpoint_name: ep
model: ridge:1
code_configuration: {{code: ./src, scoring_script: score.py}}
resources: {{instance_count: 2}}
settings:
{lines}
""",
    )
    client.batch_deployments.create(tmp_path / f"{name}.yml")
    calls.mkdir()
    return calls


def files(tmp_path, names):
    folder = tmp_path / "files"
    for index, name in enumerate(names):
        write(folder / name, str(index))
    return folder


def test_a_scoring_script_gets_file_lists_inits_once_per_worker_and_may_return_lists_or_frames(
    client, endpoint, tmp_path
):
    folder = files(tmp_path, [f"f{i}.txt" for i in range(6)])
    calls = script_deployment(client, tmp_path, "listy", "list")
    job = client.batch_endpoints.invoke("ep", folder, deployment_name="listy", wait=True)
    assert predictions(client, job, tmp_path).read_text().splitlines() == [
        f"f{i}.txt {i * 2}" for i in range(6)
    ]
    assert 1 <= len((calls / "init.txt").read_text().split()) <= 2  # once per worker, 2 workers
    assert sorted((calls / "run.txt").read_text().split()) == [
        "f0.txt,f1.txt",
        "f2.txt,f3.txt",
        "f4.txt,f5.txt",
    ]
    script_deployment(client, tmp_path, "framey", "frame")
    job = client.batch_endpoints.invoke("ep", folder, deployment_name="framey", wait=True)
    scored = pd.read_csv(predictions(client, job, tmp_path))
    assert list(scored.columns) == ["file", "doubled"] and scored["doubled"].tolist() == [0, 2, 4, 6, 8, 10]


def test_failing_mini_batches_are_retried_and_the_error_threshold_stops_the_job(client, endpoint, tmp_path):
    folder = files(tmp_path, ["a.txt", "bad.txt", "c.txt", "flaky.txt"])
    calls = script_deployment(
        client,
        tmp_path,
        "tolerant",
        "list",
        mini_batch_size=1,
        retry_settings={"max_retries": 2, "timeout": 30},
    )
    job = client.batch_endpoints.invoke("ep", folder, deployment_name="tolerant", wait=True)
    assert predictions(client, job, tmp_path).read_text().splitlines() == [
        "a.txt 0",
        "c.txt 4",
        "flaky.txt 6",
    ]
    assert (job.metrics["batch.items_failed"], job.metrics["batch.mini_batches_failed"]) == (1, 1)
    run_calls = (calls / "run.txt").read_text().split()
    assert (
        run_calls.count("bad.txt") == 3 and run_calls.count("flaky.txt") == 2
    )  # 1 + max_retries; retried once
    script_deployment(client, tmp_path, "strict", "list", mini_batch_size=1, error_threshold=0,
                      retry_settings={"max_retries": 0, "timeout": 30})  # fmt: skip
    with pytest.raises(
        JobNotCompleted, match=r"(?s)1 items failed, more than the error threshold of 0.*cannot score bad.txt"
    ):
        client.batch_endpoints.invoke("ep", folder, deployment_name="strict", wait=True)


def test_summary_only_keeps_counts_and_writes_no_predictions(client, endpoint, diabetes, tmp_path):
    _, features, _ = diabetes
    features.to_csv(tmp_path / "patients.csv", index=False)
    client.batch_deployments.update("ep", "blue", {"output_action": "summary_only", "mini_batch_size": "200"})
    job = client.batch_endpoints.invoke("ep", tmp_path / "patients.csv", wait=True)
    assert job.metrics["batch.items_scored"] == 442 and job.metrics["batch.mini_batches_total"] == 3
    folder = client.jobs.download(job.id, tmp_path / "down", output_name="score")
    assert not (folder / "predictions.csv").exists()


def test_bad_invokes_are_refused_with_what_to_do_and_leave_no_job(client, endpoint, tmp_path):
    (tmp_path / "rows.csv").write_text("a\n1\n")
    with pytest.raises(NotFound, match=r"batch endpoint 'nope' does not exist; create it with"):
        client.batch_endpoints.invoke("nope", tmp_path / "rows.csv")
    with pytest.raises(NotFound, match=r"has no deployment 'green' \(deployments: blue\)"):
        client.batch_endpoints.invoke("ep", tmp_path / "rows.csv", deployment_name="green")
    with pytest.raises(NotFound, match=r"--input: missing.csv is neither a file or folder") as missing:
        client.batch_endpoints.invoke("ep", "missing.csv")
    assert "mlyard-empty-" not in missing.value.message  # a server's scratch folder is no user's path
    with pytest.raises(InvalidArgument, match=r"--input: give a data asset"):
        client.batch_endpoints.invoke("ep")
    with pytest.raises(InvalidArgument, match=r"--input-type: expected uri_file, uri_folder, mltable"):
        client.batch_endpoints.invoke("ep", tmp_path / "rows.csv", input_type="csv")
    write(
        tmp_path / "typo.yml", "name: red\nendpoint_name: ep\nmodel: ridge:1\nsettings: {mini_bach_size: 2}\n"
    )
    typo = r"typo.yml: settings.mini_bach_size: unknown field .*'mini_batch_size'"
    with checking_specs(strict=True), pytest.raises(InvalidSpec, match=typo):
        client.batch_deployments.create(tmp_path / "typo.yml")
    assert client.jobs.list() == [] or all(job.type != "batch" for job in client.jobs.list())
    assert [d.name for d in client.batch_deployments.list("ep")] == ["blue"]


def test_a_model_input_that_does_not_fit_fails_the_job_with_the_reason(client, endpoint, tmp_path):
    (tmp_path / "wrong.csv").write_text("x,y\n1,2\n")
    with pytest.raises(JobNotCompleted, match=r"the input has no column 'age'"):
        client.batch_endpoints.invoke("ep", tmp_path / "wrong.csv", wait=True)


def test_an_input_with_nothing_to_score_is_refused_at_invoke_and_leaves_no_job(client, endpoint, tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "header.csv").write_text("age,sex,bmi\n")
    (tmp_path / "nothing").mkdir()
    with pytest.raises(
        InvalidArgument, match=r"--input: .*empty.csv has nothing to score: the file is empty"
    ):
        client.batch_endpoints.invoke("ep", tmp_path / "empty.csv")
    with pytest.raises(
        InvalidArgument, match=r"header.csv has nothing to score: the table has a header but no rows"
    ):
        client.batch_endpoints.invoke("ep", tmp_path / "header.csv")
    with pytest.raises(InvalidArgument, match=r"has nothing to score: the folder holds no files"):
        client.batch_endpoints.invoke("ep", tmp_path / "nothing")
    client.data.create("no-rows", tmp_path / "header.csv")
    with pytest.raises(InvalidArgument, match=r"data asset no-rows:1 is empty or has no rows"):
        client.batch_endpoints.invoke("ep", "no-rows@latest")
    assert client.batch_endpoints.list_jobs("ep") == []


def test_a_bad_cell_completes_partially_with_the_counts_and_row_numbers_in_the_output(
    client, endpoint, diabetes, tmp_path
):
    model, features, _ = diabetes
    table = features.astype(object)
    table.iloc[60, 2] = "abc"  # row 60 is in the second mini-batch of 50 rows
    table.to_csv(tmp_path / "patients.csv", index=False)
    client.batch_deployments.update("ep", "blue", {"retry_settings.max_retries": "0"})
    job = client.batch_endpoints.invoke("ep", tmp_path / "patients.csv", wait=True)
    assert job.status == JobStatus.COMPLETED
    assert (job.metrics["batch.items_scored"], job.metrics["batch.items_failed"]) == (392, 50)
    assert job.tags["mlyard.batch_result"] == (
        "partial: 392 of 442 items scored, 50 failed (rows 50-99; not in the output "
        "(its `row` column names each input row))"
    )
    scored = pd.read_csv(predictions(client, job, tmp_path))
    assert list(scored.columns) == ["row", "prediction"]
    assert list(scored["row"]) == [*range(50), *range(100, 442)]
    kept = features.drop(index=range(50, 100))
    np.testing.assert_allclose(scored["prediction"], model.predict(kept), rtol=1e-12)
