"""Models: `mlflow.sklearn.log_model` with registration, loading by version and alias, both ways."""

from __future__ import annotations

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

from mlyard.services.model_registry import models
from tests.server.mlflow.conftest import unique


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return load_diabetes(return_X_y=True)


@pytest.fixture(scope="module")
def ridge(data) -> Ridge:
    features, target = data
    return Ridge(alpha=0.5).fit(features, target)


# Inferring the requirements takes the client seconds (it imports the model in a subprocess);
# one test keeps that default, the others name them.
FAST = {"pip_requirements": ["scikit-learn"]}


def _log_and_register(ridge: Ridge, data, name: str, infer_requirements: bool = False):  # type: ignore[no-untyped-def]
    mlflow.set_experiment(unique("models"))
    options = {} if infer_requirements else FAST
    with mlflow.start_run() as run:
        mlflow.log_param("alpha", 0.5)
        mlflow.log_metric("mse", 2950.0)
        info = mlflow.sklearn.log_model(
            ridge, name="model", registered_model_name=name, input_example=data[0][:2], **options
        )
    return run, info


def test_a_logged_and_registered_sklearn_model_loads_by_version_alias_and_id(tracking, ridge, data):
    features = data[0][:5]
    name = unique("diabetes-ridge")
    run, info = _log_and_register(ridge, data, name, infer_requirements=True)  # all defaults
    assert info.registered_model_version == "1" and info.model_uri.startswith("models:/m-")
    expected = ridge.predict(features)
    assert np.allclose(mlflow.pyfunc.load_model(f"models:/{name}/1").predict(features), expected)
    assert np.allclose(mlflow.pyfunc.load_model(info.model_uri).predict(features), expected)
    assert np.allclose(mlflow.pyfunc.load_model(f"models:/{name}/latest").predict(features), expected)
    MlflowClient().set_registered_model_alias(name, "champion", "1")
    assert np.allclose(mlflow.pyfunc.load_model(f"models:/{name}@champion").predict(features), expected)
    assert np.allclose(mlflow.sklearn.load_model(f"models:/{name}@champion").predict(features), expected)

    version = MlflowClient().get_model_version(name, "1")
    assert (version.status, version.run_id, version.source) == ("READY", run.info.run_id, info.model_uri)
    assert version.aliases == ["champion"]
    assert MlflowClient().get_model_version_by_alias(name, "champion").version == "1"
    # the metrics of the run are linked to the model without being logged twice
    assert [m.value for m in MlflowClient().get_metric_history(run.info.run_id, "mse")] == [2950.0]


def test_the_registered_version_is_an_mlyard_model_version_mlyard_loads(tracking, ridge, data):
    name = unique("churn")
    run, _ = _log_and_register(ridge, data, name)
    client = tracking.client()
    version = client.models.get(f"{name}:1")
    assert (version.flavor, version.job_id, version.aliases) == ("mlflow", run.info.run_id, [])
    model = client.models.load(f"{name}:1")
    assert np.allclose(model.predict(data[0][:3]), ridge.predict(data[0][:3]))
    logged = MlflowClient().get_logged_model(version.properties["mlflow.model_id"])
    assert (logged.status, logged.source_run_id, logged.name) == ("READY", run.info.run_id, "model")
    assert logged.params["alpha"] == "0.5"


def test_a_second_version_and_registry_searches(tracking, ridge, data):
    name = unique("twice")
    _log_and_register(ridge, data, name)
    run, _ = _log_and_register(ridge, data, name)
    client = MlflowClient()
    assert [v.version for v in client.search_model_versions(f"name = '{name}'")] == ["2", "1"]
    assert [v.version for v in client.search_model_versions(f"run_id = '{run.info.run_id}'")] == ["2"]
    assert [m.name for m in client.search_registered_models(filter_string=f"name = '{name}'")] == [name]
    registered = client.get_registered_model(name)
    assert [v.version for v in registered.latest_versions] == ["2"]
    with pytest.warns(FutureWarning, match="get_latest_versions``? is deprecated"):  # stages are, in MLflow
        assert [v.version for v in client.get_latest_versions(name, stages=["None"])] == ["2"]
        assert client.get_latest_versions(name, stages=["Production"]) == []


