"""Which workspace an MLflow URI reaches, and API keys: sent as MLFLOW_TRACKING_TOKEN, roles enforced."""

from __future__ import annotations

import httpx
import mlflow
import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from tests.server.mlflow.conftest import assert_mlflow_error, point_mlflow_at, unique


@pytest.fixture
def team(team_server, monkeypatch):
    yield team_server
    while mlflow.active_run() is not None:
        mlflow.end_run()


def test_the_mlflow_prefix_reaches_another_workspace(team, monkeypatch):
    point_mlflow_at(f"{team.url}/mlflow/dev", monkeypatch)
    mlflow.set_experiment(unique("dev-only"))
    with mlflow.start_run() as run:
        mlflow.log_metric("mse", 1.5)
        mlflow.log_text("in dev", "where.txt")
    assert mlflow.artifacts.load_text(f"{run.info.artifact_uri}/where.txt") == "in dev"
    assert team.client("dev").jobs.get(run.info.run_id).metrics == {"mse": 1.5}
    with pytest.raises(Exception, match="does not exist"):
        team.client("default").jobs.get(run.info.run_id)

    point_mlflow_at(team.url, monkeypatch)  # the bare URL is the workspace named default
    with pytest.raises(MlflowException, match=f"job '{run.info.run_id}' does not exist"):
        MlflowClient().get_run(run.info.run_id)


def test_an_unknown_workspace_is_a_404_naming_the_served_ones(team):
    answer = httpx.get(
        f"{team.url}/mlflow/prod/api/2.0/mlflow/experiments/get", params={"experiment_id": "1"}
    )
    assert_mlflow_error(
        answer,
        404,
        "RESOURCE_DOES_NOT_EXIST",
        "workspace 'prod' is not served here",
        "serves: default, dev, secure",
    )


def test_a_workspace_with_keys_refuses_a_client_without_a_token(team, monkeypatch):
    point_mlflow_at(f"{team.url}/mlflow/secure", monkeypatch)
    with pytest.raises(MlflowException, match="UNAUTHENTICATED: workspace 'secure' needs an API key"):
        mlflow.set_experiment(unique("no-token"))
    point_mlflow_at(f"{team.url}/mlflow/secure", monkeypatch, token="mly_000000000000_" + "x" * 32)
    with pytest.raises(
        MlflowException, match="UNAUTHENTICATED: the API key is not valid for workspace 'secure'"
    ):
        mlflow.set_experiment(unique("bad-token"))


def test_with_a_contributor_token_the_client_logs_and_the_audit_names_the_key_owner(team, monkeypatch):
    point_mlflow_at(f"{team.url}/mlflow/secure", monkeypatch, token=team.tokens["contributor"])
    mlflow.set_experiment(unique("with-token"))
    with mlflow.start_run() as run:
        mlflow.log_param("alpha", 0.1)
        mlflow.log_metric("mse", 3.0)
        mlflow.log_text("secret", "note.txt")
    assert MlflowClient().get_run(run.info.run_id).data.metrics == {"mse": 3.0}
    assert mlflow.artifacts.load_text(f"{run.info.artifact_uri}/note.txt") == "secret"
    from mlyard.services.workspaces import audit

    [event] = audit.list_events(team.workspace("secure"), entity_id=run.info.run_id)
    assert (event.actor, event.role, event.via, event.action) == (
        "contributor-user",
        "contributor",
        "mlflow",
        "job.create",
    )


def test_basic_auth_with_the_key_as_password_works_too(team, monkeypatch):
    point_mlflow_at(f"{team.url}/mlflow/secure", monkeypatch)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "anyone")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", team.tokens["contributor"])
    experiment = mlflow.set_experiment(unique("basic"))
    assert MlflowClient().get_experiment(experiment.experiment_id).name == experiment.name


def test_roles_reader_reads_contributor_writes_operator_moves_aliases(team, monkeypatch, tmp_path):
    point_mlflow_at(f"{team.url}/mlflow/secure", monkeypatch, token=team.tokens["contributor"])
    name = unique("roles")
    mlflow.set_experiment(name)
    with mlflow.start_run() as run:
        pass
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "w.txt").write_text("w")
    team.client("secure").models.create(name=name, path=tmp_path / "m")
    with pytest.raises(
        MlflowException, match="PERMISSION_DENIED: contributor-user has role contributor.*needs operator"
    ):
        MlflowClient().set_registered_model_alias(name, "staging", "1")

    point_mlflow_at(f"{team.url}/mlflow/secure", monkeypatch, token=team.tokens["reader"])
    assert MlflowClient().get_run(run.info.run_id).info.status == "FINISHED"
    with pytest.raises(
        MlflowException, match="PERMISSION_DENIED: reader-user has role reader.*needs contributor"
    ):
        MlflowClient().log_metric(run.info.run_id, "mse", 1.0)

    point_mlflow_at(f"{team.url}/mlflow/secure", monkeypatch, token=team.tokens["operator"])
    MlflowClient().set_registered_model_alias(name, "staging", "1")
    assert MlflowClient().get_model_version_by_alias(name, "staging").version == "1"
    with pytest.raises(MlflowException, match="PERMISSION_DENIED: cannot move alias 'production'"):
        MlflowClient().set_registered_model_alias(name, "production", "1")


def test_without_keys_anyone_on_this_machine_logs_as_anonymous(team, monkeypatch):
    point_mlflow_at(f"{team.url}/mlflow/dev", monkeypatch)
    mlflow.set_experiment(unique("open"))
    with mlflow.start_run() as run:
        pass
    from mlyard.services.workspaces import audit

    [event] = audit.list_events(team.workspace("dev"), entity_id=run.info.run_id)
    assert (event.actor, event.via) == ("anonymous", "mlflow")


# --- which workspace the bare /api/2.0/mlflow paths serve (in-process, no server needed) -------


def _app(tmp_path, *names):  # type: ignore[no-untyped-def]
    from mlyard.server.app import create_app
    from mlyard.server.config import ServerConfig, WorkspaceLocation
    from mlyard.services.workspaces.workspace import create_workspace

    for name in names:
        create_workspace(tmp_path / name)
    return create_app(ServerConfig({name: WorkspaceLocation(tmp_path / name) for name in names}))


def test_the_only_served_workspace_answers_the_bare_paths(tmp_path):
    with TestClient(_app(tmp_path, "solo")) as client:
        created = client.post("/api/2.0/mlflow/experiments/create", json={"name": "solo-exp"})
        assert created.status_code == 200, created.text
        via_prefix = client.get(
            "/mlflow/solo/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": "solo-exp"}
        )
        assert via_prefix.json()["experiment"]["experiment_id"] == created.json()["experiment_id"]


def test_several_workspaces_and_none_named_default_say_which_uri_to_use(tmp_path):
    with TestClient(_app(tmp_path, "a", "b")) as client:
        refused = client.post("/api/2.0/mlflow/experiments/create", json={"name": "x"})
        assert_mlflow_error(
            refused,
            404,
            "RESOURCE_DOES_NOT_EXIST",
            "serves several workspaces (a, b)",
            "MLFLOW_TRACKING_URI to http://HOST:PORT/mlflow/<workspace>",
        )
        assert (
            client.post("/mlflow/b/api/2.0/mlflow/experiments/create", json={"name": "x"}).status_code == 200
        )
