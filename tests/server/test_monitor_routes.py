"""Monitors through the REST API: roles as schedules (operator to create and delete, contributor to
run, reader to read), the statistics check at create time, 4xx naming the field, nothing stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tests.server import API
from tests.server.test_api import assert_error
from tests.server.test_events_routes import bearer, secured  # noqa: F401 - the fixture


def _spec(**drift: Any) -> dict[str, Any]:
    signal = {"type": "data_drift", "production_data": {"input_data": {"path": "azureml:production:1"}},
              "reference_data": {"input_data": {"path": "azureml:reference:1"}}, **drift}  # fmt: skip
    return {"name": "pair", "create_monitor": {"monitoring_signals": {"drift": signal}}}


def test_monitors_need_their_roles_and_bad_ones_are_4xx_with_nothing_stored(secured: Any, tmp_path: Path):  # noqa: F811
    from mlyard.services.data_assets.data import create_data_asset

    api, tokens, workspace = secured
    table = pd.DataFrame({"age": np.arange(100.0), "bmi": np.arange(100.0) / 4})
    table.to_csv(tmp_path / "t.csv", index=False)
    create_data_asset(workspace, "reference", tmp_path / "t.csv")
    create_data_asset(workspace, "production", tmp_path / "t.csv")
    operator, contributor, reader = (bearer(tokens[r]) for r in ("operator", "contributor", "reader"))

    typo = _spec(metric_thresholds={"numerical": {"jensen_shanon_distance": 0.1}})
    assert_error(
        api.post(f"{API}/monitors", json={"spec": typo, "source": "m.yml"}, headers=operator),
        400, "INVALID_SPEC",
        "m.yml: create_monitor.monitoring_signals.drift.metric_thresholds.numerical: "
        "unknown numerical metric 'jensen_shanon_distance' (did you mean 'jensen_shannon_distance'?)",
    )  # fmt: skip
    outside = _spec(reference_data={"input_data": {"path": "/etc"}})
    assert_error(
        api.post(f"{API}/monitors", json={"spec": outside}, headers=operator),
        403, "PERMISSION_DENIED", "reference_data.input_data.path: /etc is outside the files sent",
    )  # fmt: skip
    assert_error(
        api.post(f"{API}/monitors", json={"spec": _spec()}, headers=contributor),
        403, "PERMISSION_DENIED", "needs operator",
    )  # fmt: skip
    assert api.get(f"{API}/monitors", headers=reader).json() == {"value": []}

    created = api.post(f"{API}/monitors", json={"spec": _spec()}, headers=operator)
    assert created.status_code == 201, created.text
    assert created.json()["target_kind"] == "data"
    assert api.get(f"{API}/monitors/pair", headers=reader).json()["verdicts"] == []
    assert api.post(f"{API}/monitors/pair/run", headers=reader).status_code == 403
    assert_error(
        api.post(f"{API}/monitors/nope/run", headers=contributor), 404, "RESOURCE_DOES_NOT_EXIST", "nope"
    )
    history = api.get(
        f"{API}/monitors/pair/history", params={"signal": "drift", "feature": "age"}, headers=reader
    )
    assert history.json() == {"value": []}
    assert api.delete(f"{API}/monitors/pair", headers=contributor).status_code == 403
    assert api.delete(f"{API}/monitors/pair", headers=operator).status_code == 204
    assert_error(api.get(f"{API}/monitors/pair", headers=reader), 404, "RESOURCE_DOES_NOT_EXIST", "pair")
