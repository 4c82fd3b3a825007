"""Online endpoint and deployment YAML: Azure ML's fields and defaults, errors that name the field."""

from __future__ import annotations

import pytest

from mlyard.entities.endpoints.endpoint_spec import (
    deployment_spec_from_dict,
    endpoint_spec_from_dict,
    parse_traffic,
)
from mlyard.entities.specs.spec_warnings import checking_specs
from mlyard.errors import InvalidArgument, InvalidSpec


def test_an_azure_endpoint_yaml_reads_and_token_means_aml_token():
    spec = endpoint_spec_from_dict(
        {"name": "diabetes", "auth_mode": "Token", "identity": {"type": "system_assigned"}, "tags": {"n": 1}},
        "endpoint.yml",
    )
    assert (spec.name, spec.auth_mode, spec.tags) == ("diabetes", "aml_token", {"n": "1"})
    assert endpoint_spec_from_dict({"name": "diabetes"}, "e.yml").auth_mode == "key"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "x"}, r"endpoint.yml: name: invalid endpoint name 'x': 3 to 32 letters"),
        ({"name": "9lives"}, r"starting with a letter"),
        (
            {"name": "good-name", "auth_mode": "password"},
            r"endpoint.yml: auth_mode: expected 'key' or 'aml_token'",
        ),
        (
            {"name": "good-name", "traffic": {"blue": 120}},
            r"endpoint.yml: traffic.blue: .*less than or equal to 100",
        ),
        (
            {"name": "good-name", "auht_mode": "key"},
            r"unknown field 'auht_mode' \(did you mean 'auth_mode'\?\)",
        ),
    ],
)
def test_endpoint_mistakes_name_the_file_and_field(data, message):
    with checking_specs(strict=True), pytest.raises(InvalidSpec, match=message):
        endpoint_spec_from_dict(data, "endpoint.yml")


def test_a_deployment_yaml_gets_azure_defaults_and_ignores_cloud_only_fields():
    data = {
        "name": "blue", "endpoint_name": "diabetes", "model": "azureml:ridge@latest",
        "instance_type": "Standard_DS3_v2", "app_insights_enabled": True, "instance_count": 2,
        "code_configuration": {"code": "./src", "scoring_script": "score.py"},
        "data_collector": {
            "collections": {"model_inputs": {"enabled": "True"}, "model_outputs": {"enabled": "false"}}
        },
    }  # fmt: skip
    spec = deployment_spec_from_dict(data, "blue.yml")
    settings = spec.settings()
    assert settings.instance_count == 2
    assert settings.request_settings.model_dump() == {
        "request_timeout_ms": 5000, "max_concurrent_requests_per_instance": 1, "max_queue_wait_ms": 500,
    }  # fmt: skip
    assert settings.liveness_probe.model_dump() == {
        "initial_delay": 10, "period": 10, "timeout": 2, "success_threshold": 1, "failure_threshold": 30,
    }  # fmt: skip
    assert settings.data_collector is not None
    assert settings.data_collector.collects("model_inputs") and not settings.data_collector.collects(
        "model_outputs"
    )
    assert spec.code_configuration is not None and spec.code_configuration.scoring_script == "score.py"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "blue", "instance_count": 0}, r"blue.yml: instance_count: .*greater than or equal to 1"),
        (
            {"name": "blue", "request_settings": {"request_timeout_ms": "soon"}},
            r"blue.yml: request_settings.request_timeout_ms: expected integer, got 'soon'",
        ),
        (
            {"name": "blue", "request_settings": {"max_concurent_requests_per_instance": 2}},
            r"unknown field 'max_concurent_requests_per_instance' \(did you mean "
            r"'max_concurrent_requests_per_instance'\?\)",
        ),
        (
            {"name": "blue", "code_configuration": {"code": "."}},
            r"code_configuration.scoring_script: required",
        ),
        ({"name": "blue-", "model": "m:1"}, r"blue.yml: name: invalid deployment name 'blue-'"),
        (
            {"name": "blue", "data_collector": {"sampling_rate": 2}},
            r"data_collector.sampling_rate: .*less than or equal to 1",
        ),
    ],
)
def test_deployment_mistakes_name_the_file_and_field(data, message):
    with checking_specs(strict=True), pytest.raises(InvalidSpec, match=message):
        deployment_spec_from_dict(data, "blue.yml")


def test_traffic_pairs_parse_as_azure_writes_them():
    assert parse_traffic("blue=90 green=10") == {"blue": 90, "green": 10}
    assert parse_traffic("blue=90,green=10") == {"blue": 90, "green": 10}
    assert parse_traffic("") == {}
    with pytest.raises(
        InvalidArgument,
        match=r'--traffic expects DEPLOYMENT=PERCENT pairs such as "blue=90 green=10", got \'blue\'',
    ):
        parse_traffic("blue")
    with pytest.raises(InvalidArgument, match="got 'blue=ninety'"):
        parse_traffic("blue=ninety")
    with pytest.raises(InvalidArgument, match="names deployment 'blue' twice"):
        parse_traffic("blue=50 blue=50")
