"""A real team server serving two workspaces (dev, prod) and a shared registry: share from dev,
deploy in prod from `azureml://registries/shared/models/m/versions/1`, promote with approval,
roles per registry, errors naming the reference."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import httpx
import pytest
import yaml

import mlyard
from mlyard.entities.governance.access import Role
from mlyard.errors import NotFound, PermissionDenied

SCORE = """
    import json, os

    def init():
        global greeting
        with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model", "greeting.txt")) as file:
            greeting = file.read().strip()

    def run(raw):
        return {"greeting": greeting, "rows": len(json.loads(raw)["data"])}
"""
REF = "azureml://registries/shared/models/m/versions/1"


def _deployment(folder: Path, model: str, endpoint: str = "greeter") -> Path:
    spec = {
        "name": "blue", "endpoint_name": endpoint, "model": model,
        "code_configuration": {"code": "./src", "scoring_script": "score.py"},
        "environment": "inherit", "instance_count": 1,
    }  # fmt: skip
    path = folder / f"{endpoint}-blue.yml"
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.mark.slow
def test_prod_deploys_from_the_shared_registry_with_lineage_roles_and_approval(
    tmp_path: Path, serve_workspace, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from mlyard.server.config import WorkspaceLocation
    from mlyard.services.registries import registries
    from mlyard.services.workspaces import keys
    from mlyard.services.workspaces.workspace import create_workspace

    monkeypatch.setenv("MLYARD_HOME", str(tmp_path / "home"))
    dev, prod = create_workspace(tmp_path / "dev")[0], create_workspace(tmp_path / "prod")[0]
    registries.create_registry("shared")
    shared = registries.open_registry("shared")
    dev_key = keys.create_key(dev, "scientist", Role.CONTRIBUTOR).token
    keys.create_key(shared, "scientist", Role.CONTRIBUTOR, token=dev_key)
    releaser = keys.create_key(prod, "releaser", Role.OPERATOR).token
    keys.create_key(shared, "releaser", Role.READER, token=releaser)
    approver = keys.create_key(prod, "approver", Role.OPERATOR).token
    outsider = keys.create_key(prod, "outsider", Role.OPERATOR).token  # no role in the registry
    url = serve_workspace(
        tmp_path / "dev",
        workspaces={"dev": WorkspaceLocation(tmp_path / "dev"), "prod": WorkspaceLocation(tmp_path / "prod")},
        registries={"shared": WorkspaceLocation(shared.path)},
        auth=True,
    )
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "greeting.txt").write_text("hello from dev")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "score.py").write_text(textwrap.dedent(SCORE))
    (tmp_path / "endpoint.yml").write_text("name: greeter\nauth_mode: key\n")

    with mlyard.MLClient(url=url, key=dev_key, workspace_name="dev") as dev_client:
        dev_client.models.create("m", tmp_path / "model")
        shared_version = dev_client.models.share("m", 1, "shared")
        assert shared_version.created and shared_version.version == "1"
        assert not dev_client.models.share("m", 1, "shared").created  # identical: the same version

    with mlyard.MLClient(url=url, key=releaser, registry_name="shared") as registry_client:
        seen = registry_client.models.get("m@latest")
        assert seen.properties["mlyard.source.workspace"] == "dev"
        with pytest.raises(PermissionDenied, match="releaser has role reader in registry 'shared'"):
            registry_client.models.create("other", tmp_path / "model")

    with mlyard.MLClient(url=url, key=releaser, workspace_name="prod") as prod_client:
        prod_client.online_endpoints.create(tmp_path / "endpoint.yml")
        with pytest.raises(
            NotFound, match=r"azureml://registries/shared/models/m/versions/9: model 'm' has no"
        ):
            prod_client.online_deployments.create(_deployment(tmp_path, REF.replace("/1", "/9")), timeout=60)
        with pytest.raises(NotFound, match="registry 'nowhere' is not served here"):
            prod_client.online_deployments.create(
                _deployment(tmp_path, "azureml://registries/nowhere/models/m/versions/1"), timeout=60
            )
        blue = prod_client.online_deployments.create(
            _deployment(tmp_path, REF), all_traffic=True, timeout=120
        )
        assert blue.model is not None and (blue.model.name, blue.model.version) == ("m", "1")
        answer = json.loads(prod_client.online_endpoints.invoke("greeter", data={"data": [[1], [2]]}))
        assert answer == {"greeting": "hello from dev", "rows": 2}
        in_prod = prod_client.models.get("m:1")
        assert in_prod.properties["mlyard.registry.reference"] == REF
        assert in_prod.properties["mlyard.source.workspace"] == "dev"
        request = prod_client.models.promote("m", "1", "production", "shared from dev, smoke-tested")
        with pytest.raises(PermissionDenied):
            prod_client.models.approve(request.id)  # not by the one who asked
    with mlyard.MLClient(url=url, key=approver, workspace_name="prod") as approving:
        approving.models.approve(request.id)
        assert approving.models.aliases("m") == {"production": "1"}

    with mlyard.MLClient(url=url, key=outsider, workspace_name="prod") as outsider_client:
        (tmp_path / "other.yml").write_text("name: other\nauth_mode: key\n")
        outsider_client.online_endpoints.create(tmp_path / "other.yml")
        with pytest.raises(
            PermissionDenied, match=f"{REF}: outsider's API key has no role in registry 'shared'"
        ):
            outsider_client.online_deployments.create(_deployment(tmp_path, REF, "other"), timeout=60)

    missing = httpx.get(
        f"{url}/api/v1/registries/nowhere/models", headers={"authorization": f"Bearer {releaser}"}
    )
    assert missing.status_code == 404 and "registry 'nowhere' is not served here" in missing.text
    not_a_registry_route = httpx.get(f"{url}/api/v1/registries/shared/jobs")
    assert not_a_registry_route.status_code == 404
    foreign = httpx.get(
        f"{url}/api/v1/registries/shared/models", headers={"authorization": f"Bearer {outsider}"}
    )
    assert foreign.status_code == 403 and "registry 'shared'" in foreign.text


BATCH_SCORE = """
    import os, pathlib

    def init():
        global greeting
        greeting = pathlib.Path(os.environ["AZUREML_MODEL_DIR"], "model", "greeting.txt").read_text().strip()

    def run(mini_batch):
        return [f"{greeting}: {pathlib.Path(p).name}" for p in mini_batch]
