"""Command components as Azure ML writes them, and input values checked against their declarations."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mlyard.entities.assets.component_spec import can_feed, coerce_literal, load_component
from mlyard.entities.jobs.job_spec import JobInput, load_command_job
from mlyard.entities.specs.spec_warnings import checking_specs
from mlyard.errors import InvalidSpec

# azureml-examples cli/jobs/pipelines-with-components/basics/1b_e2e_registered_components/train.yml
REGISTERED_TRAIN = """
$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
name: my_train
display_name: Train_upper_case
#version: 1b
type: command
inputs:
  training_data:
    type: uri_folder
  max_epocs:
    type: integer
    min: 0
    max: 100
  learning_rate:
    type: number
    default: 0.01
  learning_rate_schedule:
    type: string
    default: time-based
    enum:
        - "step"
        - "time-based"
outputs:
  model_output:
    type: uri_folder
code: ./train_src
environment: azureml://registries/azureml/environments/sklearn-1.0/labels/latest
command: >-
  python train.py
  --training_data ${{inputs.training_data}}
  --max_epocs ${{inputs.max_epocs}}
  --learning_rate ${{inputs.learning_rate}}
  --learning_rate_schedule ${{inputs.learning_rate_schedule}}
  --model_output ${{outputs.model_output}}
"""

# .../3b_pipeline_with_data/componentA.yml: an inline environment, cloud-only fields
COMPONENT_A = """
$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
type: command

name: component_a
display_name: componentA
version: 1

inputs:
  componentA_input:
    type: uri_folder

outputs:
  componentA_output:
    type: uri_folder

code: ./componentA_src

environment:
  image: python

resources:
  instance_count: 2
distribution:
  type: pytorch
additional_includes:
  - ../common
is_deterministic: false

command: >-
  python hello.py --componentA_input ${{inputs.componentA_input}}
  --componentA_output ${{outputs.componentA_output}}
"""

WITH_OPTIONS = """
type: command
name: options
version: 1.5
inputs:
  data: {type: uri_file}
  seed: {type: integer, optional: true}
  note: {type: string, optional: true}
  verbose: {type: boolean, default: false}
  model: {type: mlflow_model, optional: true}
outputs:
  report: {type: uri_file, description: a text report}
command: >-
  run --data ${{inputs.data}} --note ${{inputs.note}} $[[--seed ${{inputs.seed}}]]
  $[[--model ${{inputs.model}}]] --verbose ${{inputs.verbose}} --out ${{outputs.report}}
