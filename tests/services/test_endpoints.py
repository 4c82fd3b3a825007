"""Online endpoints and deployments: the rules, on SQLite and PostgreSQL (no instances run here)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mlyard.entities.endpoints.endpoint import DeploymentState
from mlyard.entities.endpoints.endpoint_spec import deployment_spec_from_dict, endpoint_spec_from_dict
from mlyard.errors import AlreadyExists, Conflict, InvalidArgument, InvalidSpec, NotFound
from mlyard.services.model_registry import models
from mlyard.services.online import endpoint_auth, endpoints
from mlyard.services.online import endpoint_deployments as deployments
from mlyard.services.workspaces import audit


@pytest.fixture
def model_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "weights.txt").write_text("1 2 3")
    return folder


@pytest.fixture
def code(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "score.py").write_text("def init():\n    pass\n\n\ndef run(raw):\n    return [1]\n")
    return folder


def _endpoint(workspace, name="diabetes", **fields):
    return endpoints.create_endpoint(
        workspace, endpoint_spec_from_dict({"name": name, **fields}, "endpoint.yml")
    )


def _deploy(workspace, base: Path, name: str, endpoint="diabetes", **fields):
    spec = deployment_spec_from_dict({"name": name, "endpoint_name": endpoint, **fields}, f"{name}.yml")
    return deployments.create_deployment(workspace, spec, base, f"{name}.yml")


def test_an_endpoint_is_created_with_two_distinct_keys_and_listed(workspace):
    created = _endpoint(workspace, description="clinic", tags={"team": "ml"})
    assert (created.name, created.auth_mode, created.traffic, created.provisioning_state) == (
        "diabetes", "key", {}, "Succeeded",
    )  # fmt: skip
    credentials = endpoints.get_credentials(workspace, "diabetes")
    assert credentials.primary_key and credentials.secondary_key
    assert credentials.primary_key != credentials.secondary_key and len(credentials.primary_key) >= 40
    assert [e.name for e in endpoints.list_endpoints(workspace)] == ["diabetes"]
    with pytest.raises(AlreadyExists, match="online endpoint 'diabetes' already exists"):
        _endpoint(workspace)
    with pytest.raises(NotFound, match="online endpoint 'nope' does not exist; list them with"):
        endpoints.get_endpoint(workspace, "nope")


def test_a_deployment_pins_its_model_and_stores_its_code(workspace, model_folder, code, tmp_path):
    models.register_model_folder(workspace, "ridge", model_folder)
    models.register_model_folder(workspace, "ridge", model_folder, properties={"retrained": "yes"})
    _endpoint(workspace)
    blue = _deploy(
        workspace, tmp_path, "blue", model="azureml:ridge@latest",
        code_configuration={"code": "src", "scoring_script": "score.py"}, instance_count=2,
    )  # fmt: skip
    assert blue.model is not None and blue.model.ref == "ridge:2"  # @latest pinned when created
    assert (blue.generation, blue.provisioning_state, blue.instance_count) == (1, DeploymentState.CREATING, 2)
    assert blue.environment is None and blue.code is not None and blue.code.scoring_script == "score.py"
    assert workspace.artifacts.exists(f"{blue.code.artifact_path}/score.py")
    models.register_model_folder(workspace, "ridge", model_folder, properties={"retrained": "twice"})
    assert deployments.get_deployment(workspace, "diabetes", "blue").model.ref == "ridge:2"  # type: ignore[union-attr]
    with pytest.raises(AlreadyExists, match="deployment 'blue' of endpoint 'diabetes' already exists"):
        _deploy(workspace, tmp_path, "blue", model="ridge:1")


def test_the_endpoint_named_on_the_command_line_wins_over_the_files(workspace, model_folder, tmp_path):
    """As `az ml online-deployment create --endpoint-name`: one file deploys to staging and prod."""
    models.register_model_folder(workspace, "ridge", model_folder)
    _endpoint(workspace, "ridge-staging")
    spec = deployment_spec_from_dict(
        {"name": "blue", "endpoint_name": "ridge-prod", "model": "azureml:ridge:1"}, "blue.yml"
    )
    blue = deployments.create_deployment(workspace, spec, tmp_path, "blue.yml", endpoint_name="ridge-staging")
    assert blue.endpoint_name == "ridge-staging"
    assert [d.name for d in deployments.list_deployments(workspace, "ridge-staging")] == ["blue"]
    with pytest.raises(NotFound, match="online endpoint 'ridge-prod' does not exist"):
        deployments.create_deployment(workspace, spec, tmp_path, "blue.yml")  # the file's, when none given


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"model": "azureml:nope:1"}, NotFound, r"green.yml: model: model 'nope' does not exist"),
        ({"model": "ridge@production"}, NotFound, r"green.yml: model: model 'ridge' has no alias"),
        ({}, InvalidSpec, r"green.yml: model: required"),
        (
            {"model": "ridge:1", "code_configuration": {"code": "src", "scoring_script": "missing.py"}},
            NotFound, r"green.yml: code_configuration.scoring_script: missing.py is not in",
        ),
        (
            {"model": "ridge:1", "code_configuration": {"code": "nowhere", "scoring_script": "score.py"}},
            NotFound, r"green.yml: code_configuration.code: nowhere does not exist",
        ),
        ({"model": "ridge:1", "environment": "azureml:no-such-env:1"}, NotFound, r"green.yml: environment:"),
    ],
)  # fmt: skip
def test_a_deployment_with_a_wrong_reference_is_refused_and_nothing_is_recorded(
    workspace, model_folder, code, tmp_path, fields, error, message
):
    models.register_model_folder(workspace, "ridge", model_folder)
    _endpoint(workspace)
    with pytest.raises(error, match=message):
        _deploy(workspace, tmp_path, "green", **fields)
    assert deployments.list_deployments(workspace, "diabetes") == []
    with pytest.raises(NotFound, match="online endpoint 'other' does not exist"):
        _deploy(workspace, tmp_path, "green", endpoint="other", model="ridge:1")


def test_an_inline_model_folder_is_registered_and_confined_to_the_upload(workspace, model_folder, tmp_path):
    _endpoint(workspace)
    blue = _deploy(workspace, tmp_path, "blue", model={"path": "model"})
    assert blue.model is not None and blue.model.ref == "diabetes-blue:1"
    spec = deployment_spec_from_dict(
        {"name": "green", "endpoint_name": "diabetes", "model": {"path": "/etc"}}, "g"
    )
    with pytest.raises(InvalidSpec, match="g: model.path: /etc is outside the files sent with the spec"):
        deployments.create_deployment(workspace, spec, tmp_path, "g", confined=tmp_path)


def test_traffic_follows_azure_rules(workspace, model_folder, tmp_path):
    models.register_model_folder(workspace, "ridge", model_folder)
    _endpoint(workspace)
    for name in ("blue", "green", "red"):
        _deploy(workspace, tmp_path, name, model="ridge:1")
    updated = endpoints.update_endpoint(workspace, "diabetes", traffic={"blue": 90, "green": 10})
    assert updated.traffic == {"blue": 90, "green": 10}
    assert endpoints.update_endpoint(workspace, "diabetes", traffic={"blue": 0, "green": 0}).traffic == {
        "blue": 0, "green": 0,
    }  # fmt: skip
    refused = [
        ({"blue": 90, "green": 20}, None, r"traffic percentages must sum to 100 \(or all be 0\), got 110"),
        ({"blue": 50}, None, r"must sum to 100 \(or all be 0\), got 50"),
        ({"blue": 100, "purple": 0}, None, r"traffic names 'purple', which is not a deployment of it"),
        ({"blue": 101}, None, r"blue=101 is not a whole percentage"),
        ({"blue": 100}, {"red": 60}, r"mirror traffic to 'red' is 60 %; at most 50 %"),
        (
            {"blue": 100},
            {"blue": 10},
            r"'blue' takes 100 % of live traffic, so it cannot also receive mirror",
        ),
        ({"blue": 100}, {"red": 10, "green": 10}, r"mirror traffic goes to one deployment only"),
    ]
    for traffic, mirror, message in refused:
        with pytest.raises(InvalidArgument, match=message):
            endpoints.update_endpoint(workspace, "diabetes", traffic=traffic, mirror_traffic=mirror)
    done = endpoints.update_endpoint(workspace, "diabetes", traffic={"blue": 100}, mirror_traffic={"red": 50})
    assert (done.traffic, done.mirror_traffic) == ({"blue": 100}, {"red": 50})


def test_a_deployment_with_traffic_cannot_be_deleted_and_deleting_the_endpoint_takes_them_all(
    workspace, model_folder, tmp_path
):
    models.register_model_folder(workspace, "ridge", model_folder)
    _endpoint(workspace)
    _deploy(workspace, tmp_path, "blue", model="ridge:1")
    _deploy(workspace, tmp_path, "green", model="ridge:1")
    endpoints.update_endpoint(workspace, "diabetes", traffic={"blue": 100}, mirror_traffic={"green": 20})
    with pytest.raises(
        Conflict, match=r"deployment 'blue' of endpoint 'diabetes' takes 100 % of the live traffic"
    ):
        deployments.delete_deployment(workspace, "diabetes", "blue")
    with pytest.raises(Conflict, match=r"takes 20 % mirror traffic"):
        deployments.delete_deployment(workspace, "diabetes", "green")
    endpoints.update_endpoint(workspace, "diabetes", mirror_traffic={})
    deployments.delete_deployment(workspace, "diabetes", "green")
    with pytest.raises(
        NotFound, match=r"endpoint 'diabetes' has no deployment 'green' \(deployments: blue\)"
    ):
        deployments.get_deployment(workspace, "diabetes", "green")
    endpoints.delete_endpoint(workspace, "diabetes")
    assert endpoints.list_endpoints(workspace) == []
    assert endpoints.endpoint_records(workspace) == []


def test_updates_are_new_generations_and_set_overrides_are_checked(workspace, model_folder, tmp_path):
    models.register_model_folder(workspace, "ridge", model_folder)
    models.register_model_folder(workspace, "ridge", model_folder, properties={"retrained": "yes"})
    _endpoint(workspace)
    _deploy(workspace, tmp_path, "blue", model="ridge:1")
    scaled = deployments.update_deployment(
        workspace, "diabetes", "blue",
        overrides={
            "instance_count": "3", "request_settings.max_queue_wait_ms": "50", "model": "azureml:ridge:2",
        },
    )  # fmt: skip
    assert (scaled.generation, scaled.provisioning_state, scaled.instance_count) == (
        2,
        DeploymentState.UPDATING,
        3,
    )
    assert scaled.settings.request_settings.max_queue_wait_ms == 50 and scaled.model.ref == "ridge:2"  # type: ignore[union-attr]
    assert scaled.uid == deployments.get_deployment(workspace, "diabetes", "blue").uid
    with pytest.raises(
        InvalidSpec, match=r"--set: instanc_count: unknown field 'instanc_count' \(did you mean"
    ):
        deployments.update_deployment(workspace, "diabetes", "blue", overrides={"instanc_count": "2"})
    with pytest.raises(InvalidArgument, match="name and endpoint cannot change"):
        deployments.update_deployment(workspace, "diabetes", "blue", overrides={"name": "red"})
    # The supervisor's reports count for the generation they are about only.
    assert not deployments.set_state(workspace, "diabetes", "blue", 1, DeploymentState.SUCCEEDED, None)
    assert deployments.set_state(workspace, "diabetes", "blue", 2, DeploymentState.FAILED, "init() raised")
    failed = deployments.get_deployment(workspace, "diabetes", "blue")
    assert (failed.provisioning_state, failed.error) == (DeploymentState.FAILED, "init() raised")


def test_keys_rotate_one_at_a_time_and_tokens_expire(workspace):
    _endpoint(workspace)
    before = endpoints.get_credentials(workspace, "diabetes")
    after = endpoints.regenerate_keys(workspace, "diabetes", "secondary")
    assert after.primary_key == before.primary_key and after.secondary_key != before.secondary_key
    with pytest.raises(InvalidArgument, match="--key-type must be primary or secondary, got 'tertiary'"):
        endpoints.regenerate_keys(workspace, "diabetes", "tertiary")  # type: ignore[arg-type]
    _endpoint(workspace, "scoring", auth_mode="aml_token")
    token = endpoints.get_credentials(workspace, "scoring", token_lifetime_seconds=60)
    assert token.access_token and token.token_type == "Bearer" and token.expiry_time_utc is not None
    with pytest.raises(Conflict, match="uses auth_mode aml_token: it has no keys to regenerate"):
        endpoints.regenerate_keys(workspace, "scoring")
    secret = next(
        r.token_secret for r in endpoints.endpoint_records(workspace) if r.endpoint.name == "scoring"
    )
    now = time.time()
    assert endpoint_auth.check_token(token.access_token.encode(), secret.encode(), "scoring", now) is None
    expired = endpoint_auth.check_token(token.access_token.encode(), secret.encode(), "scoring", now + 61)
    assert expired is not None and expired.startswith("the token expired 1 s ago; get a new one with")
    forged = token.access_token[:-2] + ("AA" if not token.access_token.endswith("AA") else "BB")
    assert "signature is not valid" in str(
        endpoint_auth.check_token(forged.encode(), secret.encode(), "scoring", now)
    )
    with pytest.raises(InvalidArgument, match="token lifetime must be between 0 and 604800 seconds"):
        endpoints.get_credentials(workspace, "scoring", token_lifetime_seconds=10**9)


def test_every_change_is_in_the_audit_trail(workspace, model_folder, tmp_path):
    models.register_model_folder(workspace, "ridge", model_folder)
    _endpoint(workspace)
    _deploy(workspace, tmp_path, "blue", model="ridge:1")
    endpoints.update_endpoint(workspace, "diabetes", traffic={"blue": 100})
    endpoints.get_credentials(workspace, "diabetes")
    endpoints.regenerate_keys(workspace, "diabetes")
    deployments.update_deployment(workspace, "diabetes", "blue", overrides={"instance_count": "2"})
    endpoints.update_endpoint(workspace, "diabetes", traffic={"blue": 0})
    deployments.delete_deployment(workspace, "diabetes", "blue")
    endpoints.delete_endpoint(workspace, "diabetes")
    actions = [e.action for e in reversed(audit.list_events(workspace, entity_type="online_endpoint"))]
    assert actions == [
        "endpoint.create", "endpoint.update", "endpoint.credentials", "endpoint.regenerate_keys",
        "endpoint.update", "endpoint.delete",
    ]  # fmt: skip
    changes = [e.action for e in reversed(audit.list_events(workspace, entity_type="online_deployment"))]
    assert changes == ["deployment.create", "deployment.update", "deployment.delete"]
    traffic = audit.list_events(workspace, actions=["endpoint.update"], limit=1)[0]
    assert traffic.before == {"traffic": {"blue": 100}, "mirror_traffic": {}} and "blue=0" in traffic.summary
