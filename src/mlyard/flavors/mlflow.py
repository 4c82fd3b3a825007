"""The "mlflow" flavor: folders in MLflow's model format (an `MLmodel` file plus its files).

mlyard registers such folders as they are and loads them through `mlflow.pyfunc`, so the
mlflow package is needed only to load one, not to register or show it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mlyard.entities.registry.model import ModelMetadata
from mlyard.errors import InvalidArgument, InvalidSpec, NotFound
from mlyard.flavors import refuse_model
from mlyard.flavors.metadata import installed_versions

MLMODEL_FILE = "MLmodel"
PYFUNC_FLAVOR = "python_function"


class MlflowFlavor:
    """Registers and loads MLflow model folders; saving a model object is left to mlflow."""

    name = "mlflow"

    def check_model(self, model: Any) -> None:
        raise refuse_model(
            self.name, model, "no model objects (it registers folders MLflow wrote)",
            "log it with mlflow itself (e.g. mlflow.sklearn.save_model) and register that folder "
            "with: mlyard model create --name NAME --path FOLDER --type mlflow_model, or use flavor "
            "'sklearn' or 'custom'",
        )  # fmt: skip

    def save(self, model: Any, folder: Path) -> str:
        self.check_model(model)
        raise AssertionError("unreachable: check_model refuses every object")

    def load(self, folder: Path, metadata: ModelMetadata) -> Any:
        """The model as an `mlflow.pyfunc.PyFuncModel` (needs the mlflow package)."""
        flavors = read_mlmodel(folder)["flavors"]
        if PYFUNC_FLAVOR not in flavors:
            raise InvalidArgument(
                f"{folder / MLMODEL_FILE} has no '{PYFUNC_FLAVOR}' flavor (it has: "
                f"{', '.join(sorted(flavors))}); mlyard loads MLflow models through mlflow.pyfunc"
            )
        try:
            import mlflow.pyfunc
        except ImportError as exc:
            if exc.name is None or exc.name.split(".")[0] != "mlflow":
                raise  # mlflow is installed but one of its own dependencies is broken
            raise InvalidArgument(
                "loading an mlflow_model needs the mlflow package: pip install 'mlyard[mlflow]'"
            ) from exc
        return mlflow.pyfunc.load_model(str(folder))

    def framework_versions(self) -> dict[str, str]:
        return installed_versions("mlflow")

    def can_register_folder(self, folder: Path) -> None:
        path = folder / MLMODEL_FILE
        if not path.is_file():
            raise InvalidArgument(
                f"{path} does not exist; an mlflow_model folder needs the MLmodel file that "
                "mlflow's save_model/log_model writes, or register it with --type custom_model"
            )
        read_mlmodel(folder)


def read_mlmodel(folder: Path) -> dict[str, Any]:
    """The parsed `MLmodel` file of `folder` (its flavors, signature, ...).

    NotFound when the file is missing; InvalidSpec when it is not YAML or has no flavors mapping.
    """
    path = folder / MLMODEL_FILE
    if not path.is_file():
        raise NotFound(f"{path} does not exist; {folder} is not an MLflow model folder")
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InvalidSpec(f"{path} is not readable YAML: {exc}") from exc
    if (
        not isinstance(content, dict)
        or not isinstance(content.get("flavors"), dict)
        or not content["flavors"]
    ):
        raise InvalidSpec(f"{path} is not an MLmodel file: it needs a 'flavors' mapping")
    return content


FLAVOR = MlflowFlavor()
