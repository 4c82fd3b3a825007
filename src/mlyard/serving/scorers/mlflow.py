"""MLflow model folders (an `MLmodel` file). The `sklearn` flavor is read directly (pickle,
cloudpickle, or skops — MLflow 3's default — with the skops package) and served by the
scikit-learn scorer, so no mlflow package is needed; anything else goes through
`mlflow.pyfunc.load_model` (needs mlflow), given a DataFrame, or an array for tensor signatures.

Like MLflow's own loader, this runs code from the model file: serve only models you trust.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from mlyard.entities.registry.model import ModelMetadata
from mlyard.errors import InvalidArgument, NotFound
from mlyard.flavors.metadata import installed_versions
from mlyard.flavors.mlflow import read_mlmodel
from mlyard.serving.inputs import Batch
from mlyard.serving.schema import InputSchema, schema_from_mlmodel

_SKLEARN_FORMATS = ("pickle", "cloudpickle", "skops")


class PyfuncScorer:
    flavor = "mlflow"

    def __init__(self, model: Any, schema: InputSchema | None) -> None:
        self.model = model
        self.schema = schema

    def predict(self, batch: Batch) -> Any:
        if (
            batch.array is not None
            and (self.schema is None or self.schema.is_tensor)
            and batch.columns is None
        ):
            return self.model.predict(batch.array)
        return self.model.predict(batch.frame(self.schema))

    def output_names(self) -> list[str]:
        return ["predict"]


def load(folder: Path, metadata: ModelMetadata | None) -> Any:
    mlmodel = read_mlmodel(folder)
    schema = schema_from_mlmodel(mlmodel.get("signature"))
    flavors = mlmodel["flavors"]
    sklearn = flavors.get("sklearn")
    if isinstance(sklearn, dict) and sklearn.get("serialization_format", "cloudpickle") in _SKLEARN_FORMATS:
        from mlyard.serving.scorers.sklearn import SklearnScorer

        return SklearnScorer(_read_sklearn(folder, sklearn, mlmodel), schema, "mlflow")
    if "python_function" not in flavors:
        raise InvalidArgument(
            f"{folder / 'MLmodel'} has neither a 'sklearn' nor a 'python_function' flavor (it has: "
            f"{', '.join(sorted(flavors))}); serve it with a scoring script"
        )
    from mlyard.flavors import get_flavor

    model = get_flavor("mlflow").load(folder, metadata or ModelMetadata(flavor="mlflow"))
    return PyfuncScorer(model, schema)


def _read_sklearn(folder: Path, flavor: dict[str, Any], mlmodel: dict[str, Any]) -> Any:
    """MLflow's saved estimator; cloudpickle output of ordinary classes reads with plain pickle."""
    path = folder / str(flavor.get("pickled_model", "model.pkl"))
    if not path.is_file():
        raise NotFound(f"model file {path} named by the MLmodel file does not exist")
    if flavor.get("serialization_format") == "skops":
        try:
            import skops.io
        except ImportError as exc:
            raise InvalidArgument(
                f"{path} is in the skops format (MLflow 3's default); serving it needs the skops package"
            ) from exc
        return skops.io.load(path, trusted=flavor.get("skops_trusted_types"))
    with path.open("rb") as file:
        try:
            return pickle.load(file)
        except Exception as exc:  # an old pickle fails in many ways: a moved module, a changed class
            raise InvalidArgument(_unloadable(path, exc, flavor, mlmodel)) from exc


def _unloadable(path: Path, exc: Exception, flavor: dict[str, Any], mlmodel: dict[str, Any]) -> str:
    """Why a pickled model cannot load here, with the versions it was saved with beside ours."""
    pyfunc = mlmodel.get("flavors", {}).get("python_function") or {}
    saved = {
        "Python": str(pyfunc.get("python_version") or ""),
        "scikit-learn": str(flavor.get("sklearn_version") or ""),
    }
    here = installed_versions("scikit-learn")
    ours = {"Python": here["python"], "scikit-learn": here.get("scikit-learn", "not installed")}
    reason = f"{type(exc).__name__}: {exc}"
    differ = [name for name, version in saved.items() if version and version != ours[name]]
    if not differ:
        return (
            f"{path} cannot be loaded ({reason}); install what it needs in the deployment's "
            "environment (environment: in the deployment YAML)"
        )
    then = " and ".join(f"{name} {saved[name]}" for name in differ)
    now = " and ".join(f"{name} {ours[name]}" for name in differ)
    pins = ", ".join(
        f"python={saved['Python']}" if name == "Python" else f"scikit-learn=={saved[name]}" for name in differ
    )
    return (
        f"{path} was pickled with {then} (its MLmodel says so), but this environment has {now}, "
        f"and the pickle cannot load here ({reason}); name an environment with {pins} in the "
        "deployment (environment: with a conda file), or re-save the model with the versions here"
    )
