"""Scorers: a loaded model with one `predict(batch)`, found by the flavor of its folder.

Like `mlyard.flavors`, each scorer is registered by name in `SCORERS` (flavor name → module
exposing `load(folder, metadata) -> Scorer`), and a module is imported only when a model of its
flavor is loaded, so serving a scikit-learn model never imports torch or onnxruntime.

A folder's flavor is the `flavor` of its `mlyard-model.yaml`; a folder with only an MLflow
`MLmodel` file is served as "mlflow".
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Protocol

from mlyard.entities.registry.model import MODEL_METADATA_FILE, ModelMetadata
from mlyard.errors import InvalidArgument, NotFound
from mlyard.serving.inputs import Batch
from mlyard.serving.schema import InputSchema

__all__ = ["SCORERS", "Scorer", "load_scorer", "model_flavor"]

SCORERS: dict[str, str] = {
    "sklearn": "mlyard.serving.scorers.sklearn",
    "pytorch": "mlyard.serving.scorers.pytorch",
    "onnx": "mlyard.serving.scorers.onnx",
    "mlflow": "mlyard.serving.scorers.mlflow",
    "custom": "mlyard.serving.scorers.custom",
}
MLMODEL_FILE = "MLmodel"


class Scorer(Protocol):
    """A model ready to score: what it takes (`schema`) and how to predict a batch."""

    flavor: str
    schema: InputSchema | None

    def predict(self, batch: Batch) -> Any:
        """Predictions for every row of `batch`: an array, a list, or a dict of named outputs.

        InputMismatch when the batch cannot go to this model (wrong width, text for a tensor model).
        """
        ...

    def output_names(self) -> list[str]:
        """Names of the model's outputs, as V2 responses label them ("predict" for one)."""
        ...


def model_flavor(folder: Path) -> tuple[str, ModelMetadata | None]:
    """The flavor to serve `folder` with, and its mlyard metadata (None for a bare MLflow folder)."""
    from mlyard.flavors.metadata import read_metadata

    if (folder / MODEL_METADATA_FILE).is_file():
        metadata = read_metadata(folder)
        return metadata.flavor, metadata
    if (folder / MLMODEL_FILE).is_file():
        return "mlflow", None
    if not folder.is_dir():
        raise NotFound(f"model folder {folder} does not exist")
    raise NotFound(
        f"model folder {folder} has neither {MODEL_METADATA_FILE} nor an MLflow {MLMODEL_FILE} file, so "
        "its flavor is unknown; register it with mlyard (log_model / mlyard model create), or serve it "
        "with a scoring script (--code-dir and --scoring-script)"
    )


def load_scorer(folder: Path) -> Scorer:
    """Load the model in `folder` for serving, by its flavor; InvalidArgument for a flavor with no scorer."""
    flavor, metadata = model_flavor(folder)
    module_path = SCORERS.get(flavor)
    if module_path is None:
        raise InvalidArgument(
            f"flavor {flavor!r} of {folder} cannot be served without code; servable flavors are: "
            f"{', '.join(sorted(SCORERS))}, or give a scoring script (--scoring-script score.py)"
        )
    scorer: Scorer = importlib.import_module(module_path).load(folder, metadata)
    return scorer
