"""The unmodified mlflow client tracks runs on an mlyard server; mlyard shows them as jobs."""

from __future__ import annotations

import math
import time

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException

from tests.server.mlflow.conftest import unique


def test_set_experiment_creates_it_once_and_finds_it_again(tracking):
    name = unique("exp")
    created = mlflow.set_experiment(name)
    assert created.name == name and created.experiment_id.isdigit() and created.lifecycle_stage == "active"
    assert mlflow.set_experiment(name).experiment_id == created.experiment_id
    assert MlflowClient().get_experiment_by_name(name).experiment_id == created.experiment_id
    assert MlflowClient().get_experiment_by_name(unique("absent")) is None
    assert created.artifact_location == f"mlflow-artifacts:/{created.experiment_id}"


def test_a_run_logs_params_metrics_and_tags_that_mlyard_shows_as_a_job(tracking):
    experiment = mlflow.set_experiment(unique("track"))
    with mlflow.start_run(run_name="ridge") as run:
        mlflow.log_param("alpha", 0.5)
        mlflow.log_metric("mse", 2950.0)
        for step in range(3):
            mlflow.log_metric("loss", 1 / (step + 1), step=step)
        mlflow.log_params({"solver": "auto", "max_iter": 100})
        mlflow.log_metrics({"r2": 0.45, "mae": 41.0}, step=2)
        mlflow.set_tag("team", "clinic")
        mlflow.set_tags({"stage": "dev", "gone": "soon"})
        mlflow.delete_tag("gone")
    info = run.info
    assert info.artifact_uri == f"mlflow-artifacts:/{experiment.experiment_id}/{info.run_id}/artifacts"

    fetched = MlflowClient().get_run(info.run_id)
    assert fetched.info.status == "FINISHED" and fetched.info.run_name == "ridge"
    assert fetched.info.end_time >= fetched.info.start_time > 0
    assert fetched.data.params == {"alpha": "0.5", "solver": "auto", "max_iter": "100"}
    assert fetched.data.metrics == {"mse": 2950.0, "loss": pytest.approx(1 / 3), "r2": 0.45, "mae": 41.0}
    assert fetched.data.tags["team"] == "clinic" and "gone" not in fetched.data.tags
    assert (
        fetched.data.tags["mlflow.runName"] == "ridge" and fetched.data.tags["mlflow.source.type"] == "LOCAL"
    )

    job = tracking.client().jobs.get(info.run_id)
    assert (job.experiment, job.display_name, job.status.value) == (experiment.name, "ridge", "Completed")
    assert job.params == fetched.data.params and job.metrics == fetched.data.metrics
    assert job.tags["stage"] == "dev" and job.tags["mlflow.user"] == fetched.info.user_id
    assert abs(job.start_time.timestamp() * 1000 - info.start_time) < 2  # the client's clock, kept


def test_the_latest_point_of_each_metric_keeps_its_step_and_time(tracking):
    mlflow.set_experiment(unique("latest"))
    with mlflow.start_run() as run:
        mlflow.log_metric("loss", 0.9, step=1, timestamp=1_700_000_000_000)
        mlflow.log_metric("loss", 0.4, step=7, timestamp=1_700_000_000_500)
        mlflow.log_metric("loss", 0.6, step=3, timestamp=1_700_000_001_000)
    [latest] = MlflowClient().get_run(run.info.run_id).data._metric_objs
    assert (latest.key, latest.value, latest.step, latest.timestamp) == ("loss", 0.4, 7, 1_700_000_000_500)


def test_metric_history_comes_back_in_step_order_and_pages(tracking):
    mlflow.set_experiment(unique("history"))
    with mlflow.start_run() as run:
        mlflow.log_metrics({f"m{i}": float(i) for i in range(3)})
        for step in (4, 0, 2, 1, 3):
            mlflow.log_metric("loss", 10.0 - step, step=step)
    client = MlflowClient()
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(s, 10.0 - s) for s in range(5)]
    assert client.get_metric_history(run.info.run_id, "never-logged") == []
    store = client._tracking_client.store
    first = store.get_metric_history(run.info.run_id, "loss", max_results=2)
    assert [m.step for m in first] == [0, 1] and first.token
    second = store.get_metric_history(run.info.run_id, "loss", max_results=3, page_token=first.token)
    assert [m.step for m in second] == [2, 3, 4] and not second.token


