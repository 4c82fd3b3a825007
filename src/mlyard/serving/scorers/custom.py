"""The "custom" flavor: a pickled object with a `predict` method (scikit-learn models pickled
this way get the scikit-learn scorer). A pre-built folder without `model.pkl` needs a scoring
script to be served."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlyard.entities.registry.model import ModelMetadata
from mlyard.errors import InvalidArgument
from mlyard.flavors import guess_flavor
from mlyard.serving.inputs import Batch
from mlyard.serving.schema import InputSchema, schema_from_signature


class PredictScorer:
    """Any object with `predict(x)`: given the numeric array, or a DataFrame for named columns."""

    def __init__(self, model: Any, schema: InputSchema | None, flavor: str = "custom") -> None:
        self.flavor = flavor
        self.model = model
        self.schema = schema

    def predict(self, batch: Batch) -> Any:
        if (
            batch.array is not None
            and batch.columns is None
            and (self.schema is None or self.schema.is_tensor)
        ):
            return self.model.predict(batch.array)
        return self.model.predict(batch.frame(self.schema))

    def output_names(self) -> list[str]:
        return ["predict"]


def load(folder: Path, metadata: ModelMetadata | None) -> Any:
    from mlyard.flavors import get_flavor

    assert metadata is not None
    model = get_flavor("custom").load(folder, metadata)
    if isinstance(model, Path):
        raise InvalidArgument(
            f"model folder {folder} (flavor 'custom') holds no model.pkl, so it cannot be served without "
            "code; give a scoring script whose init() loads it (--code-dir DIR --scoring-script score.py)"
        )
    if not callable(getattr(model, "predict", None)):
        raise InvalidArgument(
            f"the {type(model).__name__} object in {folder} has no predict method; serve it with a "
            "scoring script (--code-dir DIR --scoring-script score.py)"
        )
    schema = schema_from_signature(metadata.signature)
    if guess_flavor(model) == "sklearn":
        from mlyard.serving.scorers.sklearn import SklearnScorer

        return SklearnScorer(model, schema, flavor="custom")
    return PredictScorer(model, schema)
