"""The batch endpoint routes over HTTP: roles (reads reader, changes operator, invoke contributor),
the caller in the audit trail, and no way to make the server score its own files."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from mlyard.services.model_registry.models import save_and_register_model
from mlyard.services.workspaces import audit
from tests.server import API
from tests.server.test_api import assert_error
from tests.server.test_auth import bearer, secured  # noqa: F401 - the fixture

DEPLOYMENT = {"name": "blue", "endpoint_name": "ep", "model": "ridge:1"}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_roles_and_audit_of_batch_endpoint_routes(secured):  # noqa: F811
    api, tokens, workspace = secured
    save_and_register_model(workspace, Ridge().fit(np.eye(2), [0.0, 1.0]), "ridge", "sklearn")
    reader, contributor, operator = (bearer(tokens[role]) for role in ("reader", "contributor", "operator"))
    body = {"spec": {"name": "ep"}, "source": "endpoint.yml"}
    assert_error(api.post(f"{API}/batch-endpoints", json=body, headers=contributor), 403, "PERMISSION_DENIED",
                 "needs operator")  # fmt: skip
    assert api.post(f"{API}/batch-endpoints", json=body, headers=operator).status_code == 201
    created = api.post(f"{API}/batch-endpoints/ep/deployments", json={"spec": DEPLOYMENT}, headers=operator)
    assert created.status_code == 201 and created.json()["model_version"] == "1"
    listed = api.get(f"{API}/batch-endpoints", headers=reader).json()["value"]
    assert [(e["name"], e["default_deployment"]) for e in listed] == [("ep", "blue")]
    assert_error(api.post(f"{API}/batch-endpoints/ep/jobs", json={"input": "x:1"}, headers=reader), 403,
                 "PERMISSION_DENIED", "needs contributor")  # fmt: skip
    missing = api.post(f"{API}/batch-endpoints/ep/jobs", json={"input": "ghost:1"}, headers=contributor)
    assert_error(missing, 404, "RESOURCE_DOES_NOT_EXIST", "data asset 'ghost' does not exist")
    for path in ("/etc/passwd", "../secrets", "~/data.csv"):
        refused = api.post(f"{API}/batch-endpoints/ep/jobs", json={"input": path}, headers=contributor)
        assert_error(refused, 400, "INVALID_PARAMETER_VALUE", "is a path on the server; upload")
    patched = api.patch(f"{API}/batch-endpoints/ep/deployments/blue", json={"set": {"mini_batch_size": "7"}},
                        headers=operator)  # fmt: skip
    assert patched.json()["settings"]["mini_batch_size"] == 7
    assert_error(api.delete(f"{API}/batch-endpoints/ep", headers=contributor), 403, "PERMISSION_DENIED")
    assert api.delete(f"{API}/batch-endpoints/ep", headers=operator).status_code == 204
    assert_error(api.get(f"{API}/batch-endpoints/ep", headers=reader), 404, "RESOURCE_DOES_NOT_EXIST")
    actors = {e.action: e.actor for e in audit.list_events(workspace, limit=50)}
    assert actors["batch_endpoint.create"] == actors["batch_endpoint.delete"] == "operator-user"
    assert actors["batch_deployment.update"] == "operator-user"
