"""Registered components: versioning by spec + code content, stored code, lookups."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mlyard.errors import AlreadyExists, InvalidSpec, NotFound
from mlyard.services.assets.components import (
    component_code_dir,
    create_component,
    get_component,
    list_components,
)

COMPONENT = """\
$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
name: train_model
display_name: Train
version: {version}
type: command
inputs:
  training_data: {{type: uri_folder}}
  max_epocs: {{type: integer, default: 3}}
  learning_rate: {{type: number, default: 0.01, optional: true}}
outputs:
  model_output: {{type: uri_folder}}
code: ./train_src
environment: azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest
command: >-
  python train.py --training_data ${{{{inputs.training_data}}}} --max_epocs ${{{{inputs.max_epocs}}}}
  $[[--learning_rate ${{{{inputs.learning_rate}}}}]] --model_output ${{{{outputs.model_output}}}}
"""


def component_file(folder: Path, version: str = "", code: str = "print('train')\n") -> Path:
    (folder / "train_src").mkdir(parents=True, exist_ok=True)
    (folder / "train_src" / "train.py").write_text(code)
    path = folder / "train.yml"
    text = COMPONENT.format(version=version)
    if not version:
        text = text.replace("version: \n", "")
    path.write_text(textwrap.dedent(text))
    return path


def test_register_version_and_dedupe(workspace, tmp_path):
    path = component_file(tmp_path)
    first = create_component(workspace, path)
    assert first.created and first.component.ref == "train_model:1"
    again = create_component(workspace, path)
    assert not again.created and again.component.ref == "train_model:1"
    component_file(tmp_path, code="print('train v2')\n")
    second = create_component(workspace, path)
    assert second.created and second.component.ref == "train_model:2"
    assert get_component(workspace, "azureml:train_model@latest").version == "2"
    assert [c.version for c in list_components(workspace, "train_model")] == ["2", "1"]
    assert [c.ref for c in list_components(workspace)] == ["train_model:2"]


def test_stored_code_does_not_change_when_the_folder_does(workspace, tmp_path):
    path = component_file(tmp_path)
    component = create_component(workspace, path).component
    (tmp_path / "train_src" / "train.py").write_text("print('edited later')\n")
    stored = component_code_dir(workspace, get_component(workspace, component.ref))
    assert (stored / "train.py").read_text() == "print('train')\n"
    assert component.spec.inputs["max_epocs"].default == 3


def test_explicit_versions_are_immutable(workspace, tmp_path):
    path = component_file(tmp_path, version="7")
    assert create_component(workspace, path).component.version == "7"
    assert not create_component(workspace, path).created
    component_file(tmp_path, version="7", code="print('other')\n")
    with pytest.raises(AlreadyExists, match="train_model:7 already exists"):
        create_component(workspace, path)


def test_bad_components_are_refused(workspace, tmp_path):
    with pytest.raises(NotFound, match="component 'ghost' does not exist; register it"):
        get_component(workspace, "ghost:1")
    path = component_file(tmp_path)
    path.write_text(path.read_text().replace("name: train_model\n", ""))
    with pytest.raises(InvalidSpec, match="train.yml: name: a registered component needs a name"):
        create_component(workspace, path)
    path.write_text(path.read_text().replace("code: ./train_src", "code: ./nowhere"))
    with pytest.raises(NotFound, match="train.yml: code: ./nowhere does not exist"):
        create_component(workspace, path, name="x")


def test_every_versioned_asset_explains_a_miss_the_same_way(workspace, tmp_path):
    """Data assets, environments, components and models share one lookup and its messages."""
    from mlyard.errors import InvalidArgument
    from mlyard.services.assets.environments import get_environment
    from mlyard.services.data_assets.data import get_data_asset
    from mlyard.services.model_registry.models import get_model_version

    for get, label in [
        (get_data_asset, "data asset"), (get_environment, "environment"),
        (get_component, "component"), (get_model_version, "model"),
    ]:  # fmt: skip
        with pytest.raises(NotFound, match=f"{label} 'nope' does not exist; register it with: mlyard "):
            get(workspace, "nope:1")
    with pytest.raises(InvalidArgument, match="components have no aliases; use c:VERSION or c@latest"):
        get_component(workspace, "c@production")
