"""A workspace whose artifacts live behind an fsspec URL (not a local folder) works end to end.

fsspec's in-memory filesystem stands in for s3:// / gs:// / az://: the code path is the same
(no local path to hand out, so reads download into the workspace cache).
"""

from __future__ import annotations

import uuid

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

import mlyard
from mlyard.services.data_assets import data
from mlyard.services.model_registry import models
from mlyard.services.workspaces.workspace import open_workspace


def test_data_models_and_run_artifacts_round_trip_through_a_url_store(tmp_path, diabetes_csv, monkeypatch):
    url = f"memory://mlyard-{uuid.uuid4().hex}"
    workspace = open_workspace(tmp_path / "ws", artifacts=url)
    assert workspace.describe()["artifacts"] == url
    assert not workspace.artifacts.is_local

    asset = data.create_data_asset(workspace, "diabetes", diabetes_csv).asset
    cached = data.local_path(workspace, asset)
    assert cached.read_bytes() == diabetes_csv.read_bytes()
    assert str(cached).startswith(str(tmp_path / "ws" / "cache"))

    features, target = load_diabetes(return_X_y=True)
    ridge = Ridge().fit(features, target)
    models.save_and_register_model(workspace, ridge, "ridge", "sklearn")
    loaded = models.load_model(workspace, "ridge:1")
    np.testing.assert_allclose(loaded.predict(features[:3]), ridge.predict(features[:3]))

    monkeypatch.setenv("MLYARD_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv("MLYARD_ARTIFACTS", url)
    with mlyard.start_run() as run:
        mlyard.log_dict({"a": 1}, "config.json")
    stored = workspace.artifacts.get_bytes(f"jobs/{run.id}/artifacts/config.json")
    assert stored.strip().startswith(b"{")