def test_nan_and_infinite_metrics_are_stored_as_mlflow_stores_them(tracking):
    experiment = mlflow.set_experiment(unique("diverge"))
    with mlflow.start_run() as run:
        mlflow.log_param("alpha", 0.5)
        mlflow.log_metric("loss", 1.0, step=0)
        mlflow.log_metric("loss", float("nan"), step=1)
        mlflow.log_metrics({"grad": float("inf"), "floor": float("-inf")})
    with mlflow.start_run() as finite:
        mlflow.log_metric("loss", 0.5)
    client = MlflowClient()
    fetched = client.get_run(run.info.run_id)
    assert fetched.info.status == "FINISHED" and fetched.data.params == {"alpha": "0.5"}
    assert math.isnan(fetched.data.metrics["loss"])
    assert (fetched.data.metrics["grad"], fetched.data.metrics["floor"]) == (math.inf, -math.inf)
    history = client.get_metric_history(run.info.run_id, "loss")
    assert history[0].value == 1.0 and math.isnan(history[1].value)
    ordered = client.search_runs([experiment.experiment_id], order_by=["metrics.loss ASC"])
    assert [r.info.run_id for r in ordered] == [finite.info.run_id, run.info.run_id]  # NaN after numbers
    below = client.search_runs([experiment.experiment_id], filter_string="metrics.loss < 1")
    assert [r.info.run_id for r in below] == [finite.info.run_id]
    job = tracking.client().jobs.get(run.info.run_id)
    assert job.status.value == "Completed" and math.isnan(job.metrics["loss"])


def test_log_batch_writes_metrics_params_and_tags_at_once(tracking):
    mlflow.set_experiment(unique("batch"))
    with mlflow.start_run() as run:
        MlflowClient().log_batch(
            run.info.run_id,
            metrics=[Metric("acc", 0.5 + i / 100, int(time.time() * 1000), i) for i in range(1000)],
            params=[Param(f"p{i}", str(i)) for i in range(100)],
        )
        MlflowClient().log_batch(run.info.run_id, tags=[RunTag(f"t{i}", "x") for i in range(100)])
    job = tracking.client().jobs.get(run.info.run_id)
    assert len(job.params) == 100 and job.metrics["acc"] == pytest.approx(10.49)
    assert len(tracking.client().jobs.metric_history(run.info.run_id, "acc")) == 1000
    assert sum(key.startswith("t") for key in job.tags) == 100


def test_a_run_that_raises_ends_failed_and_a_killed_run_ends_canceled(tracking):
    mlflow.set_experiment(unique("ends"))
    with pytest.raises(ZeroDivisionError), mlflow.start_run() as failing:
        1 / 0  # noqa: B018
    assert MlflowClient().get_run(failing.info.run_id).info.status == "FAILED"
    killed = mlflow.start_run()
    mlflow.end_run(status="KILLED")
    assert MlflowClient().get_run(killed.info.run_id).info.status == "KILLED"
    jobs = tracking.client().jobs
    assert jobs.get(failing.info.run_id).status.value == "Failed"
    assert jobs.get(killed.info.run_id).status.value == "Canceled"


def test_ending_an_ended_run_again_the_same_way_is_harmless_but_its_status_is_final(tracking):
    mlflow.set_experiment(unique("final"))
    with mlflow.start_run() as run:
        pass
    client = MlflowClient()
    client.set_terminated(run.info.run_id, "FINISHED")
    with pytest.raises(MlflowException, match="already ended as FINISHED; an ended run's status is final"):
        client.set_terminated(run.info.run_id, "FAILED")


