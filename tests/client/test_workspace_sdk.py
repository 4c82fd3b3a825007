"""Which workspace an SDK client opens, and when it may create one."""

from __future__ import annotations

import pytest

import mlyard
from mlyard.errors import WorkspaceError


def test_a_client_of_a_missing_folder_says_so_and_creates_nothing(tmp_path):
    typo = tmp_path / "typo"
    with pytest.raises(WorkspaceError, match=rf"no workspace at {typo}; create one with: .*create=True"):
        mlyard.MLClient(workspace=typo)
    assert not typo.exists()
    made = mlyard.MLClient(workspace=typo, create=True)
    assert made.workspace["path"] == str(typo) and (typo / "workspace.yaml").is_file()


def test_the_default_workspace_is_created_on_first_use_as_the_quickstart_expects(tmp_path):
    client = mlyard.MLClient()
    assert client.workspace["path"] == str(tmp_path / ".mlyard")
    with mlyard.start_run(workspace=tmp_path / "runs") as run:  # a run writes: it may create
        mlyard.log_metric("loss", 0.5)
    assert mlyard.MLClient(workspace=tmp_path / "runs").jobs.get(run.id).metrics == {"loss": 0.5}
