"""One instance process serving a scikit-learn model, over real HTTP: every contract and error.

The instance runs the diabetes Ridge fitted on a DataFrame (so its signature names the columns),
once for the module, on a free TCP port and a Unix socket at the same time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sklearn.linear_model import Ridge

from .conftest import Instance, StartInstance, save_model


@pytest.fixture(scope="module")
def model(diabetes_frame: Any) -> Ridge:
    return Ridge(alpha=0.5).fit(diabetes_frame.data, diabetes_frame.target)


@pytest.fixture(scope="module")
def instance(
    model: Ridge,
    diabetes_frame: Any,
    start_module_instance: StartInstance,
    tmp_path_factory: pytest.TempPathFactory,
) -> Instance:
    folder = save_model(
        tmp_path_factory.mktemp("model") / "ridge", model, "sklearn", diabetes_frame.data.head()
    )
    uds = tmp_path_factory.mktemp("sock") / "instance.sock"
    return start_module_instance(
        "--model-dir", folder, "--name", "diabetes", "--model-version", "3",
        "--port", "0", "--uds", uds, "--max-body-bytes", "200000",
    )  # fmt: skip


@pytest.fixture(scope="module")
def rows(diabetes_frame: Any) -> Any:
    return diabetes_frame.data.head(4)


def _assert_predictions(got: Any, model: Ridge, rows: Any) -> None:
    np.testing.assert_allclose(np.asarray(got), model.predict(rows), rtol=0, atol=1e-12)


def test_the_instance_says_where_it_listens_and_that_it_is_ready(instance: Instance) -> None:
    listening = next(line for line in instance.stdout_lines if line.startswith("mlyard-instance listening"))
    assert "name=diabetes" in listening and "http=127.0.0.1:" in listening and "uds=" in listening
    ready = next(line for line in instance.stdout_lines if line.startswith("mlyard-instance ready"))
    assert "flavor=sklearn" in ready


@pytest.mark.parametrize("path", ["/", "/live", "/v2/health/live"])
def test_liveness_routes_answer_200(instance: Instance, path: str) -> None:
    response = instance.get(path)
    assert response.status_code == 200 and response.json() == {"status": "alive"}


@pytest.mark.parametrize("path", ["/ready", "/ping", "/health", "/v2/health/ready"])
def test_readiness_routes_answer_200_once_loaded(instance: Instance, path: str) -> None:
    response = instance.get(path)
    assert response.status_code == 200 and response.json() == {"status": "ready", "flavor": "sklearn"}


def _bodies(rows: Any) -> dict[str, Any]:
    columns = list(rows.columns)
    data = rows.values.tolist()
    return {
        "input_data split": {
            "input_data": {"columns": columns, "index": list(range(len(data))), "data": data}
        },
        "input_data tensor": {"input_data": data},
        "input_data columns": {"input_data": {name: rows[name].tolist() for name in columns}},
        "dataframe_split": {"dataframe_split": {"columns": columns, "data": data}},
        "dataframe_records": {"dataframe_records": rows.to_dict(orient="records")},
        "instances": {"instances": data},
        "inputs": {"inputs": {name: rows[name].tolist() for name in columns}},
    }


@pytest.mark.parametrize(
    "shape",
    ["input_data split", "input_data tensor", "input_data columns", "dataframe_split", "dataframe_records",
     "instances", "inputs"],
)  # fmt: skip
def test_score_answers_a_bare_array_for_every_request_shape(
    instance: Instance, model: Ridge, rows: Any, shape: str
) -> None:
    response = instance.post("/score", _bodies(rows)[shape])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    _assert_predictions(response.json(), model, rows)


def test_score_over_the_unix_socket_answers_the_same(instance: Instance, model: Ridge, rows: Any) -> None:
    assert instance.uds is not None
    transport = httpx.HTTPTransport(uds=instance.uds)
    with httpx.Client(transport=transport, base_url="http://instance") as client:
        response = client.post("/score", json=_bodies(rows)["input_data split"])
    assert response.status_code == 200
    _assert_predictions(response.json(), model, rows)


def test_invocations_answers_predictions_as_mlflow_serves_them(
    instance: Instance, model: Ridge, rows: Any
) -> None:
    response = instance.post("/invocations", _bodies(rows)["dataframe_split"])
    assert response.status_code == 200
    assert list(response.json()) == ["predictions"]
    _assert_predictions(response.json()["predictions"], model, rows)


def test_the_request_id_is_echoed(instance: Instance, rows: Any) -> None:
    response = instance.post("/score", _bodies(rows)["instances"], headers={"x-request-id": "req-42"})
    assert response.headers["x-request-id"] == "req-42"


@pytest.mark.parametrize(
    ("columns_edit", "message"),
    [
        (lambda c: c[:-1], "missing column 's6'"),
        (lambda c: [*c[:-1], "s7"], "unknown column 's7'"),
    ],
)
def test_a_request_that_misses_or_adds_a_column_is_a_422_naming_it(
    instance: Instance, rows: Any, columns_edit: Any, message: str
) -> None:
    columns = columns_edit(list(rows.columns))
    body = {
        "input_data": {"columns": columns, "data": rows[list(rows.columns)[: len(columns)]].values.tolist()}
    }
    response = instance.post("/score", body)
    assert response.status_code == 422
    assert response.json()["error_code"] == "INVALID_INPUT"
    assert response.json()["message"].startswith(message)


def test_a_value_of_the_wrong_type_is_a_422_naming_the_column(instance: Instance, rows: Any) -> None:
    records = rows.to_dict(orient="records")
    records[1]["bmi"] = "heavy"
    response = instance.post("/score", {"dataframe_records": records})
    assert response.status_code == 422
    assert response.json() == {
        "error_code": "INVALID_INPUT",
        "message": "column 'bmi' expects number values, got 'heavy' (string) in row 1",
    }


def test_malformed_json_is_a_400(instance: Instance) -> None:
    response = instance.post("/score", b'{"input_data": [[1, 2', headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error_code"] == "BAD_REQUEST"
    assert response.json()["message"].startswith("the request body is not valid JSON")


def test_a_body_over_the_limit_is_a_413(instance: Instance) -> None:
    response = instance.post("/score", b"[" + b"1," * 150_000 + b"1]")
    assert response.status_code == 413
    assert response.json()["error_code"] == "REQUEST_TOO_LARGE"
    assert "at most 200,000 bytes" in response.json()["message"]


def test_a_chunked_body_over_the_limit_is_a_413(instance: Instance) -> None:
    def chunks() -> Any:
        for _ in range(30):
            yield b"x" * 10_000

    with instance.client() as client:
        response = client.post("/score", content=chunks())
    assert response.status_code == 413
    assert "more than 200,000 bytes" in response.json()["message"]


def test_an_unknown_route_is_a_404_listing_the_routes(instance: Instance) -> None:
    response = instance.get("/predict")
    assert response.status_code == 404
    assert response.json()["message"].startswith("no route GET /predict; this instance serves: GET /, ")


def test_a_wrong_method_is_a_405(instance: Instance) -> None:
    response = instance.get("/score")
    assert response.status_code == 405
    assert response.json() == {
        "error_code": "METHOD_NOT_ALLOWED",
        "message": "GET is not allowed on /score; use POST",
    }


# --- V2 -----------------------------------------------------------------------------------------


def test_v2_infer_answers_outputs_with_name_shape_datatype(
    instance: Instance, model: Ridge, rows: Any
) -> None:
    data = rows.values
    body = {
        "id": "abc",
        "inputs": [
            {"name": "x", "shape": list(data.shape), "datatype": "FP64", "data": data.ravel().tolist()}
        ],
    }
    response = instance.post("/v2/models/diabetes/infer", body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["model_name"] == "diabetes" and answer["model_version"] == "3" and answer["id"] == "abc"
    [output] = answer["outputs"]
    assert output["name"] == "predict" and output["shape"] == [4] and output["datatype"] == "FP64"
    _assert_predictions(output["data"], model, rows)


def test_v2_infer_with_one_input_per_column(instance: Instance, model: Ridge, rows: Any) -> None:
    inputs = [
        {"name": c, "shape": [len(rows)], "datatype": "FP64", "data": rows[c].tolist()} for c in rows.columns
    ]
    response = instance.post("/v2/models/diabetes/versions/3/infer", {"inputs": inputs})
    assert response.status_code == 200, response.text
    _assert_predictions(response.json()["outputs"][0]["data"], model, rows)


def test_v2_metadata_and_readiness(instance: Instance, rows: Any) -> None:
    metadata = instance.get("/v2/models/diabetes").json()
    assert (
        metadata["name"] == "diabetes" and metadata["versions"] == ["3"] and metadata["platform"] == "sklearn"
    )
    assert [i["name"] for i in metadata["inputs"]] == list(rows.columns)
    assert metadata["inputs"][0] == {"name": "age", "datatype": "FP64", "shape": [-1]}
    assert instance.get("/v2/models/diabetes/ready").json() == {"name": "diabetes", "ready": True}
    assert instance.get("/v2").json()["name"] == "mlyard"


def test_v2_for_another_model_name_is_a_404(instance: Instance) -> None:
    response = instance.post("/v2/models/other/infer", {"inputs": []})
    assert response.status_code == 404
    assert response.json()["message"] == "model 'other' is not served here; this instance serves 'diabetes'"


def test_v2_wrong_shape_is_a_422(instance: Instance) -> None:
    body = {"inputs": [{"name": "x", "shape": [1, 10], "datatype": "FP64", "data": [1.0] * 9}]}
    response = instance.post("/v2/models/diabetes/infer", body)
    assert response.status_code == 422
    assert response.json()["message"] == "input 'x': shape [1, 10] needs 10 values, data has 9"


# --- swagger ------------------------------------------------------------------------------------


def test_swagger_describes_the_input_columns_from_the_signature(instance: Instance, rows: Any) -> None:
    document = instance.get("/swagger.json").json()
    assert document["openapi"].startswith("3.")
    request = document["paths"]["/score"]["post"]["requestBody"]["content"]["application/json"]
    split = request["schema"]["properties"]["input_data"]
    assert split["properties"]["columns"]["items"]["enum"] == list(rows.columns)
    assert split["x-column-types"]["bmi"] == "number"
    assert request["example"]["input_data"]["columns"] == list(rows.columns)
    assert "422" in document["paths"]["/score"]["post"]["responses"]


def test_the_swagger_example_scores(instance: Instance) -> None:
    document = instance.get("/swagger.json").json()
    example = document["paths"]["/score"]["post"]["requestBody"]["content"]["application/json"]["example"]
    response = instance.post("/score", example)
    assert response.status_code == 200 and len(response.json()) == 1


def test_a_missing_model_folder_fails_loading_and_says_so(
    start_instance: StartInstance, tmp_path: Path
) -> None:
    instance = start_instance("--model-dir", tmp_path / "nothing", wait_ready=False)
    instance.wait_loaded()
    response = instance.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["state"] == "failed" and body["error_code"] == "NOT_READY"
    assert "does not exist" in body["message"] and "Traceback" in body["traceback"]
    scoring = instance.post("/score", {"input_data": [[1]]})
    assert scoring.status_code == 503 and json.loads(scoring.text)["error_code"] == "NOT_READY"
