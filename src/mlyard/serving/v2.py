"""Open Inference Protocol V2 (KServe, MLServer, Triton) over JSON: infer requests and responses.

    POST /v2/models/{name}/infer
    {"id": "1", "inputs": [{"name": "input-0", "shape": [2, 10], "datatype": "FP64", "data": [...]}]}
    → {"model_name": "...", "id": "1",
       "outputs": [{"name": "predict", "shape": [2], "datatype": "FP64", "data": [...]}]}

One input is a tensor (rows × features; for a column model its features are the columns in
order). Several inputs are columns, matched to the model's columns by name.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mlyard.errors import InputMismatch
from mlyard.serving.inputs import Batch, decode_json, from_array, from_columns
from mlyard.serving.schema import InputSchema

DATATYPES = {
    "BOOL": "bool",
    "UINT8": "uint8",
    "UINT16": "uint16",
    "UINT32": "uint32",
    "UINT64": "uint64",
    "INT8": "int8",
    "INT16": "int16",
    "INT32": "int32",
    "INT64": "int64",
    "FP16": "float16",
    "FP32": "float32",
    "FP64": "float64",
    "BYTES": "object",
}
_FROM_NUMPY = {numpy: v2 for v2, numpy in DATATYPES.items()}
_FROM_DTYPE = {np.dtype(numpy): v2 for v2, numpy in DATATYPES.items() if numpy != "object"}


def parse_infer_request(body: bytes, schema: InputSchema | None) -> tuple[Batch, Any]:
    """The batch of a V2 infer request and its `id` (None when not given)."""
    document = decode_json(body)
    if (
        not isinstance(document, dict)
        or not isinstance(document.get("inputs"), list)
        or not document["inputs"]
    ):
        raise InputMismatch(
            "a V2 infer request is an object with 'inputs': a list of {name, shape, datatype, data}"
        )
    tensors = [_tensor(spec, i) for i, spec in enumerate(document["inputs"])]
    if len(tensors) == 1:
        name, array = tensors[0]
        if schema is not None and schema.columns is not None and len(schema.names) == 1 and array.ndim == 1:
            batch = from_columns({name: array.tolist()}, schema, "inputs")
        else:
            batch = from_array(array, schema, f"input {name!r}")
    else:
        columns = {name: array.reshape(array.shape[0], -1)[:, 0].tolist() for name, array in tensors}
        batch = from_columns(columns, schema, "inputs")
    return batch, document.get("id")


def _tensor(spec: Any, position: int) -> tuple[str, np.ndarray[Any, Any]]:
    if not isinstance(spec, dict):
        raise InputMismatch(f"inputs[{position}] must be an object with name, shape, datatype and data")
    name = spec.get("name")
    if not isinstance(name, str):
        raise InputMismatch(f"inputs[{position}] needs a 'name'")
    for field in ("shape", "datatype", "data"):
        if field not in spec:
            raise InputMismatch(f"input {name!r} needs '{field}'")
    shape, datatype, data = spec["shape"], spec["datatype"], spec["data"]
    if not isinstance(shape, list) or not all(isinstance(dim, int) and dim >= 0 for dim in shape):
        raise InputMismatch(f"input {name!r}: shape must be a list of non-negative integers, got {shape!r}")
    dtype = DATATYPES.get(datatype) if isinstance(datatype, str) else None
    if dtype is None:
        raise InputMismatch(
            f"input {name!r}: unknown datatype {datatype!r}; valid ones are: {', '.join(DATATYPES)}"
        )
    try:
        values = np.asarray(data, dtype=object if dtype == "object" else None)
    except ValueError:
        raise InputMismatch(f"input {name!r}: data is ragged") from None
    if dtype != "object" and values.dtype.kind not in "fiub":
        raise InputMismatch(f"input {name!r}: datatype {datatype} needs numbers in data")
    expected = math.prod(shape)
    if values.size != expected:
        raise InputMismatch(f"input {name!r}: shape {shape} needs {expected} values, data has {values.size}")
    return name, values.astype(dtype, copy=False).reshape(shape)


def infer_response(
    predictions: Any, *, model_name: str, model_version: str | None, request_id: Any, output_names: list[str]
) -> dict[str, Any]:
    """The V2 response for a model's predictions (one output, or one per named output)."""
    if isinstance(predictions, dict):
        outputs = [_output(str(name), value) for name, value in predictions.items()]
    elif isinstance(predictions, list) and predictions and all(hasattr(p, "shape") for p in predictions):
        names = output_names if len(output_names) == len(predictions) else []
        outputs = [_output(names[i] if names else f"output-{i}", p) for i, p in enumerate(predictions)]
    else:
        outputs = [_output(output_names[0] if output_names else "predict", predictions)]
    response: dict[str, Any] = {"model_name": model_name, "outputs": outputs}
    if model_version is not None:
        response["model_version"] = model_version
    if request_id is not None:
        response["id"] = request_id
    return response


def _output(name: str, value: Any) -> dict[str, Any]:
    array = value if isinstance(value, np.ndarray) else np.asarray(_plain_list(value))
    datatype = _FROM_DTYPE.get(array.dtype, "BYTES")
    data: Any = np.ascontiguousarray(array).ravel()
    if datatype == "BYTES":
        data = [item if isinstance(item, str) else str(item) for item in data.tolist()]
    return {"name": name, "shape": list(array.shape), "datatype": datatype, "data": data}


def _plain_list(value: Any) -> Any:
    tolist = getattr(value, "tolist", None)
    return tolist() if callable(tolist) else value


def model_metadata(
    name: str, version: str | None, platform: str, schema: InputSchema | None, output_names: list[str]
) -> dict[str, Any]:
    """GET /v2/models/{name}: the inputs the model takes and the outputs it gives."""
    inputs: list[dict[str, Any]]
    if schema is None:
        inputs = []
    elif schema.columns is not None:
        inputs = [
            {"name": c.name, "datatype": _column_datatype(c.type), "shape": [-1]} for c in schema.columns
        ]
    else:
        dtype = _FROM_NUMPY.get(str(np.dtype(schema.dtype or "float64")), "FP64")
        shape = [-1 if dim is None else dim for dim in schema.shape or ()]
        inputs = [{"name": "input-0", "datatype": dtype, "shape": shape}]
    metadata: dict[str, Any] = {
        "name": name,
        "versions": [version] if version else [],
        "platform": platform,
        "inputs": inputs,
        "outputs": [{"name": output, "datatype": "FP64", "shape": [-1]} for output in output_names],
    }
    return metadata


def _column_datatype(column_type: str) -> str:
    return {"number": "FP64", "integer": "INT64", "boolean": "BOOL"}.get(column_type, "BYTES")
