"""Bodies of the registry routes: data assets, models, their versions and aliases."""

from __future__ import annotations

from pydantic import BaseModel, Field

from mlyard.entities.data import DataAsset
from mlyard.entities.model import Model, ModelVersion


class DataAssetList(BaseModel):
    value: list[DataAsset] = Field(description="without column profiles; read one version for its profile")


class ModelList(BaseModel):
    value: list[Model]


class ModelVersionList(BaseModel):
    value: list[ModelVersion]
