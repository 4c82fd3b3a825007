"""Model flavors: how a model object is saved into a folder and loaded back.

Every flavor has the same small shape (`Flavor` below) and is registered by name in `FLAVORS`,
so adding one is one new module exposing `FLAVOR` plus one line here. A flavor module is imported
only when `get_flavor` first asks for it, so scikit-learn or mlflow load only when needed.
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path
from typing import Any, Protocol

from mlyard.entities.registry.model import ModelMetadata
from mlyard.errors import InvalidArgument

__all__ = ["FLAVORS", "Flavor", "get_flavor", "guess_flavor", "refuse_model"]

# Flavor name -> module exposing a module-level `FLAVOR` instance.
FLAVORS: dict[str, str] = {
    "sklearn": "mlyard.flavors.sklearn",
    "custom": "mlyard.flavors.custom",
    "mlflow": "mlyard.flavors.mlflow",
    "pytorch": "mlyard.flavors.pytorch",
    "onnx": "mlyard.flavors.onnx",
}


class Flavor(Protocol):
    """Saves a model object into a folder and loads it back; one instance per flavor module."""

    name: str

    def check_model(self, model: Any) -> None:
        """Raise InvalidArgument naming the flavor and the object's type when this flavor cannot
        save `model` (so `log_model(object(), flavor="sklearn")` registers nothing)."""
        ...

    def save(self, model: Any, folder: Path) -> str:
        """Write the model file(s) into `folder` (after `check_model`); return the main file's
        name relative to it."""
        ...

    def load(self, folder: Path, metadata: ModelMetadata) -> Any:
        """Load the model in `folder` described by `metadata`; NotFound when its file is missing."""
        ...

    def framework_versions(self) -> dict[str, str]:
        """Versions of the libraries the saved model depends on, always including "python"."""
        ...

    def can_register_folder(self, folder: Path) -> None:
        """Raise InvalidArgument naming the folder or file when a pre-built folder won't load."""
        ...


@functools.cache
def get_flavor(name: str) -> Flavor:
    """The flavor registered as `name`; InvalidArgument listing the valid names otherwise."""
    module_path = FLAVORS.get(name)
    if module_path is None:
        raise InvalidArgument(
            f"unknown model flavor {name!r}; valid flavors are: {', '.join(sorted(FLAVORS))}"
        )
    flavor: Flavor = importlib.import_module(module_path).FLAVOR
    return flavor


def refuse_model(flavor: str, model: object, takes: str, hint: str = "") -> InvalidArgument:
    """The one wording of "this flavor does not take that object" (what it takes, what to do)."""
    return InvalidArgument(
        f"flavor '{flavor}' saves {takes}, not {type(model).__name__}{'; ' + hint if hint else ''}"
    )


def guess_flavor(model: object) -> str:
    """ "sklearn" for scikit-learn estimators, "pytorch" for torch modules, "onnx" for ONNX graphs,
    "custom" for anything else.

    A library is imported only when a class in the object's MRO comes from it, so guessing the
    flavor of a plain object costs nothing.
    """
    roots = {cls.__module__.split(".")[0] for cls in type(model).__mro__}
    if "sklearn" in roots:
        from sklearn.base import BaseEstimator

        if isinstance(model, BaseEstimator):
            return "sklearn"
    if "torch" in roots:
        import torch

        if isinstance(model, torch.nn.Module | torch.jit.ScriptModule):
            return "pytorch"
    if "onnx" in roots and type(model).__name__ == "ModelProto":
        return "onnx"
    return "custom"
