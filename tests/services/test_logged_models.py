"""Logged models and experiments by id through the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mlyard.entities.jobs.search import Clause
from mlyard.entities.registry.logged_model import LoggedModelStatus
from mlyard.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from mlyard.services.model_registry import logged_models
from mlyard.services.tracking import experiments, jobs


def _mlmodel_folder(workspace, model_id: str) -> None:
    root = logged_models.logged_model_root(model_id)
    workspace.artifacts.put_bytes(b"flavors:\n  python_function: {loader_module: x}\n", f"{root}/MLmodel")


def test_experiments_are_created_once_and_found_by_id_name_and_job(workspace):
    created = experiments.create_experiment(workspace, "diabetes")
    with pytest.raises(AlreadyExists, match="experiment 'diabetes' already exists"):
        experiments.create_experiment(workspace, "diabetes")
    assert experiments.get_experiment(workspace, created.id).name == "diabetes"
    assert experiments.find_experiment(workspace, "diabetes") == created
    assert experiments.find_experiment(workspace, "absent") is None
    job = jobs.start_job(workspace, experiment="diabetes")
    assert experiments.experiment_of_job(workspace, job.id).id == created.id
    assert experiments.ids_by_name(workspace, ["diabetes", "absent"]) == {"diabetes": created.id}
    with pytest.raises(NotFound, match="experiment 99999 does not exist"):
        experiments.get_experiment(workspace, 99999)
    like = [Clause("attributes", "name", "LIKE", "diab%")]
    assert [e.name for e in experiments.search_experiments(workspace, like)] == ["diabetes"]
    with pytest.raises(InvalidArgument, match="searched by name only"):
        experiments.search_experiments(workspace, [Clause("metrics", "x", "<", 1.0)])


def test_a_run_can_start_and_end_at_the_times_its_client_gives(workspace):
    began, ended = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), datetime(2026, 1, 2, 4, 0, tzinfo=UTC)
    job = jobs.start_job(workspace, start_time=began)
    jobs.end_job(workspace, job.id, end_time=ended)
    stored = jobs.get_job(workspace, job.id)
    assert (stored.start_time, stored.end_time) == (began, ended)


def test_repeated_points_are_skipped_only_when_asked(workspace):
    job = jobs.start_job(workspace)
    point = jobs.make_metric("mse", 2.0, 0, 1000)
    jobs.record_run_data(workspace, job.id, metrics=[point], display_name="renamed")
    jobs.record_run_data(workspace, job.id, metrics=[point, point], skip_logged_points=True)
    assert len(jobs.metric_history(workspace, job.id, "mse")) == 1
    jobs.record_run_data(workspace, job.id, metrics=[point])
    assert len(jobs.metric_history(workspace, job.id, "mse")) == 2
    assert jobs.get_job(workspace, job.id).display_name == "renamed"
    assert jobs.metric_history(workspace, job.id, "never", missing_ok=True) == []


def test_a_logged_model_is_pending_until_finalized_and_ready_is_final(workspace):
    experiment = experiments.create_experiment(workspace, "models")
    run = jobs.start_job(workspace, experiment="models")
    model = logged_models.create_logged_model(
        workspace, experiment.id, "model", run.id, params={"alpha": 0.5}, tags={"k": "v"}
    )
    assert model.status == LoggedModelStatus.PENDING and model.id.startswith("m-")
    assert model.params == {"alpha": "0.5"} and model.artifact_path == f"logged-models/{model.id}"
    with pytest.raises(InvalidArgument, match="is pending, not ready"):
        logged_models.register_logged_model(workspace, model.id, "churn")
    _mlmodel_folder(workspace, model.id)
    assert logged_models.finalize_logged_model(workspace, model.id, LoggedModelStatus.READY).status == "ready"
    with pytest.raises(Conflict, match="is ready; its files are final"):
        logged_models.finalize_logged_model(workspace, model.id, LoggedModelStatus.FAILED)
    version = logged_models.register_logged_model(workspace, model.id, "churn", tags={"from": "mlflow"})
    assert (version.flavor, version.job_id, version.tags) == ("mlflow", run.id, {"from": "mlflow"})
    assert version.properties == {"mlflow.source": f"models:/{model.id}", "mlflow.model_id": model.id}


def test_logged_model_params_never_change_and_tags_do(workspace):
    experiment = experiments.create_experiment(workspace, "params")
    model = logged_models.create_logged_model(workspace, experiment.id, params={"alpha": "0.5"})
    logged_models.log_logged_model_params(workspace, model.id, {"alpha": "0.5", "l1": "0"})
    with pytest.raises(Conflict, match="param 'alpha' of logged model .* is already '0.5'"):
        logged_models.log_logged_model_params(workspace, model.id, {"alpha": "0.9"})
    logged_models.set_logged_model_tags(workspace, model.id, {"a": "1", "b": "2"})
    logged_models.delete_logged_model_tag(workspace, model.id, "a")
    stored = logged_models.get_logged_model(workspace, model.id)
    assert stored.params == {"alpha": "0.5", "l1": "0"} and stored.tags == {"b": "2"}
    with pytest.raises(NotFound, match="has no tag 'a'"):
        logged_models.delete_logged_model_tag(workspace, model.id, "a")


def test_logged_models_are_searched_by_experiment_and_fields(workspace):
    first = experiments.create_experiment(workspace, "first")
    second = experiments.create_experiment(workspace, "second")
    a = logged_models.create_logged_model(workspace, first.id, "a")
    logged_models.create_logged_model(workspace, second.id, "b")
    assert [m.id for m in logged_models.search_logged_models(workspace, [first.id])] == [a.id]
    assert [m.name for m in logged_models.search_logged_models(workspace, equal={"name": "b"})] == ["b"]
    assert [m.name for m in logged_models.search_logged_models(workspace, not_equal={"name": "b"})] == ["a"]
    with pytest.raises(InvalidArgument, match="not by 'params'"):
        logged_models.search_logged_models(workspace, equal={"params": "x"})
    with pytest.raises(NotFound, match="experiment 12345 does not exist"):
        logged_models.create_logged_model(workspace, 12345)
    with pytest.raises(NotFound, match="job 'nope' does not exist"):
        logged_models.create_logged_model(workspace, first.id, source_run_id="nope")


def test_a_run_artifact_folder_registers_as_an_mlflow_model(workspace, tmp_path):
    run = jobs.start_job(workspace)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "MLmodel").write_text("flavors:\n  python_function: {loader_module: x}\n")
    from mlyard.services.tracking import job_artifacts

    job_artifacts.log_artifacts(workspace, run.id, tmp_path / "model", "exported")
    version = logged_models.register_job_artifacts(workspace, run.id, "exported", "folder-model")
    assert version.properties == {"mlflow.source": f"runs:/{run.id}/exported"} and version.job_id == run.id
    with pytest.raises(NotFound, match="has no artifact folder 'elsewhere'"):
        logged_models.register_job_artifacts(workspace, run.id, "elsewhere", "folder-model")
