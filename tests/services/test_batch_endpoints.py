"""Batch endpoints and deployments on SQLite and PostgreSQL: pinning, defaults, updates, audit."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from mlyard.entities.endpoints.batch_endpoint import batch_deployment_from_dict, batch_endpoint_from_dict
from mlyard.errors import AlreadyExists, Conflict, InvalidArgument, InvalidSpec, NotFound
from mlyard.services.batch import batch_endpoints as service
from mlyard.services.batch import batch_jobs
from mlyard.services.model_registry.models import register_model_folder, save_and_register_model
from mlyard.services.tracking.jobs import search_jobs
from mlyard.services.workspaces import audit


@pytest.fixture
def ridge_model(workspace):
    rng = np.random.default_rng(0)
    features = rng.normal(size=(50, 3))
    return save_and_register_model(workspace, Ridge().fit(features, features.sum(axis=1)), "ridge", "sklearn")


def endpoint(workspace, name="ep"):
    return service.create_endpoint(workspace, batch_endpoint_from_dict({"name": name}, "endpoint.yml"))


def deploy(workspace, tmp_path, name="blue", set_default=False, **fields):
    data = {"name": name, "endpoint_name": "ep", "model": "azureml:ridge@latest", **fields}
    spec = batch_deployment_from_dict(data, "deployment.yml")
    return service.create_deployment(workspace, spec, tmp_path, "deployment.yml", set_default)


def test_a_deployment_pins_the_model_version_and_the_first_is_the_default(workspace, tmp_path, ridge_model):
    endpoint(workspace)
    blue = deploy(workspace, tmp_path, settings={"mini_batch_size": 100}, resources={"instance_count": 2})
    assert (blue.model_ref, blue.is_default, blue.workers) == ("ridge:1", True, 2)
    save_and_register_model(workspace, Ridge().fit([[0, 0, 0], [1, 1, 1]], [0, 1]), "ridge", "sklearn")
    green = deploy(workspace, tmp_path, "green")
    assert green.model_ref == "ridge:2" and not green.is_default
    assert service.get_deployment(workspace, "ep", "blue").model_ref == "ridge:1"  # pinned at create time
    found = service.get_endpoint(workspace, "ep")
    assert (found.default_deployment, found.deployments) == ("blue", ["blue", "green"])
    deploy(workspace, tmp_path, "red", set_default=True)
    assert service.default_deployment(workspace, "ep").name == "red"


def test_settings_change_with_set_and_the_default_moves(workspace, tmp_path, ridge_model):
    endpoint(workspace)
    deploy(workspace, tmp_path)
    deploy(workspace, tmp_path, "green")
    changes = {"mini_batch_size": "20", "settings.retry_settings.max_retries": "1", "instance_count": "3"}
    updated = service.update_deployment(workspace, "ep", "blue", {**changes, "tags.team": "ml"})
    assert updated.settings.mini_batch_size == 20 and updated.settings.retry_settings.max_retries == 1
    assert updated.instance_count == 3 and updated.tags == {"team": "ml"}
    assert service.get_deployment(workspace, "ep", "blue").settings.mini_batch_size == 20
    with pytest.raises(InvalidSpec, match=r"--set settings: error_threshold: .*greater than or equal to -1"):
        service.update_deployment(workspace, "ep", "blue", {"error_threshold": "-5"})
    with pytest.raises(InvalidArgument, match=r"--set model: .*update --file"):
        service.update_deployment(workspace, "ep", "blue", {"model": "ridge:2"})
    moved = service.update_endpoint(
        workspace, "ep", {"defaults.deployment_name": "green", "description": "nightly"}
    )
    assert (moved.default_deployment, moved.description) == ("green", "nightly")
    with pytest.raises(
        NotFound, match=r"batch endpoint 'ep' has no deployment 'purple' \(deployments: blue, green\)"
    ):
        service.update_endpoint(workspace, "ep", {"defaults.deployment_name": "purple"})


def test_the_default_cannot_be_deleted_while_others_remain_and_an_endpoint_takes_its_deployments(
    workspace, tmp_path, ridge_model
):
    endpoint(workspace)
    deploy(workspace, tmp_path)
    deploy(workspace, tmp_path, "green")
    with pytest.raises(Conflict, match=r"'blue' is the default .*--set defaults.deployment_name=green"):
        service.delete_deployment(workspace, "ep", "blue")
    service.delete_deployment(workspace, "ep", "green")
    service.delete_deployment(workspace, "ep", "blue")  # the last one may go
    assert service.get_endpoint(workspace, "ep").default_deployment is None
    deploy(workspace, tmp_path)
    service.delete_endpoint(workspace, "ep")
    with pytest.raises(NotFound, match=r"batch endpoint 'ep' does not exist; create it with"):
        service.list_deployments(workspace, "ep")


def test_mistakes_are_refused_naming_what_is_wrong_and_store_nothing(workspace, tmp_path, ridge_model):
    endpoint(workspace)
    with pytest.raises(AlreadyExists, match="batch endpoint 'ep' already exists"):
        endpoint(workspace)
    with pytest.raises(NotFound, match=r"deployment.yml: model: model 'nope' does not exist"):
        deploy(workspace, tmp_path, model="nope@latest")
    with pytest.raises(
        NotFound, match=r"deployment.yml: code_configuration.scoring_script: score.py does not exist"
    ):
        deploy(workspace, tmp_path, code_configuration={"code": ".", "scoring_script": "score.py"})
    with pytest.raises(
        InvalidArgument, match=r"deployment.yml: compute: compute 'azureml:gpu' does not exist here"
    ):
        deploy(workspace, tmp_path, compute="azureml:gpu")
    with pytest.raises(NotFound, match=r"batch endpoint 'other' does not exist"):
        deploy(workspace, tmp_path, endpoint_name="other")
    folder = tmp_path / "opaque"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"\0")
    register_model_folder(workspace, "opaque", folder)
    with pytest.raises(InvalidSpec, match=r"flavor 'custom', which cannot be scored without code"):
        deploy(workspace, tmp_path, model="opaque:1")
    assert service.list_deployments(workspace, "ep") == []
    deploy(workspace, tmp_path)
    with pytest.raises(AlreadyExists, match="already has a deployment 'blue'"):
        deploy(workspace, tmp_path)


def test_code_is_stored_with_the_deployment(workspace, tmp_path, ridge_model):
    endpoint(workspace)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "score.py").write_text("def init(): pass\ndef run(mini_batch): return mini_batch\n")
    blue = deploy(workspace, tmp_path, code_configuration={"code": "./src", "scoring_script": "score.py"})
    assert blue.scoring_script == "score.py" and blue.code_artifact is not None
    (tmp_path / "src" / "score.py").write_text("edited afterwards")
    stored = workspace.artifacts.local_path(blue.code_artifact)
    assert "def run(mini_batch)" in (stored / "score.py").read_text()


def test_every_change_is_audited(workspace, tmp_path, ridge_model):
    endpoint(workspace)
    deploy(workspace, tmp_path)
    service.update_deployment(workspace, "ep", "blue", {"mini_batch_size": "5"})
    service.update_endpoint(workspace, "ep", {"description": "x"})
    service.delete_endpoint(workspace, "ep")
    actions = [event.action for event in audit.list_events(workspace, entity_type=None, limit=50)]
    for action in ("batch_endpoint.create", "batch_deployment.create", "batch_deployment.update",
                   "batch_endpoint.update", "batch_endpoint.delete"):  # fmt: skip
        assert action in actions
    [update] = audit.list_events(workspace, actions=["batch_deployment.update"])
    assert (
        update.before["settings"]["mini_batch_size"] == 10
        and update.after["settings"]["mini_batch_size"] == 5
    )


def test_invoke_checks_its_input_before_recording_a_job(workspace, tmp_path, ridge_model):
    endpoint(workspace)
    with pytest.raises(NotFound, match=r"batch endpoint 'ep' has no deployments to score with"):
        batch_jobs.submit_batch_job(workspace, "ep", "x.csv", tmp_path)
    deploy(workspace, tmp_path)
    with pytest.raises(NotFound, match=r"--input: nothere.csv is neither a file or folder"):
        batch_jobs.submit_batch_job(workspace, "ep", "nothere.csv", tmp_path)
    with pytest.raises(NotFound, match=r"--input: data asset 'ghost' does not exist"):
        batch_jobs.submit_batch_job(workspace, "ep", "ghost:1", tmp_path)
    (tmp_path / "rows.csv").write_text("a,b,c\n1,2,3\n")
    with pytest.raises(
        InvalidArgument, match=r"--input-type: expected uri_file, uri_folder, mltable, got 'table'"
    ):
        batch_jobs.submit_batch_job(workspace, "ep", "rows.csv", tmp_path, input_type="table")
    with pytest.raises(InvalidSpec, match=r"--input: rows.csv is a file, but the input's type is uri_folder"):
        batch_jobs.submit_batch_job(workspace, "ep", "rows.csv", tmp_path, input_type="uri_folder")
    with pytest.raises(NotFound, match=r"has no deployment 'green'"):
        batch_jobs.submit_batch_job(workspace, "ep", "rows.csv", tmp_path, deployment="green")
    assert search_jobs(workspace) == []
    job = batch_jobs.submit_batch_job(workspace, "ep", "rows.csv", tmp_path)
    assert (job.type, job.experiment, job.tags["mlyard.batch_deployment"]) == ("batch", "ep", "blue")
    with pytest.raises(Conflict, match=r"--resume: job .* is still Queued"):
        batch_jobs.submit_batch_job(workspace, "ep", None, tmp_path, resume=job.id)