def test_a_run_is_renamed_and_an_unnamed_run_gets_a_readable_name(tracking):
    mlflow.set_experiment(unique("names"))
    with mlflow.start_run() as run:
        pass
    assert run.info.run_name.count("-") == 2  # like MLflow's "bright-owl-123"
    MlflowClient().update_run(run.info.run_id, name="renamed")
    assert MlflowClient().get_run(run.info.run_id).info.run_name == "renamed"
    assert tracking.client().jobs.get(run.info.run_id).display_name == "renamed"
    MlflowClient().set_tag(run.info.run_id, "mlflow.runName", "by-tag")
    assert tracking.client().jobs.get(run.info.run_id).display_name == "by-tag"


def test_a_nested_run_is_a_child_job_of_its_parent(tracking):
    mlflow.set_experiment(unique("nested"))
    with mlflow.start_run() as parent, mlflow.start_run(nested=True) as child:
        pass
    assert tracking.client().jobs.get(child.info.run_id).parent_job_id == parent.info.run_id


def test_runs_without_an_experiment_go_to_default_which_mlflow_calls_0(tracking):
    run = MlflowClient().create_run("0")
    MlflowClient().set_terminated(run.info.run_id)
    assert run.info.experiment_id == "0"
    assert tracking.client().jobs.get(run.info.run_id).experiment == "Default"
    assert MlflowClient().get_experiment("0").name == "Default"
    found = MlflowClient().search_runs(["0"], filter_string=f"attributes.run_id = '{run.info.run_id}'")
    assert [r.info.run_id for r in found] == [run.info.run_id]


# --- search ------------------------------------------------------------------------------------


@pytest.fixture
def five_runs(tracking):
    """Runs with alpha 0.1 … 0.5 and mse 3200 … 2800; the last one failed; all tagged by parity."""
    experiment = mlflow.set_experiment(unique("search"))
    ids = []
    for i in range(5):
        with mlflow.start_run(run_name=f"run-{i}") as run:
            mlflow.log_param("alpha", f"0.{i + 1}")
            mlflow.log_metric("mse", 3200.0 - 100 * i)
            mlflow.set_tag("parity", "even" if i % 2 == 0 else "odd")
            ids.append(run.info.run_id)
            if i == 4:
                mlflow.end_run("FAILED")
    return experiment.experiment_id, ids


def _found(experiment: str, **options) -> list[str]:
    return [run.info.run_id for run in MlflowClient().search_runs([experiment], **options)]


def test_search_runs_filters_as_mlflow_users_write_them(five_runs):
    experiment, ids = five_runs
    assert _found(experiment, filter_string="metrics.mse < 3000 and params.alpha = '0.4'") == [ids[3]]
    assert set(_found(experiment, filter_string="attributes.status = 'FINISHED'")) == set(ids[:4])
    assert _found(experiment, filter_string="status = 'FAILED'") == [ids[4]]
    assert set(_found(experiment, filter_string="tags.parity = 'odd'")) == {ids[1], ids[3]}
    assert _found(experiment, filter_string="attributes.run_name = 'run-2'") == [ids[2]]
    assert _found(experiment, filter_string="tags.`mlflow.runName` LIKE '%-0'") == [ids[0]]
    assert set(_found(experiment, filter_string="params.alpha IN ('0.1', '0.5')")) == {ids[0], ids[4]}
    assert set(_found(experiment, filter_string="attributes.status != 'FINISHED'")) == {ids[4]}
    assert _found(experiment, filter_string="attributes.lifecycle_stage = 'deleted'") == []
    mlflow_search = mlflow.search_runs(
        [experiment], filter_string="metrics.mse >= 3100", output_format="list"
    )
    assert {run.info.run_id for run in mlflow_search} == set(ids[:2])


def test_search_runs_orders_by_metrics_params_and_attributes(five_runs):
    experiment, ids = five_runs
    assert _found(experiment) == ids[::-1]  # newest first, as MLflow
    assert _found(experiment, order_by=["metrics.mse ASC"]) == ids[::-1]
    assert _found(experiment, order_by=["metrics.mse DESC"]) == ids
    assert _found(experiment, order_by=["params.alpha DESC"]) == ids[::-1]
    assert _found(experiment, order_by=["attributes.start_time ASC"]) == ids
    assert _found(experiment, order_by=["tags.parity ASC", "run_name DESC"]) == [
        ids[4],
        ids[2],
        ids[0],
        ids[3],
        ids[1],
    ]


