"""Command job YAML as Azure ML writes it, and errors that name the file and the field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mlyard.entities.jobs.job_spec import JobInput, load_command_job
from mlyard.entities.specs.spec_warnings import checking_specs
from mlyard.errors import InvalidSpec, NotFound

AZUREML_EXAMPLE = """
$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
code: src
command: >-
  python main.py
  --iris-csv ${{inputs.iris_csv}}
  --C ${{inputs.C}}
  --kernel ${{inputs.kernel}}
  $[[--coef0 ${{inputs.coef0}}]]
  --model-dir ${{outputs.model}}
inputs:
  iris_csv:
    type: uri_file
    path: azureml:iris@latest
  C: 0.8
  kernel: "rbf"
  epochs:
    type: integer
    value: 3
outputs:
  model:
    type: custom_model
    name: iris-svc
    version: 2
environment: azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest
environment_variables:
  WORKERS: 4
compute: azureml:cpu-cluster
display_name: sklearn-iris-example
experiment_name: sklearn-iris-example
description: Train a scikit-learn SVM on the Iris dataset.
tags: {team: ml, priority: 1}
resources:
  instance_count: 1
limits:
  timeout: 3600
"""


def write(tmp_path: Path, text: str, name: str = "job.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_an_azureml_examples_command_job_reads_unchanged(tmp_path):
    spec = load_command_job(write(tmp_path, AZUREML_EXAMPLE))
    assert spec.code == "src" and spec.compute == "azureml:cpu-cluster"
    assert spec.literal_inputs() == {"C": 0.8, "kernel": "rbf", "epochs": 3}
    assert spec.asset_inputs() == {"iris_csv": JobInput(type="uri_file", path="azureml:iris@latest")}
    assert spec.outputs["model"].type == "custom_model" and spec.outputs["model"].version == "2"
    assert spec.environment_variables == {"WORKERS": "4"} and spec.tags == {"team": "ml", "priority": "1"}
    assert spec.timeout_seconds == 3600


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "comand: echo hi\n",
            r"(?s)(?=.*job.yml: comand: unknown field)(?=.*job.yml: command: required field is missing)",
        ),
        (
            "command: echo hi\nlimits: {timeout: soon}\n",
            r"job.yml: limits.timeout: expected integer, got 'soon'",
        ),
        ("command: echo hi\noutputs: {model: {type: folder}}\n", r"job.yml: outputs.model.type: "),
        ("command: echo hi\ninputs: {data: {type: uri_file}}\n", r"job.yml: inputs.data: .*needs a path"),
        (
            "command: echo ${{inputs.lr}}\n",
            r"job.yml: command: .*uses \$\{\{inputs.lr\}\}, but inputs has no 'lr'",
        ),
        ("command: echo ${{outputs.o}}\noutputs: {m: {}}\n", r"outputs has no 'o' \(declared: m\)"),
        ("command: echo hi\ntimeout: -5\n", r"job.yml: timeout: "),
        ("command: echo hi\ntype: pipeline\n", r"job.yml: type: this reader takes command jobs"),
        ("- just\n- a list\n", r"job.yml: expected a mapping"),
        ("command: [unclosed\n", r"job.yml \(line 2, column 1\): not valid YAML"),
    ],
)
def test_bad_specs_name_the_file_and_field(tmp_path, text, message):
    with pytest.raises(InvalidSpec, match=message):
        load_command_job(write(tmp_path, text))


def test_an_optional_part_may_name_an_undeclared_input(tmp_path):
    spec = load_command_job(write(tmp_path, "command: train $[[--seed ${{inputs.seed}}]]\n"))
    assert spec.inputs == {}


def test_a_missing_file_is_not_found(tmp_path):
    with pytest.raises(NotFound, match="spec file .*nope.yml does not exist"):
        load_command_job(tmp_path / "nope.yml")


@pytest.mark.parametrize(
    "inputs, problem",
    [
        ("alpha: [1, 2]\n  data: ./d.csv", "inputs.alpha: expected a mapping, got [1, 2]"),
        ("alpha: 0.5\n  data: {typ: uri_file, path: ./d.csv}", "inputs.data.typ: unknown field 'typ'"),
    ],
)
def test_one_wrong_input_is_one_error_not_also_a_missing_command_binding(tmp_path, inputs, problem):
    text = f"command: python x.py ${{{{inputs.data}}}} ${{{{inputs.alpha}}}}\ninputs:\n  {inputs}\n"
    path = write(tmp_path, text)
    with checking_specs(strict=True), pytest.raises(InvalidSpec) as caught:
        load_command_job(path)
    [line] = caught.value.message.splitlines()
    assert line.startswith(f"{path}: {problem}")


@pytest.mark.parametrize(
    "content, message",
    [
        (None, r"^\S*/src is a folder, expected a YAML file$"),
        ("/dev/null", r"^/dev/null is empty; expected a YAML mapping of fields$"),
        ("", r"^\S*/src is empty; expected a YAML mapping of fields$"),
        ("\n  \n", r"^\S*/src is empty; expected a YAML mapping of fields$"),
        ("# only a comment\n", r"^\S*/src is empty \(only comments or blank lines\)"),
    ],
)
def test_a_folder_or_an_empty_file_is_named_as_such_not_as_missing(tmp_path, content, message):
    path = tmp_path / "src"
    if content is None:
        path.mkdir()
    elif content == "/dev/null":
        path = Path(content)
    else:
        path.write_text(content)
    with pytest.raises(InvalidSpec, match=message):
        load_command_job(path)
