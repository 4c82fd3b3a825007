"""The "sklearn" flavor: scikit-learn estimators saved with joblib as `model.joblib`.

Loading runs pickle code from the model file: load only models from a workspace you trust.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from mlyard.entities.registry.model import ModelMetadata
from mlyard.errors import InvalidArgument
from mlyard.flavors import refuse_model
from mlyard.flavors.files import candidate_files, model_file
from mlyard.flavors.metadata import installed_versions

MODEL_FILE = "model.joblib"
MODEL_SUFFIXES = (".joblib", ".pkl", ".pickle")
_PACKAGES = ("scikit-learn", "joblib", "numpy")


class SklearnFlavor:
    """Saves an estimator with `joblib.dump`; loads `model_file`, or the one model file found."""

    name = "sklearn"

    def check_model(self, model: Any) -> None:
        # Duck-typed as scikit-learn itself is: scoring calls `predict`, so that is what counts
        # (sklearn estimators and pipelines, and XGBoost's or LightGBM's sklearn-API models).
        if not callable(getattr(model, "predict", None)) or isinstance(model, type):
            raise refuse_model(
                self.name, model, "scikit-learn estimators (objects with a predict method)",
                "log other objects with flavor 'custom'",
            )  # fmt: skip

    def save(self, model: Any, folder: Path) -> str:
        import joblib

        self.check_model(model)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / MODEL_FILE
        try:
            joblib.dump(model, path)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            path.unlink(missing_ok=True)
            raise InvalidArgument(
                f"cannot save the {type(model).__name__} model with flavor 'sklearn': {exc}"
            ) from exc
        return MODEL_FILE

    def load(self, folder: Path, metadata: ModelMetadata) -> Any:
        import joblib

        return joblib.load(model_file(folder, metadata.model_file, MODEL_FILE, MODEL_SUFFIXES))

    def framework_versions(self) -> dict[str, str]:
        return installed_versions(*_PACKAGES)

    def can_register_folder(self, folder: Path) -> None:
        if folder.is_file():
            if folder.suffix not in MODEL_SUFFIXES:
                raise InvalidArgument(
                    f"{folder} is not a scikit-learn model file; flavor 'sklearn' needs a "
                    f"{', '.join(MODEL_SUFFIXES)} file (saved with joblib or pickle)"
                )
            return
        if not candidate_files(folder, MODEL_SUFFIXES):
            raise InvalidArgument(
                f"model folder {folder} has no {', '.join(MODEL_SUFFIXES)} file at its top level; "
                "flavor 'sklearn' needs one (saved with joblib or pickle), or use flavor 'custom'"
            )


FLAVOR = SklearnFlavor()
