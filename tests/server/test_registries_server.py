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
from mlyard.entities.access import Role
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
