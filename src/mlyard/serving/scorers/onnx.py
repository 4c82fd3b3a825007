"""ONNX graphs through onnxruntime: one input gets the batch as a tensor of the graph's dtype;
several inputs (skl2onnx's one-per-column graphs) get one [rows, 1] column each, by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mlyard.entities.registry.model import ModelMetadata
from mlyard.errors import InputMismatch
from mlyard.serving.inputs import Batch
from mlyard.serving.schema import (
    ANY,
    BOOLEAN,
    INTEGER,
    NUMBER,
    STRING,
    Column,
    InputSchema,
    schema_from_signature,
)

_ONNX_TYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(float16)": "float16",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(int8)": "int8",
    "tensor(uint8)": "uint8",
    "tensor(bool)": "bool",
    "tensor(string)": "object",
}
_COLUMN_TYPES = {"float32": NUMBER, "float64": NUMBER, "int64": INTEGER, "int32": INTEGER, "bool": BOOLEAN}


class OnnxScorer:
    flavor = "onnx"

    def __init__(self, session: Any, schema: InputSchema | None) -> None:
        self.session = session
        self.inputs = [(i.name, np.dtype(_ONNX_TYPES.get(i.type, "float32"))) for i in session.get_inputs()]
        self.outputs = [o.name for o in session.get_outputs()]
        self.schema = schema or self._graph_schema(session)

    def predict(self, batch: Batch) -> Any:
        if len(self.inputs) == 1:
            name, dtype = self.inputs[0]
            if batch.array is None:
                raise InputMismatch(
                    f"the onnx model takes one tensor {name!r}; the request holds non-numeric columns"
                )
            feeds = {name: np.ascontiguousarray(batch.array, dtype=dtype)}
        else:
            feeds = {name: self._column(batch, name, dtype) for name, dtype in self.inputs}
        results = self.session.run(None, feeds)
        if len(results) == 1:
            return results[0]
        return dict(zip(self.outputs, results, strict=True))

    def output_names(self) -> list[str]:
        return list(self.outputs)

    @staticmethod
    def _column(batch: Batch, name: str, dtype: np.dtype[Any]) -> np.ndarray[Any, Any]:
        if batch.columns is not None and name in batch.columns:
            values = batch.columns[name]
        elif batch.array is not None and batch.names and name in batch.names:
            values = batch.array[:, batch.names.index(name)]
        else:
            raise InputMismatch(f"missing column {name!r}; the onnx model takes one input per column")
        return np.asarray(values, dtype=dtype).reshape(-1, 1)

    def _graph_schema(self, session: Any) -> InputSchema | None:
        graph_inputs = session.get_inputs()
        if len(graph_inputs) == 1:
            shape = tuple(dim if isinstance(dim, int) else None for dim in graph_inputs[0].shape)
            return InputSchema(shape=(None, *shape[1:]), dtype=str(self.inputs[0][1]))
        return InputSchema(
            columns=tuple(
                Column(name, STRING if dtype.kind == "O" else _COLUMN_TYPES.get(str(dtype), ANY))
                for name, dtype in self.inputs
            )
        )


def load(folder: Path, metadata: ModelMetadata | None) -> OnnxScorer:
    from mlyard.flavors import get_flavor

    assert metadata is not None
    session = get_flavor("onnx").load(folder, metadata)
    return OnnxScorer(session, schema_from_signature(metadata.signature))