def test_register_model_from_a_runs_uri_finds_the_logged_model(tracking, ridge, data):
    mlflow.set_experiment(unique("runs-uri"))
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(ridge, name="model", **FAST)
    name = unique("from-run")
    version = mlflow.register_model(f"runs:/{run.info.run_id}/model", name)
    assert version.version == "1" and version.source.startswith("models:/m-")
    assert np.allclose(
        mlflow.pyfunc.load_model(f"models:/{name}/1").predict(data[0][:2]), ridge.predict(data[0][:2])
    )


def test_an_mlflow_folder_a_run_logged_as_artifacts_registers_from_its_run(tracking, ridge, data, tmp_path):
    mlflow.sklearn.save_model(ridge, tmp_path / "saved", **FAST)
    mlflow.set_experiment(unique("folder"))
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(tmp_path / "saved"), artifact_path="exported")
    name = unique("exported")
    version = mlflow.register_model(f"runs:/{run.info.run_id}/exported", name)
    assert version.source == f"{run.info.artifact_uri}/exported"
    assert np.allclose(
        mlflow.pyfunc.load_model(f"models:/{name}/1").predict(data[0][:2]), ridge.predict(data[0][:2])
    )


def test_a_native_mlflow_format_version_loads_with_mlflow(tracking, ridge, data, tmp_path):
    mlflow.sklearn.save_model(ridge, tmp_path / "saved", **FAST)
    name = unique("native")
    tracking.client().models.create(name=name, path=tmp_path / "saved", type="mlflow_model")
    loaded = mlflow.pyfunc.load_model(f"models:/{name}/1")
    assert np.allclose(loaded.predict(data[0][:2]), ridge.predict(data[0][:2]))


def test_a_native_model_that_is_not_an_mlflow_folder_says_how_to_load_it(tracking, ridge):
    name = unique("plain")
    models.save_and_register_model(tracking.workspace(), ridge, name, flavor="sklearn")
    with pytest.raises(
        MlflowException, match=rf"model {name}:1 has flavor 'sklearn', not an MLflow model folder"
    ):
        mlflow.pyfunc.load_model(f"models:/{name}/1")


def test_a_protected_alias_is_refused_to_mlflow_clients(tracking, ridge, data):
    name = unique("gated")
    _log_and_register(ridge, data, name)
    client = MlflowClient()
    with pytest.raises(
        MlflowException, match="PERMISSION_DENIED: cannot move alias 'production'.*mlyard model promote"
    ):
        client.set_registered_model_alias(name, "production", "1")
    client.set_registered_model_alias(name, "staging", "1")
    client.delete_registered_model_alias(name, "staging")
    with pytest.raises(MlflowException, match=f"model '{name}' has no alias 'staging'"):
        client.get_model_version_by_alias(name, "staging")
    assert tracking.client().models.get(f"{name}:1").aliases == []


def test_registering_an_existing_name_is_tolerated_and_unknown_sources_are_refused(tracking):
    name = unique("empty")
    client = MlflowClient()
    assert client.create_registered_model(name).name == name
    with pytest.raises(MlflowException, match="RESOURCE_ALREADY_EXISTS") as refused:
        client.create_registered_model(name)
    assert refused.value.error_code == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(
        MlflowException, match=r"cannot register source '/tmp/model'.*log the model to this server"
    ):
        client.create_model_version(name, "/tmp/model")
    with pytest.raises(
        MlflowException, match="logged model 'm-0123456789abcdef0123456789abcdef' does not exist"
    ):
        client.create_model_version(name, "models:/m-0123456789abcdef0123456789abcdef")
