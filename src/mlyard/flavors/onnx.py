"""The "onnx" flavor: ONNX graphs as `model.onnx`, loaded as an onnxruntime `InferenceSession`.

`save` takes an `onnx.ModelProto` (what skl2onnx, `torch.onnx.export` and tf2onnx produce) or
the serialized bytes of one; converting a framework's model to ONNX is left to those tools.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlyard.entities.registry.model import ModelMetadata
from mlyard.errors import InvalidArgument
from mlyard.flavors import refuse_model
from mlyard.flavors.files import candidate_files, model_file
from mlyard.flavors.metadata import installed_versions

MODEL_FILE = "model.onnx"
MODEL_SUFFIX = ".onnx"


class OnnxFlavor:
    """Writes an ONNX graph; loads it into an onnxruntime session on the CPU."""

    name = "onnx"

    def check_model(self, model: Any) -> None:
        if isinstance(model, bytes | bytearray):
            return
        if not (callable(getattr(model, "SerializeToString", None)) and hasattr(model, "graph")):
            raise refuse_model(
                self.name, model, "an onnx.ModelProto (or its bytes)",
                "convert the model first (skl2onnx.to_onnx, torch.onnx.export, ...)",
            )  # fmt: skip

    def save(self, model: Any, folder: Path) -> str:
        self.check_model(model)
        content = bytes(model) if isinstance(model, bytes | bytearray) else model.SerializeToString()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MODEL_FILE).write_bytes(content)
        return MODEL_FILE

    def load(self, folder: Path, metadata: ModelMetadata) -> Any:
        """An `onnxruntime.InferenceSession` over the model file (needs the onnxruntime package)."""
        path = model_file(folder, metadata.model_file, MODEL_FILE, (MODEL_SUFFIX,))
        try:
            import onnxruntime
        except ImportError as exc:
            raise InvalidArgument(
                "loading an onnx model needs the onnxruntime package: pip install 'mlyard[onnx]'"
            ) from exc
        return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    def framework_versions(self) -> dict[str, str]:
        return installed_versions("onnx", "onnxruntime", "numpy")

    def can_register_folder(self, folder: Path) -> None:
        if folder.is_file():
            if folder.suffix != MODEL_SUFFIX:
                raise InvalidArgument(f"{folder} is not an ONNX file; flavor 'onnx' needs a .onnx file")
            return
        if not candidate_files(folder, (MODEL_SUFFIX,)):
            raise InvalidArgument(f"model folder {folder} has no .onnx file at its top level")


FLAVOR = OnnxFlavor()