def test_search_runs_pages_with_page_tokens(five_runs):
    experiment, ids = five_runs
    client = MlflowClient()
    first = client.search_runs([experiment], max_results=2, order_by=["metrics.mse DESC"])
    second = client.search_runs(
        [experiment], max_results=2, order_by=["metrics.mse DESC"], page_token=first.token
    )
    third = client.search_runs(
        [experiment], max_results=2, order_by=["metrics.mse DESC"], page_token=second.token
    )
    assert [r.info.run_id for page in (first, second, third) for r in page] == ids
    assert first.token and second.token and not third.token
    assert len(mlflow.search_runs([experiment], max_results=3)) == 3  # the pandas form


def test_search_runs_refuses_what_it_cannot_answer_with_a_clear_message(five_runs):
    experiment, _ = five_runs
    client = MlflowClient()
    with pytest.raises(MlflowException, match="metric 'mse' is compared with a number"):
        client.search_runs([experiment], filter_string="metrics.mse = 'high'")
    with pytest.raises(MlflowException, match="uses OR; join clauses with AND only"):
        client.search_runs([experiment], filter_string="metrics.mse < 1 or metrics.mse > 5")
    with pytest.raises(MlflowException, match="unknown run status 'DONE'"):
        client.search_runs([experiment], filter_string="status = 'DONE'")
    with pytest.raises(MlflowException, match="filtering by datasets is not supported"):
        client.search_runs([experiment], filter_string="datasets.name = 'train'")
    with pytest.raises(MlflowException, match="invalid page_token"):
        client.search_runs([experiment], page_token="not-a-token")


def test_search_experiments_by_name(tracking):
    prefix = unique("findme")
    ids = [mlflow.create_experiment(f"{prefix}-{i}") for i in range(3)]
    found = mlflow.search_experiments(filter_string=f"name LIKE '{prefix}-%'")
    assert [e.experiment_id for e in found] == ids[::-1]
    assert [e.name for e in mlflow.search_experiments(filter_string=f"name = '{prefix}-1'")] == [
        f"{prefix}-1"
    ]
    with pytest.raises(MlflowException, match="RESOURCE_ALREADY_EXISTS: experiment .* already exists"):
        mlflow.create_experiment(f"{prefix}-1")


def test_logging_over_a_kept_alive_connection_does_not_wait_for_delayed_acks(tracking):
    """One log_metric is a few milliseconds; a server socket without TCP_NODELAY made it ~45 ms."""
    mlflow.set_experiment(unique("latency"))
    with mlflow.start_run() as run:
        mlflow.log_metric("warm", 0.0)  # the connection is open and kept alive from here on
        seconds = []
        for step in range(20):
            began = time.perf_counter()
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
            seconds.append(time.perf_counter() - began)
    # The delay hits every request (~40 ms); the fastest of twenty shows it on any machine, however loaded.
    assert min(seconds) < 0.02, seconds
    assert len(MlflowClient().get_metric_history(run.info.run_id, "loss")) == 20


def test_async_logging_arrives_as_batches(tracking, monkeypatch):
    monkeypatch.setenv("MLFLOW_ENABLE_ASYNC_LOGGING", "true")
    mlflow.set_experiment(unique("async"))
    with mlflow.start_run() as run:
        for step in range(50):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_params({"alpha": "0.5", "l1": "0.1"})
        mlflow.set_tag("mode", "async")
    # end_run waited for the queue to drain
    job = tracking.client().jobs.get(run.info.run_id)
    assert job.params == {"alpha": "0.5", "l1": "0.1"} and job.tags["mode"] == "async"
    assert len(tracking.client().jobs.metric_history(run.info.run_id, "loss")) == 50


def test_server_info_says_there_are_no_multipart_transfers(api):
    info = api.get("/api/3.0/mlflow/server-info")
    assert info.status_code == 200
    assert info.json() == {
        "workspaces_enabled": False,
        "multipart_uploads_enabled": False,
        "multipart_downloads_enabled": False,
    }
