"""The REST API fuzzed from its own OpenAPI document (schemathesis): whatever a client sends,
valid or not, the server answers — never with a 5xx. Bounded: a few examples per operation."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

EXAMPLES_PER_OPERATION = 6
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory, diabetes_csv: Path):
    """The real app over a workspace holding a run, a data asset and a model to find."""
    from mlyard.server.app import create_app
    from mlyard.server.config import ServerConfig
    from mlyard.services.data_assets import data
    from mlyard.services.model_registry import models
    from mlyard.services.tracking import jobs
    from mlyard.services.workspaces.workspace import create_workspace

    root = tmp_path_factory.mktemp("fuzz")
    workspace, _ = create_workspace(root / "ws")
    job = jobs.start_job(workspace, experiment="fuzz")
    jobs.record_run_data(workspace, job.id, {"alpha": "0.5"}, [jobs.make_metric("mse", 1.0)], {})
    data.create_data_asset(workspace, "diabetes", diabetes_csv)
    folder = root / "model"
    folder.mkdir()
    (folder / "weights.txt").write_text("w")
    models.register_model_folder(workspace, "churn", folder)
    config = ServerConfig.single(root / "ws", auth=False)
    config.uploads_dir = root / "uploads"
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(config))


def _operations(schema: schemathesis.BaseSchema) -> list[schemathesis.APIOperation]:
    return [result.ok() for result in schema.get_all_operations()]


def test_the_schema_describes_every_route_family(api_schema):
    paths = {operation.path for operation in _operations(api_schema)}
    for family in (
        "/jobs",
        "/data",
        "/models",
        "/environments",
        "/components",
        "/keys",
        "/audit",
        "/queue",
        "/events",
        "/subscriptions",
        "/schedules",
        "/monitors",
    ):
        assert any(family in path for path in paths), family
    assert any(path.startswith("/api/2.0/mlflow") or "/mlflow/" in path for path in paths)


def test_no_request_makes_the_server_fail(api_schema):
    failures: list[str] = []
    for operation in _operations(api_schema):

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
            suppress_health_check=list(HealthCheck),
        )  # fmt: skip
        def fuzz(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=[not_a_server_error])

        try:
            fuzz()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then report all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
    served = _requests_served(api_schema)
    assert served >= 2 * len(_operations(api_schema)), served  # the fuzzing really reached the app


def _requests_served(api_schema: schemathesis.BaseSchema) -> float:
    from starlette.testclient import TestClient

    text = TestClient(api_schema.app).get("/metrics").text
    counts = [
        line.rsplit(" ", 1)[1] for line in text.splitlines() if line.startswith("mlyard_http_requests_total{")
    ]
    return sum(float(count) for count in counts)
