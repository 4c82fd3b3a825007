"""Batch endpoint and deployment YAML as Azure ML writes it, with errors naming the file and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mlyard.entities.endpoints.batch_endpoint import load_batch_deployment, load_batch_endpoint
from mlyard.entities.specs.spec_warnings import checking_specs
from mlyard.errors import InvalidSpec


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


NEWER = """\
$schema: https://azuremlschemas.azureedge.net/latest/modelBatchDeployment.schema.json
name: classifier
endpoint_name: heart-batch
type: model
model: azureml:heart-classifier@latest
code_configuration: {code: ./code, scoring_script: batch_driver.py}
environment: azureml:sklearn-env:1
compute: azureml:batch-cluster
instance_type: Standard_DS3_v2
resources: {instance_count: 2}
settings:
  max_concurrency_per_instance: 2
  mini_batch_size: 5
  output_action: summary_only
  output_file_name: scores.csv
  retry_settings: {max_retries: 1, timeout: 300}
  error_threshold: 10
  logging_level: DEBUG
  environment_variables: {THRESHOLD: 0.5}
"""


def test_newer_settings_nesting_reads_with_every_field(tmp_path):
    spec = load_batch_deployment(write(tmp_path / "deployment.yml", NEWER))
    settings = spec.batch_settings()
    assert (spec.name, spec.endpoint_name, spec.model) == (
        "classifier",
        "heart-batch",
        "azureml:heart-classifier@latest",
    )
    assert spec.code_configuration is not None and spec.code_configuration.scoring_script == "batch_driver.py"
    assert spec.resources.instance_count == 2 and settings.max_concurrency_per_instance == 2
    assert settings.batch_limit() == ("count", 5)
    assert (settings.output_action, settings.output_file_name, settings.error_threshold) == (
        "summary_only",
        "scores.csv",
        10,
    )
    assert (settings.retry_settings.max_retries, settings.retry_settings.timeout) == (1, 300)
    assert settings.logging_level == "debug" and settings.environment_variables == {"THRESHOLD": "0.5"}


def test_older_top_level_settings_read_and_azure_defaults_fill_the_rest(tmp_path):
    path = write(
        tmp_path / "old.yml",
        """\
        name: blue
        endpoint_name: ep
        model: azureml:ridge:1
        max_concurrency_per_instance: 3
        mini_batch_size: 1mb
    """,
    )
    settings = load_batch_deployment(path).batch_settings()
    assert settings.max_concurrency_per_instance == 3 and settings.batch_limit() == ("bytes", 1024**2)
    assert settings.output_action == "append_row" and settings.output_file_name == "predictions.csv"
    assert (settings.retry_settings.max_retries, settings.retry_settings.timeout) == (3, 30)
    assert settings.error_threshold == -1 and settings.logging_level == "info"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            "mini_batch_size: 10\nsettings: {mini_batch_size: 20}",
            r"bad.yml: .*mini_batch_size: given both at the top level and under settings",
        ),
        (
            "settings: {mini_batch_size: lots}",
            r"bad.yml: settings.mini_batch_size: expected a number of files or rows",
        ),
        (
            "settings: {output_action: append_rows}",
            r"bad.yml: settings.output_action: expected 'append_row' or 'summary_only'",
        ),
        (
            "settings: {error_threshold: -2}",
            r"bad.yml: settings.error_threshold: .*greater than or equal to -1",
        ),
        (
            "settings: {retry_settings: {max_retries: x}}",
            r"bad.yml: settings.retry_settings.max_retries: expected integer, got 'x'",
        ),
        (
            "settings: {output_file_name: ../up.csv}",
            r"bad.yml: settings.output_file_name: expected a plain file name",
        ),
        ("settings: {logging_level: loud}", r"bad.yml: settings.logging_level: expected one of debug, info"),
        (
            "resources: {instance_count: 0}",
            r"bad.yml: resources.instance_count: .*greater than or equal to 1",
        ),
        ("mini_bach_size: 3", r"bad.yml: mini_bach_size: unknown field .*did you mean 'mini_batch_size'"),
        (
            "code_configuration: {code: ./src}",
            r"bad.yml: code_configuration.scoring_script: required field is missing",
        ),
    ],
)
def test_mistakes_are_named_with_file_and_field(tmp_path, change, message):
    path = write(tmp_path / "bad.yml", f"name: blue\nendpoint_name: ep\nmodel: ridge:1\n{change}\n")
    with checking_specs(strict=True), pytest.raises(InvalidSpec, match=message):
        load_batch_deployment(path)


def test_a_deployment_needs_a_model_and_an_endpoint(tmp_path):
    with pytest.raises(InvalidSpec, match=r"d.yml: endpoint_name: required field is missing") as caught:
        load_batch_deployment(write(tmp_path / "d.yml", "name: blue\n"))
    assert "d.yml: model: required field is missing" in caught.value.message


def test_pipeline_deployments_and_inline_models_are_refused_with_what_to_do(tmp_path):
    with pytest.raises(InvalidSpec, match=r"p.yml: .*type: pipeline deployments .* not supported"):
        load_batch_deployment(
            write(tmp_path / "p.yml", "name: p\nendpoint_name: ep\ntype: pipeline\ncomponent: x\n")
        )
    with pytest.raises(InvalidSpec, match=r"m.yml: .*register it first"):
        load_batch_deployment(
            write(tmp_path / "m.yml", "name: m\nendpoint_name: ep\nmodel: {path: ./model}\n")
        )


def test_endpoint_yaml_reads_and_ignores_cloud_fields(tmp_path):
    spec = load_batch_endpoint(
        write(
            tmp_path / "endpoint.yml",
            """\
        $schema: https://azuremlschemas.azureedge.net/latest/batchEndpoint.schema.json
        name: mnist-batch
        description: scores images
        auth_mode: aad_token
        tags: {team: vision}
    """,
        )
    )
    assert (spec.name, spec.description, spec.tags) == ("mnist-batch", "scores images", {"team": "vision"})
    with (
        checking_specs(strict=True),
        pytest.raises(InvalidSpec, match=r"e.yml: descripton: unknown field .*did you mean 'description'"),
    ):
        load_batch_endpoint(write(tmp_path / "e.yml", "name: x\ndescripton: y\n"))
