"""`mlyard registry …`, `--registry-name` and `mlyard model share` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_cli import as_json, mlyard


def test_registry_share_and_reference_from_another_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # the registry index under ~/.mlyard
    dev, prod = tmp_path / "dev", tmp_path / "prod"
    created = as_json(mlyard("registry", "create", "--name", "shared", "-o", "json"))
    assert created["path"] == str(tmp_path / "home" / ".mlyard" / "registries" / "shared")
    assert "reserved" in mlyard("registry", "create", "--name", "mlyard", expect=2).stderr
    assert [r["name"] for r in as_json(mlyard("registry", "list", "-o", "json"))] == ["shared"]
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "w.txt").write_text("1")
    mlyard("model", "create", "--name", "m", "--path", str(tmp_path / "model"), workspace=dev)
    shared = as_json(
        mlyard(
            "model",
            "share",
            "--name",
            "m",
            "--version",
            "1",
            "--registry-name",
            "shared",
            "-o",
            "json",
            workspace=dev,
        )
    )
    assert shared["created"] and shared["properties"]["mlyard.source.workspace"] == "dev"
    again = mlyard(
        "model", "share", "--name", "m", "--version", "1", "--registry-name", "shared", workspace=dev
    )
    assert "already in registry shared" in again.stderr + again.stdout
    listed = as_json(mlyard("model", "list", "m", "--registry-name", "shared", "-o", "json"))
    assert [v["version"] for v in listed] == ["1"]
    shown = mlyard("model", "show", "m@latest", "--registry-name", "shared").stdout
    assert "shared from workspace" in shown and "dev" in shown
    missing = mlyard("model", "show", "m:1", "--registry-name", "nope", expect=3)
    assert "registry 'nope' does not exist" in missing.stderr
    unknown = mlyard(
        "model", "share", "--name", "m", "--version", "1", "--registry-name", "nope", workspace=dev, expect=3
    )
    assert "azureml://registries/nope/models/m: registry 'nope' does not exist" in unknown.stderr
    mlyard("workspace", "create", workspace=prod)
    job = tmp_path / "job.yml"
    job.write_text(
        "command: echo ${{inputs.model}}\n"
        "inputs:\n  model:\n    type: custom_model\n    path: azureml://registries/shared/models/m/labels/latest\n"
    )
    bad = tmp_path / "bad.yml"
    bad.write_text(job.read_text().replace("labels/latest", "versions/5"))
    refused = mlyard("job", "create", "--file", str(bad), workspace=prod, expect=3)
    assert "azureml://registries/shared/models/m/versions/5: model 'm' has no version '5'" in refused.stderr
    mlyard("registry", "delete", "--name", "shared")
    assert as_json(mlyard("registry", "list", "-o", "json")) == []
