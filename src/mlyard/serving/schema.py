"""What a served model takes, as the request parser and /swagger.json need it.

An `InputSchema` is either named, typed columns (a DataFrame-like signature) or a tensor shape
with a dtype. It is built from mlyard's own signature (`mlyard-model.yaml`), from an MLflow
`MLmodel` signature, or from what the loaded model says about itself (scikit-learn's
`feature_names_in_` / `n_features_in_`, an ONNX graph's inputs). No schema means "take what
comes": the request's numbers go to the model as they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from mlyard.entities.registry.model import ModelSignature

# Column types, as mlyard's signatures name them (see flavors/signature.py); ANY checks nothing.
NUMBER, INTEGER, BOOLEAN, STRING, DATETIME, ANY = "number", "integer", "boolean", "string", "datetime", "any"
NUMERIC_TYPES = frozenset({NUMBER, INTEGER, BOOLEAN})

_MLFLOW_COLUMN_TYPES = {
    "double": NUMBER,
    "float": NUMBER,
    "long": INTEGER,
    "integer": INTEGER,
    "boolean": BOOLEAN,
    "string": STRING,
    "datetime": DATETIME,
}
_NUMPY_DTYPES = {"number": "float64", "integer": "int64", "boolean": "bool"}


@dataclass(frozen=True)
class Column:
    name: str
    type: str = ANY


@dataclass(frozen=True)
class InputSchema:
    """Named columns (`columns`) or one tensor (`shape`, first dimension None = any batch size)."""

    columns: tuple[Column, ...] | None = None
    shape: tuple[int | None, ...] | None = None
    dtype: str | None = None
    names: tuple[str, ...] = field(init=False, default=())
    positions: dict[str, int] = field(init=False, default_factory=dict)
    numeric: bool = field(init=False, default=False)  # every column is a number, integer or boolean
    maybe_numeric: bool = field(init=False, default=False)  # ... or of unknown type (ANY)

    def __post_init__(self) -> None:
        if self.columns is not None:
            names = tuple(column.name for column in self.columns)
            object.__setattr__(self, "names", names)
            object.__setattr__(self, "positions", {name: i for i, name in enumerate(names)})
            object.__setattr__(self, "numeric", all(c.type in NUMERIC_TYPES for c in self.columns))
            maybe = all(c.type in NUMERIC_TYPES or c.type == ANY for c in self.columns)
            object.__setattr__(self, "maybe_numeric", maybe)

    @property
    def is_tensor(self) -> bool:
        return self.columns is None

    def describe_columns(self, limit: int = 12) -> str:
        """'age, sex, bmi, ...' for error messages."""
        shown = ", ".join(self.names[:limit])
        return shown + (f", ... ({len(self.names)} in all)" if len(self.names) > limit else "")

    def describe_shape(self) -> str:
        return "[" + ", ".join("-1" if dim is None else str(dim) for dim in self.shape or ()) + "]"


def schema_from_signature(signature: ModelSignature | None) -> InputSchema | None:
    """The schema of an `mlyard-model.yaml` signature; None when there is none."""
    if signature is None:
        return None
    if signature.kind == "columns" and signature.columns:
        return InputSchema(
            columns=tuple(Column(c["name"], _known_type(c.get("type", ANY))) for c in signature.columns)
        )
    if signature.kind == "tensor" and signature.shape is not None:
        return InputSchema(shape=tuple(signature.shape), dtype=signature.dtype or "float64")
    return None


def schema_from_mlmodel(signature: dict[str, Any] | None) -> InputSchema | None:
    """The schema of an MLmodel file's `signature.inputs` (a JSON string, as MLflow writes it)."""
    if not signature or not signature.get("inputs"):
        return None
    inputs = signature["inputs"]
    specs = json.loads(inputs) if isinstance(inputs, str) else inputs
    if not isinstance(specs, list) or not specs:
        return None
    if all(spec.get("type") == "tensor" for spec in specs):
        if len(specs) != 1:
            return None  # several named tensors: passed through unchecked
        tensor = specs[0].get("tensor-spec", {})
        shape = tuple(None if dim == -1 else int(dim) for dim in tensor.get("shape", [-1]))
        return InputSchema(shape=shape, dtype=str(tensor.get("dtype", "float64")))
    columns = tuple(
        Column(str(spec.get("name", i)), _MLFLOW_COLUMN_TYPES.get(str(spec.get("type")), ANY))
        for i, spec in enumerate(specs)
    )
    return InputSchema(columns=columns)