"""


@pytest.mark.slow
def test_the_cli_lists_the_servers_registries_and_a_batch_deployment_uses_a_registry_model(
    tmp_path: Path, serve_workspace, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    import subprocess

    from mlyard.server.config import WorkspaceLocation
    from mlyard.services.model_registry import models
    from mlyard.services.registries import registries
    from mlyard.services.workspaces.workspace import create_workspace
    from tests.processes import MLYARD, clean_environment

    monkeypatch.setenv("MLYARD_HOME", str(tmp_path / "home"))
    create_workspace(tmp_path / "prod")
    registries.create_registry("shared", path=str(tmp_path / "shared"))
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "greeting.txt").write_text("hello from the registry")
    models.register_model_folder(registries.open_registry("shared"), "m", tmp_path / "model")
    url = serve_workspace(tmp_path / "prod", registries={"shared": WorkspaceLocation(tmp_path / "shared")})

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        # Another machine's view: no registry index of its own (an empty MLYARD_HOME), only the server.
        env = clean_environment(MLYARD_URL=url, MLYARD_HOME=str(tmp_path / "elsewhere"))
        return subprocess.run([*MLYARD, *args], capture_output=True, text=True, env=env, timeout=60)

    listed = cli("registry", "list", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == [{"name": "shared"}]
    shown = cli("registry", "show", "--name", "shared", "-o", "json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["name"] == "shared"
    missing = cli("registry", "show", "--name", "nowhere")
    assert missing.returncode == 3 and "registry 'nowhere' is not served here" in missing.stderr

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "score.py").write_text(textwrap.dedent(BATCH_SCORE))
    (tmp_path / "items").mkdir()
    for name in ("a.txt", "b.txt"):
        (tmp_path / "items" / name).write_text(name)
    spec = {
        "name": "shared-model", "endpoint_name": "batch", "model": REF,
        "code_configuration": {"code": str(tmp_path / "src"), "scoring_script": "score.py"},
        "settings": {"mini_batch_size": 1},
    }  # fmt: skip
    (tmp_path / "batch.yml").write_text(yaml.safe_dump(spec))
    with mlyard.MLClient(url=url) as client:
        client.batch_endpoints.create(name="batch")
        deployment = client.batch_deployments.create(tmp_path / "batch.yml")
        assert (deployment.model_name, deployment.model_version) == ("m", "1")
        assert client.models.get("m:1").properties["mlyard.registry.reference"] == REF
        job = client.batch_endpoints.invoke("batch", tmp_path / "items", wait=True)
        assert client.jobs.get(job.id).status.value == "Completed"
        folder = client.jobs.download(job.id, tmp_path / "down", output_name="score")
        lines = sorted((Path(folder) / "predictions.csv").read_text().splitlines())
        assert lines == ["hello from the registry: a.txt", "hello from the registry: b.txt"]
        (tmp_path / "bad.yml").write_text(yaml.safe_dump(spec | {"model": REF.replace("/1", "/7")}))
        with pytest.raises(NotFound, match=r"azureml://registries/shared/models/m/versions/7"):
            client.batch_deployments.create(tmp_path / "bad.yml")
