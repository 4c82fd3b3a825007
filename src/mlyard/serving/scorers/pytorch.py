"""TorchScript modules: a numeric batch becomes one tensor (float32 unless the signature says
otherwise), run under `torch.inference_mode()`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mlyard.entities.registry.model import ModelMetadata
from mlyard.errors import InputMismatch
from mlyard.serving.inputs import Batch
from mlyard.serving.schema import InputSchema, schema_from_signature


class PytorchScorer:
    flavor = "pytorch"

    def __init__(self, module: Any, schema: InputSchema | None) -> None:
        import torch

        self._torch = torch
        self.module = module
        self.schema = schema
        # JSON numbers parse as float64; networks are nearly always float32 unless told otherwise.
        wanted = schema.dtype if schema is not None and schema.is_tensor and schema.dtype else "float32"
        self.dtype = np.dtype(wanted)

    def predict(self, batch: Batch) -> Any:
        if batch.array is None or batch.array.dtype.kind not in "fiub":
            raise InputMismatch("a pytorch model takes numbers (a tensor); the request holds other values")
        tensor = self._torch.from_numpy(np.ascontiguousarray(batch.array, dtype=self.dtype))
        with self._torch.inference_mode():
            output = self.module(tensor)
        return _to_numpy(output)

    def output_names(self) -> list[str]:
        return ["predict"]


def _to_numpy(output: Any) -> Any:
    if hasattr(output, "detach"):
        return output.detach().cpu().numpy()
    if isinstance(output, tuple | list):
        return [_to_numpy(item) for item in output]
    if isinstance(output, dict):
        return {str(key): _to_numpy(value) for key, value in output.items()}
    return output


def load(folder: Path, metadata: ModelMetadata | None) -> PytorchScorer:
    from mlyard.flavors import get_flavor

    assert metadata is not None
    module = get_flavor("pytorch").load(folder, metadata)
    return PytorchScorer(module, schema_from_signature(metadata.signature))
