"""API keys and roles over HTTP: 401 without a usable key, 403 for a too-low role or another
workspace's key, the caller as the audit actor, and gated promotion through the API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from mlyard.services.model_registry import models
from mlyard.services.workspaces import keys
from tests.server import API
from tests.server.test_api import assert_error


@pytest.fixture
def secured(workspace_path, tmp_path):
    """A server over two workspaces, `default` and `other`, each with keys (so auth is on)."""
    from mlyard.server.app import create_app
    from mlyard.server.config import ServerConfig, WorkspaceLocation
    from mlyard.services.workspaces.workspace import create_workspace, open_workspace

    other_path = tmp_path / "other"
    create_workspace(other_path)
    workspace = open_workspace(workspace_path)
    tokens = {role: keys.create_key(workspace, f"{role}-user", role).token
              for role in ("reader", "contributor", "operator", "admin")}  # fmt: skip
    tokens["operator2"] = keys.create_key(workspace, "second-operator", "operator").token
    tokens["other"] = keys.create_key(open_workspace(other_path), "stranger", "admin").token
    config = ServerConfig(
        {"default": WorkspaceLocation(workspace_path), "other": WorkspaceLocation(other_path)}
    )
    with TestClient(create_app(config)) as client:
        yield client, tokens, workspace


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_without_a_key_every_workspace_route_is_401_with_a_bearer_challenge(secured):
    api, _, _ = secured
    refused = api.get(f"{API}/jobs")
    assert_error(refused, 401, "UNAUTHENTICATED", "needs an API key", "MLYARD_KEY")
    assert refused.headers.get("www-authenticate", "").startswith("Bearer")
    assert_error(
        api.get(f"{API}/jobs", headers=bearer("mly_000000000000_" + "x" * 32)), 401, "UNAUTHENTICATED"
    )
    assert_error(
        api.get(f"{API}/jobs", headers={"Authorization": "Token abc"}), 401, "UNAUTHENTICATED", "Bearer"
    )
    assert api.get("/healthz").status_code == 200  # probes need no key


def test_roles_allow_exactly_what_they_should(secured):
    api, tokens, _ = secured
    assert api.get(f"{API}/jobs", headers=bearer(tokens["reader"])).status_code == 200
    assert_error(
        api.post(f"{API}/jobs", json={}, headers=bearer(tokens["reader"])),
        403, "PERMISSION_DENIED", "reader-user has role reader", "needs contributor",
    )  # fmt: skip
    assert api.post(f"{API}/jobs", json={}, headers=bearer(tokens["contributor"])).status_code == 201
    assert_error(
        api.get(f"{API}/keys", headers=bearer(tokens["operator"])), 403, "PERMISSION_DENIED", "admin"
    )
    assert api.get(f"{API}/keys", headers=bearer(tokens["admin"])).status_code == 200


def test_a_key_of_another_workspace_is_403_and_sees_nothing(secured):
    api, tokens, _ = secured
    assert_error(
        api.get(f"{API}/jobs", headers=bearer(tokens["other"])),
        403, "PERMISSION_DENIED", "belongs to workspace 'other'",
    )  # fmt: skip
    assert api.get("/api/v1/workspaces/other/jobs", headers=bearer(tokens["other"])).status_code == 200
    assert api.get("/api/v1/whoami", headers=bearer(tokens["other"])).json()["workspace"] == "other"


def test_keys_are_created_listed_and_revoked_through_the_api(secured):
    api, tokens, _ = secured
    admin = bearer(tokens["admin"])
    created = api.post(f"{API}/keys", json={"owner": "ci-bot", "role": "contributor"}, headers=admin)
    assert created.status_code == 201
    token, key_id = created.json()["token"], created.json()["key"]["id"]
    assert "token" not in str(api.get(f"{API}/keys", headers=admin).json())
    assert api.post(f"{API}/jobs", json={}, headers=bearer(token)).status_code == 201
    assert api.delete(f"{API}/keys/{key_id}", headers=admin).status_code == 204
    from mlyard.server import auth

    api.app.state.authenticator._cache.clear()  # as if CACHE_SECONDS had passed
    assert auth.CACHE_SECONDS <= 5
    assert_error(api.post(f"{API}/jobs", json={}, headers=bearer(token)), 401, "UNAUTHENTICATED", "revoked")
    assert_error(
        api.post(f"{API}/keys", json={"owner": "x", "role": "root"}, headers=admin),
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_changes_are_audited_as_the_key_owner_from_the_client_address(secured):
    api, tokens, _ = secured
    done = api.post(f"{API}/jobs", json={"experiment": "audit"}, headers=bearer(tokens["contributor"]))
    job_id = done.json()["id"]
    events = api.get(f"{API}/audit", params={"entity_id": job_id}, headers=bearer(tokens["reader"])).json()
    [event] = events["value"]
    assert (event["actor"], event["role"], event["via"], event["action"]) == (
        "contributor-user", "contributor", "api", "job.create",
    )  # fmt: skip
    assert event["address"] == "testclient" and event["request_id"] == done.headers["x-request-id"]


def test_gated_promotion_through_the_api(secured, tmp_path):
    api, tokens, workspace = secured
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "w.txt").write_text("w")
    models.register_model_folder(workspace, "churn", folder)
    operator, second = bearer(tokens["operator"]), bearer(tokens["operator2"])
    asked = api.post(
        f"{API}/models/churn/promotions", json={"version": "1", "reason": "first"}, headers=operator
    )
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["id"]
    approve = f"{API}/promotions/{request_id}/approve"
    assert_error(api.post(approve, headers=operator), 403, "PERMISSION_DENIED", "cannot approve")
    contributor = bearer(tokens["contributor"])
    assert_error(api.post(approve, headers=contributor), 403, "PERMISSION_DENIED", "needs operator")
    approved = api.post(f"{API}/promotions/{request_id}/approve", json={"comment": "ok"}, headers=second)
    assert approved.json()["state"] == "approved" and approved.json()["decided_by"] == "second-operator"
    assert api.get(f"{API}/models/churn/aliases/production", headers=operator).json()["version"] == "1"
    listed = api.get(f"{API}/promotions", params={"model": "churn"}, headers=bearer(tokens["reader"]))
    assert [p["id"] for p in listed.json()["value"]] == [request_id]


def test_settings_are_read_by_readers_and_changed_by_admins(secured):
    api, tokens, _ = secured
    assert api.get(f"{API}/settings", headers=bearer(tokens["reader"])).json()["protected_aliases"] == [
        "production"
    ]
    operator = bearer(tokens["operator"])
    refused = api.patch(f"{API}/settings", json={"allow_self_approval": True}, headers=operator)
    assert_error(refused, 403, "PERMISSION_DENIED")
    changed = api.patch(
        f"{API}/settings", json={"allow_self_approval": True}, headers=bearer(tokens["admin"])
    )
    assert changed.json()["allow_self_approval"] is True
    assert_error(api.patch(f"{API}/settings", json={"allow_self": True}, headers=bearer(tokens["admin"])),
                 400, "INVALID_PARAMETER_VALUE", "allow_self")  # fmt: skip


def test_without_keys_the_server_is_open_to_this_machine_as_anonymous(api):
    assert api.get("/api/v1/whoami").json() == {
        "workspace": "default",
        "owner": "anonymous",
        "role": "admin",
        "key_id": None,
        "authentication": False,
    }
    assert api.post(f"{API}/jobs", json={}).status_code == 201


def test_the_local_token_in_server_json_opens_its_own_workspace_only(workspace_path, tmp_path):
    """A client on this machine that can read the workspace folder acts as its owner (that is how
    `client.online_endpoints.invoke` reaches the gateway), but not as owner of the server's others."""
    import json
    import stat

    from mlyard.server.app import create_app
    from mlyard.server.config import ServerConfig, WorkspaceLocation
    from mlyard.services.workspaces.workspace import create_workspace, open_workspace

    other_path = tmp_path / "other"
    create_workspace(other_path)
    for path in (workspace_path, other_path):
        keys.create_key(open_workspace(path), "admin-user", "admin")  # auth on in both
    locations = {"default": WorkspaceLocation(workspace_path), "other": WorkspaceLocation(other_path)}
    app = create_app(ServerConfig(locations, background=True, workers=0))
    app.state.url = "http://127.0.0.1:1"  # as `prepare` sets it: the background writes server.json
    with TestClient(app) as api:
        files = {path: path / "server.json" for path in (workspace_path, other_path)}
        assert all(stat.S_IMODE(file.stat().st_mode) == 0o600 for file in files.values())
        mine, theirs = (json.loads(file.read_text())["local_token"] for file in files.values())
        assert mine != theirs
        assert api.get(f"{API}/keys", headers=bearer(mine)).status_code == 200  # the owner: admin
        assert api.get("/api/v1/workspaces/other/keys", headers=bearer(theirs)).status_code == 200
        assert_error(api.get("/api/v1/workspaces/other/jobs", headers=bearer(mine)), 401, "UNAUTHENTICATED")
        forged = mine[:-1] + ("1" if mine.endswith("0") else "0")  # one hex digit off
        assert_error(api.get(f"{API}/jobs", headers=bearer(forged)), 401, "UNAUTHENTICATED")
    assert not files[workspace_path].exists()  # removed when the server stops