"""


def write(tmp_path: Path, text: str, name: str = "component.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_an_azureml_examples_component_reads_unchanged(tmp_path):
    spec = load_component(write(tmp_path, REGISTERED_TRAIN))
    assert spec.name == "my_train" and spec.version is None and spec.is_deterministic
    assert spec.code == "./train_src"
    assert spec.environment == "azureml://registries/azureml/environments/sklearn-1.0/labels/latest"
    assert [(name, port.type) for name, port in spec.inputs.items()] == [
        ("training_data", "uri_folder"),
        ("max_epocs", "integer"),
        ("learning_rate", "number"),
        ("learning_rate_schedule", "string"),
    ]
    assert spec.inputs["max_epocs"].min == 0 and spec.inputs["max_epocs"].max == 100
    assert spec.inputs["learning_rate_schedule"].enum == ["step", "time-based"]
    assert spec.outputs["model_output"].type == "uri_folder"
    assert spec.reference == "my_train"


def test_cloud_only_fields_are_ignored_and_versions_become_text(tmp_path):
    spec = load_component(write(tmp_path, COMPONENT_A))
    assert spec.version == "1" and spec.reference == "component_a:1"
    assert spec.environment == {"image": "python"}
    assert spec.is_deterministic is False
    assert load_component(write(tmp_path, WITH_OPTIONS)).version == "1.5"


def test_bind_inputs_applies_defaults_and_coerces_literals(tmp_path):
    spec = load_component(write(tmp_path, REGISTERED_TRAIN))
    data = JobInput(type="uri_folder", path="./data")
    bound = spec.bind_inputs({"training_data": data, "max_epocs": "3"}, "job.yml")
    assert bound == {
        "training_data": data,
        "max_epocs": 3,
        "learning_rate": 0.01,
        "learning_rate_schedule": "time-based",
    }
    bound = spec.bind_inputs(
        {"training_data": data, "max_epocs": 7.0, "learning_rate": "0.5", "learning_rate_schedule": "step"},
        "job.yml",
    )
    assert bound["max_epocs"] == 7 and bound["learning_rate"] == 0.5
    assert bound["learning_rate_schedule"] == "step"


def test_optional_inputs_bind_to_none_and_booleans_read_text(tmp_path):
    spec = load_component(write(tmp_path, WITH_OPTIONS))
    given = {"data": JobInput(type="uri_file", path="d.csv"), "note": "hi", "verbose": "TRUE"}
    assert spec.bind_inputs(given, "job.yml") == {
        "data": given["data"], "seed": None, "note": "hi", "verbose": True, "model": None,
    }  # fmt: skip
    assert spec.inputs_the_command_needs() == {"data", "note", "verbose"}


@pytest.mark.parametrize(
    "given, message",
    [
        ({"max_epocs": "abc"}, r"job.yml.inputs.max_epocs: expected integer, got 'abc'"),
        ({"max_epocs": True}, r"job.yml.inputs.max_epocs: expected integer, got True"),
        ({"max_epocs": 101}, r"job.yml.inputs.max_epocs: expected at most 100, got 101"),
        ({"max_epocs": -1}, r"job.yml.inputs.max_epocs: expected at least 0, got -1"),
        ({"learning_rate": "fast"}, r"job.yml.inputs.learning_rate: expected number, got 'fast'"),
        (
            {"learning_rate_schedule": "linear"},
            r"job.yml.inputs.learning_rate_schedule: expected one of 'step', 'time-based', got 'linear'",
        ),
        (
            {"learnin_rate": 0.1},
            r"job.yml.inputs.learnin_rate: component my_train has no input 'learnin_rate' "
            r"\(did you mean 'learning_rate'\?\) \(declared: learning_rate, ",
        ),
        (
            {"training_data": "./data"},
            r"job.yml.inputs.training_data: this input takes uri_folder: give \{type: uri_folder, path: …\}",
        ),
        (
            {"training_data": JobInput(type="uri_file", path="a.csv")},
            r"job.yml.inputs.training_data: got a uri_file, but this input takes uri_folder",
        ),
    ],
)
def test_bad_values_name_the_input(tmp_path, given, message):
    spec = load_component(write(tmp_path, REGISTERED_TRAIN))
    with pytest.raises(InvalidSpec, match=message):
        spec.bind_inputs({"training_data": JobInput(path="./d"), "max_epocs": 3, **given}, "job.yml")


def test_every_problem_is_reported_at_once(tmp_path):
    spec = load_component(write(tmp_path, REGISTERED_TRAIN))
    with pytest.raises(InvalidSpec) as caught:
        spec.bind_inputs({"max_epocs": "x", "extra": 1}, "job.yml")
    assert caught.value.message.splitlines() == [
        "job.yml.inputs.extra: component my_train has no input 'extra' (declared: learning_rate, "
        "learning_rate_schedule, max_epocs, training_data)",
        "job.yml.inputs.training_data: required input of component my_train is missing (uri_folder)",
        "job.yml.inputs.max_epocs: expected integer, got 'x'",
    ]


def test_an_optional_input_the_command_uses_outside_an_optional_part_needs_a_value(tmp_path):
    spec = load_component(write(tmp_path, WITH_OPTIONS))
    with pytest.raises(
        InvalidSpec,
        match=r"job.yml.inputs.note: optional input of component options:1.5 is not given, but its "
        r"command uses \$\{\{inputs.note\}\} outside \$\[\[ … \]\]",
    ):
        spec.bind_inputs({"data": JobInput(type="uri_file", path="d.csv")}, "job.yml")


def test_asset_types_feed_compatible_inputs_only():
    assert can_feed("uri_folder", "mltable") and can_feed("mltable", "uri_folder")
    assert can_feed("mlflow_model", "custom_model") and can_feed("custom_model", "uri_folder")
    assert not can_feed("uri_file", "uri_folder") and not can_feed("uri_folder", "uri_file")
    assert not can_feed("custom_model", "mltable") and not can_feed("mltable", "integer")


@pytest.mark.parametrize(
    "input_type, value, expected",
    [
        ("integer", " 3 ", 3),
        ("integer", 4.0, 4),
        ("number", "1e-3", 0.001),
        ("number", 2, 2),
        ("boolean", "false", False),
        ("string", 5, "5"),
        ("string", True, "true"),
    ],
)
def test_literals_are_coerced_to_the_declared_type(input_type, value, expected):
    assert coerce_literal(input_type, value) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "comand: echo hi\n",
            r"(?s)(?=.*component.yml: comand: unknown field 'comand' \(did you mean 'command'\?\))"
            r"(?=.*component.yml: command: required field is missing)",
        ),
        (
            "command: echo ${{inputs.x}}\ninputs: {x: {type: path}}\n",
            r"component.yml: inputs.x.type: expected 'integer', 'number', .* or 'triton_model', got 'path'",
        ),
        (
            "command: echo ${{inputs.x}}\ninputs: {x: {type: integer, defualt: 3}}\n",
            r"component.yml: inputs.x.defualt: unknown field 'defualt' \(did you mean 'default'\?\)",
        ),
        (
            "command: echo ${{inputs.x}}\ninputs: {x: {type: integer, default: abc}}\n",
            r"component.yml: inputs.x: default: expected integer, got 'abc'",
        ),
        (
            "command: echo ${{inputs.x}}\ninputs: {x: {type: integer, min: 5, max: 1}}\n",
            r"component.yml: inputs.x: min 5 is greater than max 1",
        ),
        (
            "command: echo ${{inputs.x}}\ninputs: {x: {type: uri_folder, enum: [a]}}\n",
            r"component.yml: inputs.x: enum applies to string, integer, number or boolean, not uri_folder",
        ),
        (
            "command: echo ${{inputs.x}}\ninputs: {x: {type: string, default: c, enum: [a, b]}}\n",
            r"component.yml: inputs.x: default: expected one of 'a', 'b', got 'c'",
        ),
        (
            "command: echo ${{inputs.learning_rte}}\ninputs: {learning_rate: {type: number}}\n",
            r"component.yml: command: uses \$\{\{inputs.learning_rte\}\}, but inputs has no "
            r"'learning_rte' \(did you mean 'learning_rate'\?\) \(declared: learning_rate\)",
        ),
        (
            "command: echo $[[--seed ${{inputs.seed}}]]\n",
            r"component.yml: command: uses \$\{\{inputs.seed\}\}, but inputs has no 'seed'",
        ),
        ("command: echo ${{search_space.lr}}\n", r"component.yml: command: uses \$\{\{search_space.lr\}\}"),
        ("command: echo hi\noutputs: {o: {type: string}}\n", r"component.yml: outputs.o.type: expected "),
        ("command: echo hi\nname: 'bad name!'\n", r"component.yml: name: invalid component name 'bad name!'"),
        ("command: echo hi\ntype: parallel\n", r"component.yml: type: only command components are supported"),
        (
            "command: echo hi\ninputs:\n  x: [unclosed\n",
            r"component.yml \(line 4, column 1\): not valid YAML",
        ),
    ],
)
def test_bad_components_name_the_file_and_field(tmp_path, text, message):
    with checking_specs(strict=True), pytest.raises(InvalidSpec, match=message):
        load_component(write(tmp_path, text))


def test_unknown_fields_of_other_specs_get_a_suggestion_too(tmp_path):
    path = write(tmp_path, "command: echo hi\nlimits: {timout: 5}\noutputs: {m: {nmae: x}}\n", "job.yml")
    with checking_specs(strict=True), pytest.raises(InvalidSpec) as caught:
        load_command_job(path)
    assert caught.value.message.splitlines() == [
        f"{path}: outputs.m.nmae: unknown field 'nmae' (did you mean 'name'?)",
        f"{path}: limits.timout: unknown field 'timout' (did you mean 'timeout'?)",
    ]


def test_a_mapping_that_fails_is_not_also_reported_as_a_wrong_value(tmp_path):
    path = write(tmp_path, "command: echo hi\ninputs: {d: {type: uri_file, pth: x}}\n", "job.yml")
    with pytest.raises(InvalidSpec) as caught:
        load_command_job(path)
    assert caught.value.message == f"{path}: inputs.d.pth: unknown field 'pth' (did you mean 'path'?)"


def test_a_wrong_input_of_a_component_is_not_also_a_missing_command_binding(tmp_path):
    path = write(tmp_path, "command: echo ${{inputs.data}}\ninputs:\n  data: {typ: uri_file}\n")
    with pytest.raises(InvalidSpec) as caught:
        load_component(path)
    assert f"{path}: inputs.data.typ: unknown field 'typ' (did you mean 'type'?)" in caught.value.message
    assert "command:" not in caught.value.message
