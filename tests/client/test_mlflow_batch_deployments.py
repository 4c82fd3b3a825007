"""Batch deployments of MLflow models with no scoring script, as Azure ML's MLflow batch samples
write them: the model saved by the real `mlflow` client, registered as an `mlflow_model`,
deployed with `type: model` and a `settings:` block, invoked on a data asset that is a folder of
CSV files, scored into `predictions.csv`. Runs embedded (SQLite, PostgreSQL) and through a server.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

from mlyard.entities.jobs.job import JobStatus
from mlyard.errors import JobNotCompleted

# mlflow's own advice on type hints, raised while it imports
pytestmark = pytest.mark.filterwarnings("ignore:.*Any type hint is inferred as AnyType:UserWarning")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


DEPLOYMENT = """\
$schema: https://azuremlschemas.azureedge.net/latest/modelBatchDeployment.schema.json
endpoint_name: heart
name: classifier-mlflow
description: A heart condition classifier based on an MLflow model, no scoring script
type: model
model: azureml:{model}@latest
compute: azureml:batch-cluster
resources:
  instance_count: 2
settings:
  max_concurrency_per_instance: 1
  mini_batch_size: 2
  output_action: append_row
  output_file_name: predictions.csv
  retry_settings:
    max_retries: 1
    timeout: 60
  error_threshold: -1
  logging_level: info
"""


@pytest.fixture(scope="module")
def diabetes():
    features, target = load_diabetes(return_X_y=True, as_frame=True)
    return Ridge(alpha=0.5).fit(features, target), features


@pytest.fixture
def heart_endpoint(client, tmp_path):  # type: ignore[no-untyped-def]
    client.computes.create("batch-cluster", "local")
    client.batch_endpoints.create(name="heart", description="scores folders of CSV files")
    return "heart"


def saved_with_mlflow(model, features, folder: Path) -> Path:  # type: ignore[no-untyped-def]
    import mlflow.sklearn
    from mlflow.models import infer_signature

    mlflow.sklearn.save_model(
        model, str(folder), signature=infer_signature(features, model.predict(features)),
        serialization_format="cloudpickle",
    )  # fmt: skip
    return folder


def test_an_mlflow_model_without_a_scoring_script_scores_a_folder_of_csvs(
    client, heart_endpoint, diabetes, tmp_path
):
    model, features = diabetes
    folder = saved_with_mlflow(model, features, tmp_path / "mlflow-model")
    client.models.create("heart-classifier", folder, type="mlflow_model")
    client.batch_deployments.create(
        write(tmp_path / "deployment.yml", DEPLOYMENT.format(model="heart-classifier"))
    )
    csvs = tmp_path / "heart-unlabeled"
    for i in range(5):
        features.iloc[i * 20 : (i + 1) * 20].to_csv(csv_path(csvs, i), index=False)
    client.data.create("heart-unlabeled", csvs, type="uri_folder")
    job = client.batch_endpoints.invoke(heart_endpoint, "azureml:heart-unlabeled@latest", wait=True)
    assert job.status == JobStatus.COMPLETED and job.metrics["batch.items_scored"] == 100
    assert job.metrics["batch.mini_batches_total"] == 3  # five files, two per mini-batch
    scored = pd.read_csv(
        client.jobs.download(job.id, tmp_path / "down", output_name="score") / "predictions.csv"
    )
    assert len(scored) == 100 and "prediction" in scored.columns
    expected = model.predict(features.iloc[:100])
    np.testing.assert_allclose(sorted(scored["prediction"]), sorted(expected), rtol=1e-9)


def csv_path(folder: Path, index: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"part-{index}.csv"


def test_a_pickle_from_an_older_python_and_scikit_learn_fails_saying_which_versions(
    client, heart_endpoint, diabetes, tmp_path
):
    model, features = diabetes
    folder = saved_with_mlflow(model, features, tmp_path / "old-model")
    mlmodel = (folder / "MLmodel").read_text()
    python_line = next(line for line in mlmodel.splitlines() if "python_version:" in line)
    sklearn_line = next(line for line in mlmodel.splitlines() if "sklearn_version:" in line)
    mlmodel = mlmodel.replace(python_line, python_line.split(":")[0] + ": 3.7.4")
    mlmodel = mlmodel.replace(sklearn_line, sklearn_line.split(":")[0] + ": 0.22.1")
    (folder / "MLmodel").write_text(mlmodel)
    # What scikit-learn 0.22 pickled: a class from a module that later releases removed.
    (folder / "model.pkl").write_bytes(
        b"\x80\x02csklearn.linear_model.base\nLinearRegression\nq\x00)\x81q\x01}q\x02b."
    )
    client.models.create("old-classifier", folder, type="mlflow_model")
    client.batch_deployments.create(
        write(tmp_path / "deployment.yml", DEPLOYMENT.format(model="old-classifier"))
    )
    features.iloc[:10].to_csv(csv_path(tmp_path / "csvs", 0), index=False)
    with pytest.raises(JobNotCompleted) as failed:
        client.batch_endpoints.invoke(heart_endpoint, tmp_path / "csvs", wait=True)
    message = failed.value.message
    assert "was pickled with Python 3.7.4 and scikit-learn 0.22.1 (its MLmodel says so)" in message
    assert "No module named 'sklearn.linear_model.base'" in message
    assert "name an environment with python=3.7.4, scikit-learn==0.22.1 in the deployment" in message
