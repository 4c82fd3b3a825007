"""The "custom" flavor: any picklable object as `model.pkl`, or a folder of the user's own files.

`load` unpickles `model.pkl` when the folder has one. A pre-built folder registered as-is (a
PyTorch state dict, ONNX file, a score.py, ...) has no `model.pkl`: then `load` returns the
folder's Path itself and the user's code opens its files. Unpickling runs code from the model
file: load only models from a workspace you trust.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from mlyard.entities.registry.model import MODEL_METADATA_FILE, ModelMetadata
from mlyard.errors import InvalidArgument, NotFound
from mlyard.flavors import refuse_model
from mlyard.flavors.metadata import installed_versions

MODEL_FILE = "model.pkl"
PICKLE_PROTOCOL = 5


class CustomFlavor:
    """Pickles any object; loads it back, or hands back the folder of a pre-built model."""

    name = "custom"

    def check_model(self, model: Any) -> None:
        # Any picklable object is a custom model (pickling itself is the test, in `save`); None is
        # always a mistake, such as logging the result of a function that returns nothing.
        if model is None:
            raise refuse_model(self.name, model, "any picklable model object", "pass the model itself")

    def save(self, model: Any, folder: Path) -> str:
        self.check_model(model)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / MODEL_FILE
        try:
            with path.open("wb") as file:
                pickle.dump(model, file, protocol=PICKLE_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            path.unlink(missing_ok=True)
            raise InvalidArgument(
                f"cannot pickle the {type(model).__name__} model for flavor 'custom': {exc}; "
                "save it to a folder yourself and register that folder with: "
                "mlyard model create --name NAME --path FOLDER --type custom_model"
            ) from exc
        return MODEL_FILE

    def load(self, folder: Path, metadata: ModelMetadata) -> Any:
        """The unpickled model, or `folder` itself when it holds no `model.pkl` (pre-built)."""
        path = folder / MODEL_FILE
        if path.is_file():
            with path.open("rb") as file:
                return pickle.load(file)
        if metadata.model_file == MODEL_FILE:
            raise NotFound(f"model file {path} does not exist")
        return folder

    def framework_versions(self) -> dict[str, str]:
        return installed_versions()

    def can_register_folder(self, folder: Path) -> None:
        if folder.is_file():
            return
        if not folder.is_dir():
            raise InvalidArgument(f"model path {folder} is neither a file nor a folder")
        if not any(entry.name != MODEL_METADATA_FILE for entry in folder.iterdir()):
            raise InvalidArgument(
                f"model folder {folder} is empty; put the model's files in it before registering"
            )


FLAVOR = CustomFlavor()
