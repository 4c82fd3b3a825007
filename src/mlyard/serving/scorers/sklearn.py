"""scikit-learn models, with a predict path that skips per-call validation where that is exact.

scikit-learn's `predict` validates its input on every call (`validate_data`: dtype, finiteness,
feature names, array-API namespace), which costs ~50-80 µs — more than the rest of a 1-row
request. The request parser has already produced a C-contiguous float64 array of the right
width, so for estimators whose `predict` is plain arithmetic after that validation we call the
arithmetic directly (`linear_kernel`): the same NumPy operations on the same array, so the very
same bits as `model.predict`, a test checks that. Every other estimator gets `model.predict`,
with a DataFrame when it was fitted on one (it may select columns by name).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mlyard.entities.registry.model import ModelMetadata
from mlyard.errors import InputMismatch
from mlyard.serving.inputs import Batch
from mlyard.serving.schema import ANY, Column, InputSchema, schema_from_signature

Kernel = Callable[[np.ndarray[Any, Any]], Any]


class SklearnScorer:
    """Serves one fitted estimator (or pipeline); `kernel` is its exact validation-free predict, if any."""

    def __init__(self, model: Any, schema: InputSchema | None, flavor: str = "sklearn") -> None:
        self.flavor = flavor
        self.model = model
        names = getattr(model, "feature_names_in_", None)
        self.feature_names = tuple(str(name) for name in names) if names is not None else None
        self.n_features = getattr(model, "n_features_in_", None)
        self.schema = _with_model_order(schema, self.feature_names) or _schema_of(model, self.feature_names)
        self.kernel = linear_kernel(model)

    def predict(self, batch: Batch) -> Any:
        array = batch.array
        if array is not None and array.ndim == 2:
            if self.n_features is not None and array.shape[1] != self.n_features:
                raise InputMismatch(
                    f"the model takes {self.n_features} values per row, got {array.shape[1]}"
                    + (f" (columns: {', '.join(self.feature_names)})" if self.feature_names else "")
                )
            if self.kernel is not None and array.dtype == np.float64:
                return self.kernel(array)
            if self.feature_names is None:
                return self.model.predict(array)
        return self.model.predict(batch.frame(self.schema))

    def output_names(self) -> list[str]:
        return ["predict"]


# `predict` implementations that are LinearModel.predict, or only call it (to carry a docstring).
_LINEAR_PREDICT = frozenset(
    {
        "sklearn.linear_model._base.LinearModel.predict",
        "sklearn.linear_model._base.MultiOutputLinearModel.predict",
        "sklearn.linear_model._ridge.Ridge.predict",
    }
)


def linear_kernel(model: Any) -> Kernel | None:
    """`X @ coef_ + intercept_` for linear models whose predict is exactly that after validation.

    Besides the class check, the kernel must reproduce `model.predict` bit for bit on a probe
    batch before it is used, so a scikit-learn release that changes the arithmetic turns it off.
    """
    try:
        from sklearn.linear_model._base import LinearModel
    except ImportError:  # a scikit-learn that moved it: fall back to model.predict
        return None
    cls = type(model)
    predict = cls.predict
    linear = f"{predict.__module__}.{predict.__qualname__}" in _LINEAR_PREDICT
    if not (
        isinstance(model, LinearModel) and linear and cls._decision_function is LinearModel._decision_function
    ):
        return None
    coef, intercept = getattr(model, "coef_", None), getattr(model, "intercept_", None)
    if type(coef) is not np.ndarray or not isinstance(intercept, np.ndarray | float | int):
        return None  # sparse (after .sparsify()) or another array namespace
    weights = coef if coef.ndim == 1 else coef.T

    def kernel(array: np.ndarray[Any, Any]) -> Any:
        return array @ weights + intercept

    return kernel if _reproduces(model, kernel) else None


def _reproduces(model: Any, kernel: Kernel) -> bool:
    import warnings

    n_features = getattr(model, "n_features_in_", None)
    if not isinstance(n_features, int):
        return False
    probe = np.random.default_rng(0).normal(size=(7, n_features))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "X does not have valid feature names": same numbers
        try:
            expected = model.predict(probe)
        except Exception:  # noqa: BLE001 — the kernel is an optimisation; any doubt turns it off
            return False
    got = kernel(probe)
    return bool(got.shape == expected.shape and np.array_equal(got, expected))


def load(folder: Path, metadata: ModelMetadata | None) -> SklearnScorer:
    from mlyard.flavors import get_flavor

    assert metadata is not None
    model = get_flavor("sklearn").load(folder, metadata)
    return SklearnScorer(model, schema_from_signature(metadata.signature))


def _schema_of(model: Any, feature_names: tuple[str, ...] | None) -> InputSchema | None:
    """What the fitted model itself says it takes, when there is no signature."""
    if feature_names is not None:
        return InputSchema(columns=tuple(Column(name, ANY) for name in feature_names))
    n_features = getattr(model, "n_features_in_", None)
    if isinstance(n_features, int):
        return InputSchema(shape=(None, n_features), dtype="float64")
    return None


def _with_model_order(
    schema: InputSchema | None, feature_names: tuple[str, ...] | None
) -> InputSchema | None:
    """The signature's columns in the order the model was fitted with (its feature_names_in_)."""
    if schema is None or schema.columns is None or feature_names is None:
        return schema
    by_name = {column.name: column for column in schema.columns}
    if set(by_name) != set(feature_names):
        return schema
    return InputSchema(columns=tuple(by_name[name] for name in feature_names))


__all__ = ["SklearnScorer", "linear_kernel", "load"]
