"""The "onnx" flavor: ONNX graphs as `model.onnx`, loaded as an onnxruntime `InferenceSession`.

`save` takes an `onnx.ModelProto` (what skl2onnx, `torch.onnx.export` and tf2onnx produce) or
the serialized bytes of one; converting a framework's model to ONNX is left to those tools.
"""

from __future__ import annotations

import platform
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

from mlyard.entities.model import MODEL_METADATA_FILE, ModelMetadata
from mlyard.errors import InvalidArgument, NotFound

MODEL_FILE = "model.onnx"
MODEL_SUFFIX = ".onnx"


class OnnxFlavor:
    """Writes an ONNX graph; loads it into an onnxruntime session on the CPU."""

    name = "onnx"

    def save(self, model: Any, folder: Path) -> str:
        if isinstance(model, bytes | bytearray):
            content = bytes(model)
        elif callable(getattr(model, "SerializeToString", None)) and hasattr(model, "graph"):
            content = model.SerializeToString()
        else:
            raise InvalidArgument(
                f"flavor 'onnx' saves an onnx.ModelProto (or its bytes), not {type(model).__name__}; "
                "convert the model first (skl2onnx.to_onnx, torch.onnx.export, ...)"
            )
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MODEL_FILE).write_bytes(content)
        return MODEL_FILE

    def load(self, folder: Path, metadata: ModelMetadata) -> Any:
        """An `onnxruntime.InferenceSession` over the model file (needs the onnxruntime package)."""
        path = _model_file(folder, metadata.model_file)
        try:
            import onnxruntime
        except ImportError as exc:
            raise InvalidArgument(
                "loading an onnx model needs the onnxruntime package: pip install 'mlyard[onnx]'"
            ) from exc
        return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    def framework_versions(self) -> dict[str, str]:
        versions: dict[str, str] = {}
        for package in ("onnx", "onnxruntime", "numpy"):
            try:
                versions[package] = package_metadata.version(package)
            except package_metadata.PackageNotFoundError:
                continue
        versions["python"] = platform.python_version()
        return versions

    def can_register_folder(self, folder: Path) -> None:
        if folder.is_file():
            if folder.suffix != MODEL_SUFFIX:
                raise InvalidArgument(f"{folder} is not an ONNX file; flavor 'onnx' needs a .onnx file")
            return
        if not _candidates(folder):
            raise InvalidArgument(f"model folder {folder} has no .onnx file at its top level")


def _candidates(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix == MODEL_SUFFIX)


def _model_file(folder: Path, model_file: str | None) -> Path:
    if model_file is not None:
        path = folder / model_file
        if not path.is_file():
            raise NotFound(f"model file {path} does not exist")
        return path
    candidates = _candidates(folder)
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise NotFound(f"model folder {folder} has no .onnx file to load")
    if (folder / MODEL_FILE).is_file():
        return folder / MODEL_FILE
    names = ", ".join(p.name for p in candidates)
    raise InvalidArgument(
        f"model folder {folder} has several .onnx files ({names}); set 'model_file' in its "
        f"{MODEL_METADATA_FILE} to the one to load"
    )


FLAVOR = OnnxFlavor()
