"""`mlyard component create|list|show` as a user types them."""

from __future__ import annotations

from tests.cli.test_cli import as_json, mlyard
from tests.services.test_components import component_file


def test_component_create_list_show(tmp_path):
    ws = tmp_path / "ws"
    path = component_file(tmp_path / "proj")
    created = as_json(mlyard("component", "create", "--file", str(path), "-o", "json", workspace=ws))
    assert created["created"] is True and created["version"] == "1"
    again = mlyard("component", "create", "-f", str(path), workspace=ws)
    assert "already registered as train_model:1" in again.stderr
    assert [c["name"] for c in as_json(mlyard("component", "list", "-o", "json", workspace=ws))] == [
        "train_model"
    ]
    shown = mlyard("component", "show", "train_model@latest", workspace=ws).stdout
    assert "max_epocs" in shown and "integer" in shown
    missing = mlyard("component", "show", "ghost:1", workspace=ws, expect=3)
    assert "component 'ghost' does not exist" in missing.stderr
    builtin = "azureml://registries/mlyard/components/performance/labels/latest"
    shown_builtin = as_json(mlyard("component", "show", builtin, "-o", "json", workspace=ws))
    assert shown_builtin["name"] == "performance" and "report" in shown_builtin["spec"]["outputs"]
    unknown = mlyard("component", "show", "azureml://registries/mlyard/components/x/versions/1",
                     workspace=ws, expect=3)  # fmt: skip
    assert "has no component 'x'" in unknown.stderr
