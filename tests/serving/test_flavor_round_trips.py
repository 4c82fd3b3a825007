"""Each flavor end to end: save → serve in a real instance process → the model's own predictions.

All instances of the module start at once (their loading overlaps) and stop when it ends.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from .conftest import Instance, StartInstance, save_model, save_pyfunc_model

FLAVORS = ["sklearn", "pytorch", "onnx", "mlflow-sklearn", "mlflow-pyfunc", "custom"]


def _torch_module() -> Any:
    import torch

    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(10, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))


def _write(flavor: str, folder: Path, ridge: Ridge, features: np.ndarray) -> None:
    if flavor in ("sklearn", "custom"):
        save_model(folder, ridge, flavor, features[:5])
    elif flavor == "pytorch":
        save_model(folder, _torch_module(), "pytorch", features[:5].astype(np.float32))
    elif flavor == "onnx":
        from skl2onnx import to_onnx

        save_model(folder, to_onnx(ridge, features[:1].astype(np.float32), target_opset=17), "onnx")
    elif flavor == "mlflow-sklearn":
        import mlflow.sklearn

        mlflow.sklearn.save_model(ridge, str(folder))
    elif flavor == "mlflow-pyfunc":
        import pandas as pd
        from mlflow.models import infer_signature

        example = pd.DataFrame(features[:5], columns=[f"f{i}" for i in range(10)])
        signature = infer_signature(example, np.zeros(5))
        save_pyfunc_model(folder, "model_input.to_numpy() @ np.arange(1.0, 11.0)", signature)


def _expected(flavor: str, ridge: Ridge, rows: np.ndarray) -> np.ndarray:
    if flavor == "pytorch":
        import torch

        with torch.inference_mode():
            return np.asarray(_torch_module()(torch.from_numpy(rows.astype(np.float32))).numpy())
    if flavor == "onnx":
        import onnxruntime
        from skl2onnx import to_onnx

        graph = to_onnx(ridge, rows[:1].astype(np.float32), target_opset=17)
        session = onnxruntime.InferenceSession(graph.SerializeToString())
        return np.asarray(session.run(None, {session.get_inputs()[0].name: rows.astype(np.float32)})[0])
    if flavor == "mlflow-pyfunc":
        return rows @ np.arange(1.0, 11.0)
    return np.asarray(ridge.predict(rows))


@pytest.fixture(scope="module")
def instances(
    ridge: Ridge,
    diabetes: tuple[np.ndarray, np.ndarray],
    start_module_instance: StartInstance,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Instance]:
    root = tmp_path_factory.mktemp("flavors")
    started = {}
    for flavor in FLAVORS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # mlflow's advice on signatures and type hints
            _write(flavor, root / flavor, ridge, diabetes[0])
        env = {"MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true"} if flavor == "mlflow-pyfunc" else None
        started[flavor] = start_module_instance(
            "--model-dir", root / flavor, "--name", flavor, env=env, wait_ready=False
        )
    for instance in started.values():
        instance.wait_loaded()
    return started


@pytest.mark.parametrize("flavor", FLAVORS)
@pytest.mark.parametrize("count", [1, 25])
def test_a_saved_model_served_answers_what_the_model_predicts(
    instances: dict[str, Instance],
    ridge: Ridge,
    diabetes: tuple[np.ndarray, np.ndarray],
    flavor: str,
    count: int,
) -> None:
    instance = instances[flavor]
    rows = diabetes[0][:count]
    ready = instance.get("/ready")
    assert ready.status_code == 200, instance.output()
    if flavor == "mlflow-pyfunc":
        body: dict[str, Any] = {
            "dataframe_split": {"columns": [f"f{i}" for i in range(10)], "data": rows.tolist()}
        }
    else:
        body = {
            "input_data": {
                "columns": [f"c{i}" for i in range(10)],
                "index": list(range(count)),
                "data": rows.tolist(),
            }
        }
    response = instance.post("/score", body)
    assert response.status_code == 200, response.text
    expected = _expected(flavor, ridge, rows)
    got = np.asarray(response.json(), dtype=expected.dtype)
    if flavor == "mlflow-pyfunc":  # pandas hands the model a column-major copy: last-bit differences
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    else:
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("flavor", ["pytorch", "onnx"])
def test_v2_infer_of_a_float32_model_answers_fp32_outputs(
    instances: dict[str, Instance], ridge: Ridge, diabetes: tuple[np.ndarray, np.ndarray], flavor: str
) -> None:
    rows = diabetes[0][:3]
    body = {"inputs": [{"name": "x", "shape": [3, 10], "datatype": "FP32", "data": rows.ravel().tolist()}]}
    response = instances[flavor].post(f"/v2/models/{flavor}/infer", body)
    assert response.status_code == 200, response.text
    [output] = response.json()["outputs"]
    assert output["datatype"] == "FP32" and output["shape"] == [3, 1]
    np.testing.assert_allclose(output["data"], _expected(flavor, ridge, rows).ravel(), rtol=1e-6)


def test_a_tensor_model_refuses_the_wrong_width_with_a_422(instances: dict[str, Instance]) -> None:
    response = instances["onnx"].post("/score", {"input_data": [[1.0, 2.0]]})
    assert response.status_code == 422
    assert response.json()["message"] == "input_data has shape [1, 2]; the model takes shape [-1, 10]"