def column_dtype(column_type: str) -> str | None:
    """The NumPy dtype a column of this type becomes; None for object columns."""
    return _NUMPY_DTYPES.get(column_type)


def _known_type(name: str) -> str:
    return name if name in (NUMBER, INTEGER, BOOLEAN, STRING, DATETIME) else ANY


# --- /swagger.json ------------------------------------------------------------------------------

_JSON_TYPES = {NUMBER: "number", INTEGER: "integer", BOOLEAN: "boolean", STRING: "string", DATETIME: "string"}
_EXAMPLES: dict[str, Any] = {NUMBER: 0.0, INTEGER: 0, BOOLEAN: False, STRING: "", DATETIME: "2024-01-01"}


def openapi_document(schema: InputSchema | None, *, name: str, flavor: str, raw: bool) -> dict[str, Any]:
    """An OpenAPI 3 description of POST /score, its input built from the model's schema."""
    if raw:
        request: dict[str, Any] = {
            "type": "object",
            "description": "passed as a string to the scoring script's run()",
        }
    else:
        request = _request_schema(schema)
    content: dict[str, Any] = {"schema": request}
    if not raw:
        content["example"] = _example(schema)
    body = {"required": True, "content": {"application/json": content}}
    errors = {"$ref": "#/components/schemas/Error"}
    responses: dict[str, Any] = {
        "200": {
            "description": "predictions, one per input row",
            "content": {"application/json": {"schema": {"type": "array", "items": {}}}},
        }
    }
    for status, what in (("400", "malformed JSON"), ("413", "body too large"), ("422", "input does not fit")):
        responses[status] = {"description": what, "content": {"application/json": {"schema": errors}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": f"{name} scoring", "version": "1.0", "description": f"mlyard {flavor} deployment"},
        "paths": {"/score": {"post": {"operationId": "score", "requestBody": body, "responses": responses}}},
        "components": {
            "schemas": {
                "ServiceInput": request,
                "Error": {
                    "type": "object",
                    "properties": {"error_code": {"type": "string"}, "message": {"type": "string"}},
                },
            }
        },
    }


def example_request(signature: ModelSignature | None) -> dict[str, Any]:
    """A scoring body that fits `signature` (one row of zeros and empty strings): the sample a
    user edits before trying a deployment."""
    return _example(schema_from_signature(signature))


def _request_schema(schema: InputSchema | None) -> dict[str, Any]:
    if schema is None or schema.is_tensor:
        item: dict[str, Any] = {"type": "array", "items": {"type": "number"}}
        if schema is not None and schema.shape is not None and len(schema.shape) == 2 and schema.shape[1]:
            item = {**item, "minItems": schema.shape[1], "maxItems": schema.shape[1]}
        split = {
            "type": "object",
            "required": ["data"],
            "properties": {"data": {"type": "array", "items": item}},
        }
        return {"type": "object", "properties": {"input_data": split}}
    columns = schema.columns or ()
    row = {
        "type": "array",
        "minItems": len(columns),
        "maxItems": len(columns),
        "items": {"anyOf": [{"type": _JSON_TYPES.get(c.type, "string")} for c in columns]},
    }
    split = {
        "type": "object",
        "required": ["columns", "data"],
        "properties": {
            "columns": {"type": "array", "items": {"type": "string", "enum": list(schema.names)}},
            "index": {"type": "array", "items": {"type": "integer"}},
            "data": {"type": "array", "items": row},
        },
        "x-column-types": {c.name: c.type for c in columns},
    }
    return {"type": "object", "required": ["input_data"], "properties": {"input_data": split}}


def _example(schema: InputSchema | None) -> dict[str, Any]:
    if schema is None or schema.is_tensor:
        width = (
            schema.shape[1] if schema and schema.shape and len(schema.shape) == 2 and schema.shape[1] else 1
        )
        return {"input_data": [[0.0] * width]}
    return {
        "input_data": {
            "columns": list(schema.names),
            "index": [0],
            "data": [[_EXAMPLES.get(c.type) for c in schema.columns or ()]],
        }
    }
