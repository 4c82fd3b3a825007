"""`client.online_endpoints` and `client.online_deployments` on embedded SQLite, embedded PostgreSQL
and a team server. Endpoints run in a server: for the embedded clients one is started over the
same workspace folder, which they find through its `server.json`."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml

import mlyard
from mlyard.entities.endpoints.endpoint import DeploymentState
from mlyard.errors import AlreadyExists, Conflict, InvalidArgument, NotFound, NotReady

SCORE = """
    import json, os

    def init():
        global greeting
        # Azure's layout: the model registered from the folder `model` is found under that name
        with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model", "greeting.txt")) as file:
            greeting = file.read().strip()

    def run(raw):
        return {"greeting": greeting, "rows": len(json.loads(raw)["data"])}
"""


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "greeting.txt").write_text("hello")
    (tmp_path / "project" / "src").mkdir(parents=True)
    (tmp_path / "project" / "src" / "score.py").write_text(textwrap.dedent(SCORE))
    (tmp_path / "project" / "endpoint.yml").write_text("name: greeter\nauth_mode: key\n")
    blue = {
        "$schema": "https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json",
        "name": "blue", "endpoint_name": "greeter", "model": "azureml:greetings@latest",
        "code_configuration": {"code": "./src", "scoring_script": "score.py"},
        "environment": "inherit", "instance_type": "Standard_DS3_v2", "instance_count": 1,
    }  # fmt: skip
    (tmp_path / "project" / "blue.yml").write_text(yaml.safe_dump(blue))
    (tmp_path / "request.json").write_text(json.dumps({"data": [[1], [2], [3]]}))
    return tmp_path


@pytest.fixture
def served(client, client_backend, serve_workspace, tmp_path):  # type: ignore[no-untyped-def]
    if client_backend != "remote":
        serve_workspace(tmp_path / "ws")
    return client


@pytest.mark.slow
def test_an_endpoint_goes_from_yaml_to_answers_and_back_on_every_backend(served, files, tmp_path):
    client = served
    client.models.create("greetings", files / "model")
    endpoint = client.online_endpoints.create(files / "project" / "endpoint.yml")
    assert (
        endpoint.name == "greeter"
        and endpoint.scoring_uri
        and endpoint.scoring_uri.endswith("/endpoints/greeter/score")
    )
    with pytest.raises(AlreadyExists, match="online endpoint 'greeter' already exists"):
        client.online_endpoints.create({"name": "greeter"})
    blue = client.online_deployments.create(files / "project" / "blue.yml", all_traffic=True, timeout=120)
    assert (blue.provisioning_state, blue.model.ref, blue.generation) == (
        DeploymentState.SUCCEEDED,
        "greetings:1",
        1,
    )  # type: ignore[union-attr]
    assert client.online_endpoints.get("greeter").traffic == {"blue": 100}
    answer = client.online_endpoints.invoke("greeter", request_file=files / "request.json")
    assert json.loads(answer) == {"greeting": "hello", "rows": 3}
    assert (
        json.loads(client.online_endpoints.invoke("greeter", data={"data": [[1]]}, deployment_name="blue"))[
            "rows"
        ]
        == 1
    )

    client.online_endpoints.regenerate_keys("greeter", "primary")
    assert json.loads(client.online_endpoints.invoke("greeter", data={"data": []}))["rows"] == 0

    scaled = client.online_deployments.update("blue", "greeter", set={"instance_count": 2}, timeout=120)
    assert (scaled.generation, scaled.instance_count, scaled.provisioning_state) == (
        2,
        2,
        DeploymentState.SUCCEEDED,
    )
    assert [d.name for d in client.online_deployments.list("greeter")] == ["blue"]
    logs = client.online_deployments.get_logs("blue", "greeter")
    assert "generation 2: all 2 instance(s) ready" in logs
    summary = client.online_endpoints.metrics("greeter", window=300)
    assert summary.deployments["blue"].requests >= 3 and summary.total.status_counts.get("200", 0) >= 3

    package = client.online_deployments.package("blue", "greeter", tmp_path / "package")
    deployment = yaml.safe_load((package.folder / "kubernetes" / "deployment.yaml").read_text())
    assert deployment["spec"]["replicas"] == 2 and deployment["metadata"]["name"] == "greeter-blue"
    assert (package.folder / "code" / "score.py").is_file() and (
        package.folder / "model" / "model" / "greeting.txt"
    ).is_file()

    with pytest.raises(InvalidArgument, match=r"traffic percentages must sum to 100 \(or all be 0\), got 40"):
        client.online_endpoints.update("greeter", traffic="blue=40")
    with pytest.raises(Conflict, match="takes 100 % of the live traffic"):
        client.online_deployments.delete("blue", "greeter")
    with pytest.raises(
        NotFound, match="no online endpoint 'nobody' here|online endpoint 'nobody' does not exist"
    ):
        client.online_endpoints.invoke("nobody", data={})
    client.online_endpoints.delete("greeter")
    assert client.online_endpoints.list() == []


def test_an_embedded_client_without_a_server_records_deployments_and_says_how_to_serve_them(tmp_path, files):
    client = mlyard.MLClient(workspace=tmp_path / "alone", create=True)
    client.models.create("greetings", files / "model")
    client.online_endpoints.create(files / "project" / "endpoint.yml")
    recorded = client.online_deployments.create(files / "project" / "blue.yml", all_traffic=True)
    assert recorded.provisioning_state == DeploymentState.CREATING  # nothing runs it yet, nothing waited
    assert client.online_endpoints.get("greeter").scoring_uri is None
    with pytest.raises(
        NotReady, match=r"no mlyard server serves the workspace at .*start it with: mlyard server start"
    ):
        client.online_endpoints.metrics("greeter")
    with pytest.raises(NotReady, match="is not served by a running server"):
        client.online_endpoints.invoke("greeter", data={"data": []})
