"""Unknown fields in Azure-shaped YAML are warned about and ignored, as `az ml` does; `strict`
refuses them; wrong types and missing required fields stay errors (entities/specs/spec_warnings)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mlyard.entities.assets.component_spec import load_component
from mlyard.entities.endpoints.batch_endpoint import load_batch_deployment
from mlyard.entities.endpoints.endpoint_spec import deployment_spec_from_dict
from mlyard.entities.jobs.job_spec import load_command_job
from mlyard.entities.jobs.pipeline_spec import load_pipeline_job
from mlyard.entities.specs.spec_warnings import SpecWarning, checking_specs
from mlyard.errors import InvalidSpec


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


COMMAND_JOB = """
    $schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
    command: python -c "print(1)"
    environment: azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest
    compte: azureml:cpu-cluster
    experiment_name: typos
    """

PIPELINE_JOB = """
    $schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json
    type: pipeline
    experiment_name: typos
    settings:
      default_compute: azureml:cpu-cluster
      continue_on_step_failre: true
    jobs:
      train:
        type: command
        command: echo train
        environment: azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest
        compte: azureml:cpu-cluster
    """


def test_a_misspelt_job_field_is_ignored_with_a_did_you_mean_warning(tmp_path):
    path = write(tmp_path, "job.yml", COMMAND_JOB)
    with checking_specs() as checks:
        spec = load_command_job(path)
    assert spec.command == 'python -c "print(1)"' and spec.compute is None
    assert checks.warnings == [f"{path}: compte: unknown field, ignored (did you mean 'compute'?)"]


def test_misspelt_fields_of_a_pipeline_step_are_warned_with_their_full_path(tmp_path):
    path = write(tmp_path, "pipeline.yml", PIPELINE_JOB)
    with checking_specs() as checks:
        spec = load_pipeline_job(path)
    assert list(spec.jobs) == ["train"]
    assert sorted(checks.warnings) == [
        f"{path}: jobs.train.compte: unknown field, ignored (did you mean 'compute'?)",
        f"{path}: settings.continue_on_step_failre: unknown field, ignored "
        "(did you mean 'continue_on_step_failure'?)",
    ]


def test_a_component_with_a_misspelt_setting_registers_with_a_warning(tmp_path):
    path = write(
        tmp_path,
        "component.yml",
        """
        $schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
        name: train_model
        type: command
        is_determinstic: false
        inputs:
          data: {type: uri_folder, optinal: true}
        command: python train.py --data ${{inputs.data}}
        environment: azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest
        """,
    )
    with checking_specs() as checks:
        spec = load_component(path)
    assert spec.name == "train_model" and spec.is_deterministic is True  # the misspelt one is not read
    assert sorted(checks.warnings) == [
        f"{path}: inputs.data.optinal: unknown field, ignored (did you mean 'optional'?)",
        f"{path}: is_determinstic: unknown field, ignored (did you mean 'is_deterministic'?)",
    ]


def test_a_deployment_with_a_misspelt_request_setting_keeps_the_default(tmp_path):
    data = {
        "name": "blue",
        "endpoint_name": "my-endpoint",
        "model": "azureml:sklearn-model:1",
        "instance_type": "Standard_DS3_v2",
        "instance_count": 1,
        "request_settings": {"request_timeout_ms": 3000, "max_concurent_requests_per_instance": 4},
    }
    with checking_specs() as checks:
        spec = deployment_spec_from_dict(data, "blue.yml")
    assert spec.request_settings.request_timeout_ms == 3000
    assert spec.request_settings.max_concurrent_requests_per_instance == 1
    assert checks.warnings == [
        "blue.yml: request_settings.max_concurent_requests_per_instance: unknown field, ignored "
        "(did you mean 'max_concurrent_requests_per_instance'?)"
    ]


def test_a_batch_deployment_with_an_unknown_setting_is_read_with_a_warning(tmp_path):
    path = write(
        tmp_path,
        "deployment.yml",
        """
        $schema: https://azuremlschemas.azureedge.net/latest/modelBatchDeployment.schema.json
        name: classifier-xgboost-mlflow
        endpoint_name: heart-classifier
        type: model
        model: azureml:heart-classifier-mlflow@latest
        compute: azureml:batch-cluster
        resources:
          instance_count: 2
        settings:
          max_concurrency_per_instance: 2
          mini_bach_size: 2
          output_action: append_row
          output_file_name: predictions.csv
        """,
    )
    with checking_specs() as checks:
        spec = load_batch_deployment(path)
    assert (
        spec.settings.mini_batch_size is None
    )  # not set: the default applies, the misspelt value is ignored
    assert checks.warnings == [
        f"{path}: settings.mini_bach_size: unknown field, ignored (did you mean 'mini_batch_size'?)"
    ]


def test_strict_checks_refuse_an_unknown_field_naming_file_field_and_fix(tmp_path):
    path = write(tmp_path, "job.yml", COMMAND_JOB)
    with checking_specs(strict=True) as checks, pytest.raises(InvalidSpec) as caught:
        load_command_job(path)
    assert caught.value.message == f"{path}: compte: unknown field 'compte' (did you mean 'compute'?)"
    assert checks.warnings == []


def test_the_workspace_setting_is_asked_only_when_a_field_is_unknown(tmp_path):
    asked: list[bool] = []

    def setting() -> bool:
        asked.append(True)
        return True

    clean = write(tmp_path, "clean.yml", "command: echo hi\nenvironment: azureml:env:1\n")
    with checking_specs() as checks:
        checks.strict_if = setting
        load_command_job(clean)
        assert asked == []
        with pytest.raises(InvalidSpec, match=r"compte: unknown field 'compte'"):
            load_command_job(write(tmp_path, "job.yml", COMMAND_JOB))
    assert asked == [True]


def test_wrong_types_and_missing_fields_stay_errors_beside_an_unknown_field(tmp_path):
    path = write(
        tmp_path,
        "job.yml",
        """
        comand: echo hi
        environment: azureml:env:1
        limits: {timeout: soon}
        """,
    )
    with checking_specs() as checks, pytest.raises(InvalidSpec) as caught:
        load_command_job(path)
    lines = caught.value.message.splitlines()
    assert f"{path}: command: required field is missing" in lines
    assert f"{path}: comand: unknown field 'comand' (did you mean 'command'?)" in lines
    assert any(line.startswith(f"{path}: limits.timeout:") for line in lines)
    assert checks.warnings == []  # nothing is half-reported as a warning when the spec is refused


def test_outside_a_command_an_unknown_field_is_a_python_spec_warning(tmp_path):
    path = write(tmp_path, "job.yml", COMMAND_JOB)
    with pytest.warns(SpecWarning, match=r"job\.yml: compte: unknown field, ignored \(did you mean"):
        spec = load_command_job(path)
    assert spec.experiment_name == "typos"
