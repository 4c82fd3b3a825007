"""Bad input is a 4xx in MLflow's error shape naming the field, never a 500; a refused batch writes nothing.

Raw HTTP, for what the mlflow client never sends, and the client itself where it passes things on.
"""

from __future__ import annotations

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from tests.server.mlflow.conftest import assert_mlflow_error, unique

API = "/api/2.0/mlflow"


@pytest.fixture
def run_id(tracking) -> str:
    mlflow.set_experiment(unique("bad"))
    with mlflow.start_run() as run:
        mlflow.log_param("alpha", "0.5")
    return run.info.run_id


def test_malformed_json_and_wrong_types_name_the_problem(api, run_id):
    broken = api.post(
        f"{API}/runs/log-metric",
        content=b'{"run_id": "x", "key": ',
        headers={"content-type": "application/json"},
    )
    assert_mlflow_error(broken, 400, "INVALID_PARAMETER_VALUE", "malformed JSON body")
    assert_mlflow_error(
        api.post(f"{API}/runs/log-metric", json=[1, 2]), 400, "INVALID_PARAMETER_VALUE", "request body"
    )
    wrong = api.post(f"{API}/runs/log-metric", json={"run_id": run_id, "key": "m", "value": 1, "step": "two"})
    assert_mlflow_error(wrong, 400, "INVALID_PARAMETER_VALUE", "body field 'step'", "valid integer")
    assert_mlflow_error(
        api.post(f"{API}/runs/log-metric", json={"key": "m", "value": 1}),
        400,
        "INVALID_PARAMETER_VALUE",
        "run_id is required",
    )
    assert_mlflow_error(
        api.post(f"{API}/runs/create", json={"experiment_id": "abc"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "experiment_id must be an integer, got 'abc'",
    )
    assert_mlflow_error(api.get(f"{API}/runs/get"), 400, "INVALID_PARAMETER_VALUE", "'run_id' is required")
    assert_mlflow_error(
        api.post(f"{API}/runs/update", json={"run_id": run_id, "status": "DONE"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "body field 'status'",
        "RUNNING",
    )
    nul = api.post(f"{API}/runs/set-tag", json={"run_id": run_id, "key": "k", "value": "a\u0000b"})
    assert_mlflow_error(nul, 400, "INVALID_PARAMETER_VALUE", "NUL characters", "value")


def test_a_metric_that_is_not_a_number_is_refused_by_name(tracking, api, run_id):
    for value in ("high", "nan-ish", None, [1], True):
        refused = api.post(
            f"{API}/runs/log-metric", json={"run_id": run_id, "key": "loss", "value": value, "timestamp": 1}
        )
        assert_mlflow_error(refused, 400, "INVALID_PARAMETER_VALUE", "metric 'loss' must be a number")
    assert MlflowClient().get_metric_history(run_id, "loss") == []


def test_an_unknown_run_experiment_or_model_is_a_404(tracking, api):
    with pytest.raises(MlflowException, match="RESOURCE_DOES_NOT_EXIST: job 'no_such_run' does not exist"):
        MlflowClient().log_metric("no_such_run", "m", 1.0)
    with pytest.raises(MlflowException, match="RESOURCE_DOES_NOT_EXIST: experiment 999999 does not exist"):
        MlflowClient().create_run("999999")
    with pytest.raises(MlflowException, match="RESOURCE_DOES_NOT_EXIST: model 'nobody' does not exist"):
        MlflowClient().get_registered_model("nobody")
    assert_mlflow_error(
        api.get(f"{API}/experiments/get-by-name", params={"experiment_name": "nope-x"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
        "experiment 'nope-x' does not exist",
    )
    assert_mlflow_error(
        api.get(f"{API}/logged-models/m-nope"),
        404,
        "RESOURCE_DOES_NOT_EXIST",
        "logged model 'm-nope' does not exist",
    )
    assert_mlflow_error(
        api.post(f"{API}/runs/delete", json={"run_id": "x"}), 404, "ENDPOINT_NOT_FOUND", "no such endpoint"
    )


def test_a_param_never_changes_once_logged(tracking, run_id):
    MlflowClient().log_param(run_id, "alpha", "0.5")  # the same value again is fine
    with pytest.raises(MlflowException, match="INVALID_PARAMETER_VALUE: param 'alpha' .* is already '0.5'"):
        MlflowClient().log_param(run_id, "alpha", "0.7")


def _batch_writes_nothing(tracking, api, run_id: str, body: dict, *fragments: str) -> None:
    refused = api.post(f"{API}/runs/log-batch", json={"run_id": run_id, **body})
    assert_mlflow_error(refused, 400, "INVALID_PARAMETER_VALUE", *fragments)
    job = tracking.client().jobs.get(run_id)
    assert job.metrics == {} and job.params == {"alpha": "0.5"} and "good" not in job.tags


def test_a_refused_log_batch_writes_nothing(tracking, api, run_id):
    good = {"key": "good", "value": "yes"}
    metric = {"key": "acc", "value": 0.5, "timestamp": 1, "step": 0}
    _batch_writes_nothing(
        tracking,
        api,
        run_id,
        {"metrics": [metric] * 1001, "tags": [good]},
        "body field 'metrics'",
        "at most 1000 metrics per request",
    )
    _batch_writes_nothing(
        tracking,
        api,
        run_id,
        {"params": [{"key": f"p{i}", "value": "1"} for i in range(101)]},
        "body field 'params'",
        "at most 100 params",
    )
    _batch_writes_nothing(tracking, api, run_id, {"tags": [good] * 101}, "at most 100 tags")
    _batch_writes_nothing(
        tracking,
        api,
        run_id,
        {"metrics": [metric] * 950, "params": [], "tags": [good] * 60},
        "at most 1000 metrics, params and tags in all",
    )
    _batch_writes_nothing(
        tracking,
        api,
        run_id,
        {"metrics": [metric, {**metric, "value": "x"}], "tags": [good]},
        "body field 'metrics[1].value'",
        "metric 'acc' must be a number",
    )
    _batch_writes_nothing(
        tracking,
        api,
        run_id,
        {"metrics": [metric], "params": [{"key": "alpha", "value": "0.9"}], "tags": [good]},
        "param 'alpha'",
        "already '0.5'",
    )
    _batch_writes_nothing(
        tracking,
        api,
        run_id,
        {"metrics": [metric], "tags": [good, {"key": 'bad"key', "value": "1"}]},
        "invalid tag key",
    )
    _batch_writes_nothing(
        tracking,
        api,
        run_id,
        {"params": [{"key": "a", "value": "1"}, {"key": "a", "value": "2"}]},
        "param 'a' is given twice with different values",
    )
    _batch_writes_nothing(tracking, api, run_id, {"metrics": [{**metric, "step": 2**63}]}, "metrics[0].step")


def test_search_and_paging_arguments_are_checked(api):
    assert_mlflow_error(
        api.post(f"{API}/runs/search", json={"max_results": 50_001}),
        400,
        "INVALID_PARAMETER_VALUE",
        "body field 'max_results'",
        "50000",
    )
    assert_mlflow_error(
        api.post(f"{API}/runs/search", json={"order_by": ["metrics.mse SIDEWAYS"]}),
        400,
        "INVALID_PARAMETER_VALUE",
        "invalid order_by 'metrics.mse SIDEWAYS'",
    )
    assert_mlflow_error(
        api.post(f"{API}/runs/search", json={"order_by": ["artifact_uri"]}),
        400,
        "INVALID_PARAMETER_VALUE",
        "cannot order runs by attribute 'artifact_uri'",
    )
    assert_mlflow_error(
        api.post(f"{API}/runs/search", json={"filter": "params.alpha > 0.5"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "param 'alpha' is text",
    )
    assert_mlflow_error(
        api.get(f"{API}/metrics/get-history", params={"run_id": "x", "metric_key": "m"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
        "job 'x' does not exist",
    )
    assert_mlflow_error(
        api.post(f"{API}/logged-models/search", json={"filter": "metrics.acc > 1"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "logged models are filtered by name",
    )


def test_registry_input_is_checked(tracking, api):
    assert_mlflow_error(
        api.post(f"{API}/registered-models/create", json={"name": "has space"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "invalid model name 'has space'",
    )
    assert_mlflow_error(
        api.post(f"{API}/registered-models/alias", json={"name": "x", "alias": "a"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "body field 'version'",
        "Field required",
    )
    assert_mlflow_error(
        api.request("DELETE", f"{API}/registered-models/alias"),
        400,
        "INVALID_PARAMETER_VALUE",
        "needs 'name' and 'alias'",
    )
    assert_mlflow_error(
        api.get(f"{API}/registered-models/search", params={"filter": "creation_timestamp > 1"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "filters by name or tags",
    )


def test_json_bodies_keep_the_servers_size_limit(api, run_id):
    metric = {"key": "k" * 200, "value": 1.0, "timestamp": 1, "step": 0}
    huge = {"run_id": run_id, "metrics": [metric] * 1000, "padding": "x" * (17 * 1024 * 1024)}
    refused = api.post(f"{API}/runs/log-batch", json=huge)
    assert_mlflow_error(refused, 413, "REQUEST_TOO_LARGE", "the limit is 16,777,216 bytes")