def test_an_anonymous_caller_never_makes_keys_even_in_a_keyless_workspace(api):
    refused = api.post(f"{API}/keys", json={"owner": "intruder", "role": "admin"})
    assert_error(
        refused, 401, "UNAUTHENTICATED", "mlyard key create --owner YOU --role admin", "without --url"
    )
    assert refused.headers.get("www-authenticate", "").startswith("Bearer")
    assert api.get(f"{API}/keys").json() == {"value": []}  # nothing was made
    assert api.post(f"{API}/jobs", json={}).status_code == 201  # the rest stays open to this machine


def test_a_key_made_beside_the_server_turns_authentication_on_without_a_restart(
    api, workspace_path, monkeypatch
):
    """`mlyard key create` on the workspace's machine writes the database, not the server."""
    from mlyard.server import auth
    from mlyard.services.workspaces.workspace import open_workspace

    assert api.get(f"{API}/jobs").status_code == 200  # keyless: decided "open"
    token = keys.create_key(open_workspace(workspace_path), "first", "admin").token
    assert api.get("/api/v1/whoami", headers=bearer(token)).json()["owner"] == "first"  # at once
    assert api.get(f"{API}/keys", headers=bearer(token)).status_code == 200
    assert_error(api.get(f"{API}/jobs"), 401, "UNAUTHENTICATED", "needs an API key")  # closed to anonymous
    keys.revoke_key(open_workspace(workspace_path), keys.list_keys(open_workspace(workspace_path))[0].id)
    monkeypatch.setattr(auth, "KEYLESS_RECHECK_SECONDS", 0.0)  # as if any time had passed
    assert_error(api.get(f"{API}/jobs"), 401, "UNAUTHENTICATED")  # revoking every key does not reopen it
