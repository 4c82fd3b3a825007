"""Events, subscriptions and schedules through the REST API: roles, secrets, audit, 4xx not 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from mlyard.services.workspaces import audit, keys
from tests.server import API
from tests.server.test_api import assert_error


@pytest.fixture
def secured(workspace_path):
    from mlyard.server.app import create_app
    from mlyard.server.config import ServerConfig, WorkspaceLocation
    from mlyard.services.workspaces.workspace import open_workspace

    workspace = open_workspace(workspace_path)
    tokens = {role: keys.create_key(workspace, f"{role}-user", role).token
              for role in ("reader", "contributor", "operator")}  # fmt: skip
    config = ServerConfig({"default": WorkspaceLocation(workspace_path)})
    with TestClient(create_app(config)) as client:
        yield client, tokens, workspace


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_subscriptions_need_an_operator_and_the_secret_is_only_in_the_create_answer(secured):
    api, tokens, workspace = secured
    body = {"name": "hook", "types": ["ModelRegistered"], "webhook": "http://127.0.0.1:9/hook"}
    assert_error(
        api.post(f"{API}/subscriptions", json=body, headers=bearer(tokens["contributor"])),
        403, "PERMISSION_DENIED", "needs operator",
    )  # fmt: skip
    created = api.post(f"{API}/subscriptions", json=body, headers=bearer(tokens["operator"]))
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")

    listed = api.get(f"{API}/subscriptions", headers=bearer(tokens["reader"]))
    shown = api.get(f"{API}/subscriptions/hook", headers=bearer(tokens["reader"]))
    assert listed.status_code == shown.status_code == 200
    assert secret not in listed.text + shown.text and "secret" not in shown.json()
    [event] = audit.list_events(workspace, entity_type="subscription")
    assert event.actor == "operator-user" and secret not in event.model_dump_json()


def test_bad_subscriptions_and_schedules_are_4xx_naming_the_field(secured):
    api, tokens, _ = secured
    operator = ops = bearer(tokens["operator"])
    assert_error(
        api.post(f"{API}/subscriptions", json={"name": "x", "webhook": "file:///etc/x"}, headers=operator),
        400, "INVALID_PARAMETER_VALUE", "webhook: 'file:///etc/x' is not an http:// or https:// URL",
    )  # fmt: skip
    assert_error(
        api.post(f"{API}/subscriptions", json={"name": "x", "webhook": "http://169.254.1.1/"}, headers=ops),
        403, "PERMISSION_DENIED", "link-local / cloud-metadata",
    )  # fmt: skip
    spec = {"name": "nightly", "trigger": {"type": "cron", "expression": "61 * * * *"},
            "create_job": {"command": "echo hi", "environment": "inherit"}}  # fmt: skip
    assert_error(
        api.post(f"{API}/schedules", json={"spec": spec, "source": "s.yml"}, headers=operator),
        400, "INVALID_SPEC", "s.yml: trigger.expression: '61 * * * *' is not a valid cron expression",
    )  # fmt: skip
    assert api.get(f"{API}/schedules", headers=operator).json() == {"value": []}
    assert_error(api.get(f"{API}/events/nope", headers=operator), 404, "RESOURCE_DOES_NOT_EXIST", "nope")


def test_schedules_need_an_operator(secured):
    api, tokens, _ = secured
    spec = {"name": "nightly", "trigger": {"type": "cron", "expression": "0 3 * * *"},
            "create_job": {"command": "echo hi", "environment": "inherit"}}  # fmt: skip
    assert_error(
        api.post(f"{API}/schedules", json={"spec": spec}, headers=bearer(tokens["contributor"])),
        403, "PERMISSION_DENIED", "needs operator",
    )  # fmt: skip
    created = api.post(f"{API}/schedules", json={"spec": spec}, headers=bearer(tokens["operator"]))
    assert created.status_code == 201, created.text
    shown = api.get(f"{API}/schedules/nightly", headers=bearer(tokens["reader"])).json()
    assert len(shown["next_firings"]) == 5
    assert api.post(f"{API}/schedules/nightly/disable", headers=bearer(tokens["reader"])).status_code == 403


def test_a_schedule_sent_to_a_server_may_name_only_the_files_it_sent(secured):
    api, tokens, _ = secured
    spec = {
        "name": "peek",
        "trigger": {"type": "cron", "expression": "0 3 * * *"},
        "create_job": "/etc/hostname",
    }
    assert_error(
        api.post(f"{API}/schedules", json={"spec": spec}, headers=bearer(tokens["operator"])),
        403, "PERMISSION_DENIED", "outside the files sent with the request",
    )  # fmt: skip


def test_a_base_folder_without_an_upload_keeps_no_files_of_the_server(secured, workspace_path):
    api, tokens, _ = secured
    spec = {"name": "inline", "trigger": {"type": "cron", "expression": "0 3 * * *"},
            "create_job": {"command": "echo hi", "environment": "inherit"}}  # fmt: skip
    created = api.post(
        f"{API}/schedules", json={"spec": spec, "base": "a/b"}, headers=bearer(tokens["operator"])
    )
    assert created.status_code == 201, created.text
    kept = list((workspace_path / "schedules" / "files").rglob("*"))
    assert len(kept) == 1 and kept[0].is_dir()  # one empty folder: nothing from above the staging area
