"""The REST API through FastAPI's TestClient, on SQLite and PostgreSQL: what a client sees."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mlyard.services.data_assets import data
from mlyard.services.model_registry import models
from mlyard.services.tracking import jobs
from tests.server import API, TEST_BODY_LIMIT


def start_run(api, **body) -> str:
    done = api.post(f"{API}/jobs", json=body)
    assert done.status_code == 201, done.text
    return done.json()["id"]


def assert_error(response, status: int, code: str, *fragments: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_code", "message"} and body["error_code"] == code
    for fragment in fragments:
        assert fragment in body["message"], body["message"]


# --- server and workspaces ---------------------------------------------------------------------


def test_health_lists_each_workspace_and_its_database(api):
    done = api.get("/healthz")
    assert done.status_code == 200
    assert done.json() == {"status": "ok", "workspaces": {"default": "ok"}}


def test_workspaces_are_listed_and_described(api, workspace):
    assert api.get("/api/v1/workspaces").json() == {"value": [{"name": "default"}]}
    from mlyard.services.workspaces.stats import workspace_overview

    described = workspace_overview(workspace)  # where it keeps things, and what it holds
    assert api.get(API).json() == {**described, "name": "default"}  # database URL without password
    assert described["jobs"] == 0 and described["schema_revision"] == described["schema_head"]


def test_unknown_workspace_is_404_naming_it_and_the_served_ones(api):
    assert_error(
        api.get("/api/v1/workspaces/prod/jobs"),
        404,
        "RESOURCE_DOES_NOT_EXIST",
        "workspace 'prod' is not served here",
        "serves: default",
    )


def test_every_response_carries_a_request_id_and_a_valid_one_is_echoed(api):
    generated = api.get("/healthz").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert (
        api.get("/healthz", headers={"x-request-id": "ci-run-42.a"}).headers["x-request-id"] == "ci-run-42.a"
    )
    replaced = api.get("/healthz", headers={"x-request-id": "bad id\twith spaces"}).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", replaced)
    assert api.get("/nowhere").headers["x-request-id"]


def test_metrics_count_requests_by_route_template_and_status(api):
    run_id = start_run(api)
    api.get(f"{API}/jobs/{run_id}")
    api.get(f"{API}/jobs/no-such-job")
    api.get("/no/such/path")
    text = api.get("/metrics").text
    route = "/api/v1/workspaces/{ws}/jobs/{job_id}"
    assert f'mlyard_http_requests_total{{method="GET",route="{route}",status="200"}} 1.0' in text
    assert f'mlyard_http_requests_total{{method="GET",route="{route}",status="404"}} 1.0' in text
    assert 'mlyard_http_requests_total{method="GET",route="<unmatched>",status="404"} 1.0' in text
    assert (
        f'mlyard_http_request_duration_seconds_count{{method="GET",route="{route}",status="200"}} 1.0' in text
    )


def test_unknown_routes_and_methods_answer_in_the_error_shape(api):
    assert_error(api.get("/api/v1/nothing"), 404, "ENDPOINT_NOT_FOUND", "GET /api/v1/nothing", "/docs")
    refused = api.delete("/healthz")
    assert_error(refused, 405, "METHOD_NOT_ALLOWED", "DELETE")
    assert refused.headers["allow"] == "GET"


def test_an_unexpected_exception_is_a_logged_500_in_the_error_shape(app, api, caplog):
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("kaboom")

    done = api.get("/boom", headers={"x-request-id": "trace-me"})
    assert_error(done, 500, "INTERNAL_ERROR", "request id trace-me", "bug")
    assert done.headers["x-request-id"] == "trace-me"
    assert "kaboom" in caplog.text and "trace-me" in caplog.text


def test_openapi_docs_are_served(api):
    spec = api.get("/openapi.json").json()
    assert "/api/v1/workspaces/{ws}/jobs/{job_id}/log-batch" in spec["paths"]
    assert api.get("/docs").status_code == 200


# --- tracked runs --------------------------------------------------------------------------------


def test_a_tracked_run_is_started_logged_in_batches_ended_and_read_back(api):
    started = api.post(
        f"{API}/jobs", json={"experiment": "diabetes", "display_name": "ridge", "tags": {"team": "clinic"}}
    )
    assert started.status_code == 201
    run = started.json()
    assert (
        run["status"] == "Running" and run["experiment"] == "diabetes" and run["tags"] == {"team": "clinic"}
    )

    batch = {
        "params": {"alpha": 0.5, "solver": "auto"},
        "metrics": [{"key": "train/loss", "value": 1 / (s + 1), "step": s} for s in range(5)]
        + [{"key": "mse", "value": 2950.0, "step": 0, "timestamp": 1_700_000_000_000}],
        "tags": {"stage": "fit"},
    }
    logged = api.post(f"{API}/jobs/{run['id']}/log-batch", json=batch)
    assert logged.status_code == 204 and logged.content == b""

    ended = api.post(f"{API}/jobs/{run['id']}/end", json={"status": "Completed"})
    assert ended.status_code == 200
    job = ended.json()
    assert job["status"] == "Completed" and job["end_time"] is not None
    assert job["params"] == {"alpha": "0.5", "solver": "auto"}
    assert job["metrics"] == {"train/loss": 0.2, "mse": 2950.0}
    assert job["tags"] == {"team": "clinic", "stage": "fit"}

    history = api.get(f"{API}/jobs/{run['id']}/metrics/train/loss").json()
    assert history["key"] == "train/loss"
    assert [(p["step"], p["value"]) for p in history["value"]] == [(s, 1 / (s + 1)) for s in range(5)]
    mse = api.get(f"{API}/jobs/{run['id']}/metrics/mse").json()["value"]
    assert mse == [{"key": "mse", "value": 2950.0, "step": 0, "timestamp": 1_700_000_000_000}]
    assert api.get(f"{API}/jobs/{run['id']}").json()["status"] == "Completed"


def test_search_filters_orders_and_selects_experiments_and_children(api):
    for alpha, mse in [(0.1, 3100.0), (0.5, 2950.0), (0.9, 3300.0)]:
        run_id = start_run(api, experiment="diabetes")
        api.post(
            f"{API}/jobs/{run_id}/log-batch",
            json={"params": {"alpha": alpha}, "metrics": [{"key": "mse", "value": mse}]},
        )
    other = start_run(api, experiment="other")
    child = start_run(api, experiment="other", parent_job_id=other)

    found = api.get(f"{API}/jobs", params={"filter": "metrics.mse < 3200", "order_by": "metrics.mse ASC"})
    assert [j["metrics"]["mse"] for j in found.json()["value"]] == [2950.0, 3100.0]
    in_experiment = api.get(f"{API}/jobs", params={"experiment": ["other"]}).json()["value"]
    assert {j["id"] for j in in_experiment} == {other, child}
    assert (
        len(api.get(f"{API}/jobs", params={"experiment": "diabetes", "max_results": 2}).json()["value"]) == 2
    )
    children = api.get(f"{API}/jobs", params={"parent_job_name": other}).json()["value"]
    assert [j["id"] for j in children] == [child]
    top_level = api.get(f"{API}/jobs", params={"parent_job_name": ""}).json()["value"]
    assert child not in {j["id"] for j in top_level} and len(top_level) == 4


def test_cancel_asks_a_running_job_to_stop_and_refuses_an_ended_one(api):
    run_id = start_run(api)
    done = api.post(f"{API}/jobs/{run_id}/cancel")
    assert done.status_code == 200 and done.json() == {"id": run_id, "status": "CancelRequested"}
    api.post(f"{API}/jobs/{run_id}/end", json={"status": "Canceled"})
    assert_error(api.post(f"{API}/jobs/{run_id}/cancel"), 409, "CONFLICT", "already ended as Canceled")


def test_a_failed_run_records_its_error(api):
    run_id = start_run(api)
    ended = api.post(f"{API}/jobs/{run_id}/end", json={"status": "Failed", "error": "out of memory"}).json()
    assert ended["status"] == "Failed" and ended["error"] == "out of memory"


# --- registry (read-only) -------------------------------------------------------------------------


def test_data_assets_are_read_by_version_and_latest_label(api, workspace, tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("a,b\n1,2\n3,4\n")
    data.create_data_asset(workspace, "diabetes", csv, tags={"src": "test"})
    csv.write_text("a,b\n1,2\n3,4\n5,6\n")
    data.create_data_asset(workspace, "diabetes", csv)

    listed = api.get(f"{API}/data").json()["value"]
    assert [(a["name"], a["version"]) for a in listed] == [("diabetes", "2")]
    assert listed[0]["profile"] is None  # lists leave profiles out
    versions = api.get(f"{API}/data/diabetes/versions").json()["value"]
    assert [a["version"] for a in versions] == ["2", "1"]
    first = api.get(f"{API}/data/diabetes/versions/1").json()
    assert first["row_count"] == 2 and first["tags"] == {"src": "test"} and first["schema"]
    assert [c["name"] for c in first["profile"]] == ["a", "b"]
    assert api.get(f"{API}/data/diabetes/labels/latest").json()["version"] == "2"

    assert_error(api.get(f"{API}/data/diabetes/versions/9"), 404, "RESOURCE_DOES_NOT_EXIST", "no version '9'")
    assert_error(api.get(f"{API}/data/nothing/versions"), 404, "RESOURCE_DOES_NOT_EXIST", "'nothing'")
    assert_error(
        api.get(f"{API}/data/diabetes/labels/prod"), 404, "RESOURCE_DOES_NOT_EXIST", "one label: latest"
    )


def test_models_versions_and_aliases_are_read(api, workspace, tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    for version in ("1", "2"):
        (folder / "weights.txt").write_text(f"weights {version}")
        models.register_model_folder(workspace, "churn", folder, tags={"v": version})
    models.set_alias(workspace, "churn", "production", "1")

    listed = api.get(f"{API}/models").json()["value"]
    assert [(m["name"], m["latest_version"], m["aliases"]) for m in listed] == [
        ("churn", "2", {"production": "1"})
    ]
    versions = api.get(f"{API}/models/churn/versions").json()["value"]
    assert [v["version"] for v in versions] == ["2", "1"]
    one = api.get(f"{API}/models/churn/versions/1").json()
    assert one["aliases"] == ["production"] and one["tags"] == {"v": "1"} and one["flavor"] == "custom"
    assert api.get(f"{API}/models/churn/aliases/production").json()["version"] == "1"
    assert api.get(f"{API}/models/churn/aliases/latest").json()["version"] == "2"

    assert_error(
        api.get(f"{API}/models/churn/aliases/staging"), 404, "RESOURCE_DOES_NOT_EXIST", "no alias 'staging'"
    )
    assert_error(api.get(f"{API}/models/churn/versions/7"), 404, "RESOURCE_DOES_NOT_EXIST", "no version '7'")
    assert_error(api.get(f"{API}/models/nope/versions"), 404, "RESOURCE_DOES_NOT_EXIST", "model 'nope'")


# --- bad input: 4xx with a message, never 500, nothing half-written ----------------------------


def test_malformed_json_is_400_with_where_it_broke(api):
    run_id = start_run(api)
    done = api.post(
        f"{API}/jobs/{run_id}/log-batch",
        content=b'{"metrics": [',
        headers={"content-type": "application/json"},
    )
    assert_error(done, 400, "INVALID_PARAMETER_VALUE", "malformed JSON body", "at character")


def test_wrong_types_and_unknown_fields_are_400_naming_each_field(api):
    run_id = start_run(api)
    done = api.post(
        f"{API}/jobs/{run_id}/log-batch",
        json={
            "metrics": [{"key": "loss", "value": 1.0, "step": "first"}],
            "params": {"a": [1]},
            "paramz": {},
        },
    )
    assert_error(
        done,
        400,
        "INVALID_PARAMETER_VALUE",
        "'metrics[0].step'",
        "valid integer",
        "'params.a'",
        "'paramz': unknown field",
    )
    assert_error(
        api.post(f"{API}/jobs", json={"tags": "x"}), 400, "INVALID_PARAMETER_VALUE", "body field 'tags'"
    )
    assert_error(api.post(f"{API}/jobs", json=[1]), 400, "INVALID_PARAMETER_VALUE", "request body")
    assert_error(
        api.get(f"{API}/jobs", params={"max_results": "many"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "query parameter 'max_results'",
    )
    assert_error(
        api.post(f"{API}/jobs/{run_id}/end", json={"status": "Running"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "'status'",
    )
    assert_error(
        api.get(f"{API}/jobs", params={"filter": "metrics.mse <"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "invalid filter",
    )


@pytest.mark.parametrize("value", ["abc", None, True, "nan-ish", [1.0]])
def test_a_non_numeric_metric_value_is_400_naming_the_metric(api, value):
    run_id = start_run(api)
    body = json.dumps({"metrics": [{"key": "loss", "value": 1.0}, {"key": "accuracy", "value": value}]})
    done = api.post(
        f"{API}/jobs/{run_id}/log-batch", content=body, headers={"content-type": "application/json"}
    )
    assert_error(
        done,
        400,
        "INVALID_PARAMETER_VALUE",
        "'metrics[1].value'",
        "metric 'accuracy' must be a number",
    )


def test_nan_and_infinite_metrics_round_trip_as_mlflows_json_strings(api):
    run_id = start_run(api)
    points = [
        {"key": "loss", "value": "NaN", "step": 1},
        {"key": "grad", "value": "Infinity"},
        {"key": "floor", "value": "-Infinity"},
        {"key": "ok", "value": 2.5},
    ]
    logged = api.post(f"{API}/jobs/{run_id}/log-batch", json={"metrics": points})
    assert logged.status_code == 204, logged.text
    job = api.get(f"{API}/jobs/{run_id}")
    assert job.status_code == 200, job.text
    assert job.json()["metrics"] == {"loss": "NaN", "grad": "Infinity", "floor": "-Infinity", "ok": 2.5}
    history = api.get(f"{API}/jobs/{run_id}/metrics/loss").json()["value"]
    assert [(p["value"], p["step"]) for p in history] == [("NaN", 1)]
    listed = api.get(f"{API}/jobs", params={"order_by": "metrics.loss ASC"})
    assert listed.status_code == 200 and listed.json()["value"][0]["metrics"]["loss"] == "NaN"


def test_a_refused_batch_writes_nothing(api, workspace):
    run_id = start_run(api)
    bad_metric = {
        "params": {"alpha": "0.5"},
        "metrics": [{"key": "mse", "value": 1.0}, {"key": "r2", "value": "high"}],
    }
    assert api.post(f"{API}/jobs/{run_id}/log-batch", json=bad_metric).status_code == 400
    bad_key = {"params": {"alpha": "0.5"}, "metrics": [{"key": "bad'key", "value": 1.0}], "tags": {"t": "x"}}
    assert_error(
        api.post(f"{API}/jobs/{run_id}/log-batch", json=bad_key), 400, "INVALID_PARAMETER_VALUE", "bad'key"
    )
    job = jobs.get_job(workspace, run_id)
    assert job.params == {} and job.metrics == {} and job.tags == {}

    assert api.post(f"{API}/jobs/{run_id}/log-batch", json={"params": {"alpha": "0.5"}}).status_code == 204
    clash = {"params": {"alpha": "0.9"}, "metrics": [{"key": "mse", "value": 1.0}], "tags": {"t": "x"}}
    assert_error(
        api.post(f"{API}/jobs/{run_id}/log-batch", json=clash), 409, "CONFLICT", "param 'alpha'", "immutable"
    )
    job = jobs.get_job(workspace, run_id)
    assert job.params == {"alpha": "0.5"} and job.metrics == {} and job.tags == {}


def test_unknown_job_is_404_and_ending_an_ended_job_is_409(api):
    for response in (
        api.get(f"{API}/jobs/no-such-job"),
        api.post(f"{API}/jobs/no-such-job/log-batch", json={"params": {"a": 1}}),
        api.post(f"{API}/jobs/no-such-job/end"),
        api.get(f"{API}/jobs/no-such-job/metrics/loss"),
    ):
        assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST", "job 'no-such-job' does not exist")
    run_id = start_run(api)
    assert api.post(f"{API}/jobs/{run_id}/end").status_code == 200
    assert_error(api.post(f"{API}/jobs/{run_id}/end"), 409, "CONFLICT", "already ended as Completed")
    assert_error(
        api.post(f"{API}/jobs", json={"parent_job_id": "ghost"}), 404, "RESOURCE_DOES_NOT_EXIST", "'ghost'"
    )


def test_an_oversize_body_is_413_by_declared_length_and_while_streaming(api, workspace):
    run_id = start_run(api)
    points = [{"key": "loss", "value": 1.0, "step": s} for s in range(TEST_BODY_LIMIT // 20)]
    body = json.dumps({"metrics": points}).encode()
    assert len(body) > TEST_BODY_LIMIT
    declared = api.post(
        f"{API}/jobs/{run_id}/log-batch", content=body, headers={"content-type": "application/json"}
    )
    assert_error(declared, 413, "REQUEST_TOO_LARGE", "limit is 65,536 bytes")

    def chunks():  # no Content-Length: the limit is enforced as the body arrives
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    streamed = api.post(
        f"{API}/jobs/{run_id}/log-batch", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_error(streamed, 413, "REQUEST_TOO_LARGE", "more than 65,536 bytes")
    assert jobs.get_job(workspace, run_id).metrics == {}


def test_one_server_serves_several_workspaces_and_health_names_a_broken_one(tmp_path):
    from fastapi.testclient import TestClient

    from mlyard.server.app import create_app
    from mlyard.server.config import ServerConfig, WorkspaceLocation
    from mlyard.services.workspaces.workspace import create_workspace

    create_workspace(tmp_path / "dev")
    broken = tmp_path / "prod"
    broken.mkdir()
    (broken / "workspace.yaml").write_text(
        "name: prod\ndatabase: postgresql+psycopg://postgres@127.0.0.1:1/gone\nartifacts: artifacts\n"
    )
    config = ServerConfig({"dev": WorkspaceLocation(tmp_path / "dev"), "prod": WorkspaceLocation(broken)})
    with TestClient(create_app(config)) as api:
        assert api.get("/api/v1/workspaces").json() == {"value": [{"name": "dev"}, {"name": "prod"}]}
        assert api.post("/api/v1/workspaces/dev/jobs", json={}).status_code == 201
        health = api.get("/healthz")
        assert health.status_code == 503
        report = health.json()
        assert report["status"] == "unavailable" and report["workspaces"]["dev"] == "ok"
        assert "workspace 'prod' is unavailable" in report["workspaces"]["prod"]
        assert_error(api.get("/api/v1/workspaces/prod/jobs"), 503, "STORE_UNAVAILABLE", "127.0.0.1:1")


def test_a_config_without_workspaces_or_with_a_bad_name_is_refused():
    from mlyard.errors import InvalidArgument
    from mlyard.server.app import create_app
    from mlyard.server.config import ServerConfig, WorkspaceLocation

    with pytest.raises(InvalidArgument, match="at least one workspace"):
        create_app(ServerConfig({}))
    with pytest.raises(InvalidArgument, match="invalid workspace name 'a b'"):
        create_app(ServerConfig({"a b": WorkspaceLocation(Path("x"))}))


def test_nul_characters_are_refused_by_field_before_reaching_the_database(api):
    # PostgreSQL text cannot hold NUL; the API refuses it on both backends alike.
    run_id = start_run(api)
    refused = api.post(f"{API}/jobs/{run_id}/log-batch", json={"params": {"a": "x\u0000"}})
    assert_error(refused, 400, "INVALID_PARAMETER_VALUE", "NUL characters", "params.a")
    assert_error(
        api.post(f"{API}/jobs", json={"display_name": "a\u0000"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "display_name",
    )
    assert_error(api.get(f"{API}/jobs/ab%00c"), 400, "INVALID_PARAMETER_VALUE", "path must not contain NUL")
    refused = api.get(f"{API}/jobs", params={"filter": "params.a = 'x\u0000'"})
    assert_error(refused, 400, "INVALID_PARAMETER_VALUE", "query parameter 'filter'")


def test_a_spec_sent_to_the_server_cannot_name_the_servers_own_files(api, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cr3t")
    refused = api.post(
        f"{API}/jobs/submit",
        json={
            "spec": {
                "command": "cat ${{inputs.x}}",
                "inputs": {"x": {"type": "uri_file", "path": str(secret)}},
            }
        },
    )
    assert_error(refused, 403, "PERMISSION_DENIED", "outside the files sent with the request")
    upload = api.post(f"{API}/uploads").json()["id"]
    api.put(f"{API}/uploads/{upload}/files/env.yml", content=b"name: e\npip_requirements: ../../secret.txt\n")
    refused = api.post(
        f"{API}/environments", json={"spec": {"name": "e", "pip_requirements": str(secret)}, "upload": upload}
    )
    assert_error(refused, 403, "PERMISSION_DENIED", "outside the files")
    refused = api.post(
        f"{API}/jobs/submit", json={"spec": {"type": "pipeline", "jobs": {"a": {"component": str(secret)}}}}
    )
    assert refused.status_code in (400, 403) and "outside the files" in refused.json()["message"]
    assert api.get(f"{API}/jobs").json()["value"] == []  # nothing was queued
