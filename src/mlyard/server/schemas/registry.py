"""Bodies of the registry routes: data assets, models, their versions and aliases."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from mlyard.entities.registry.data import DataAsset, DataType
from mlyard.entities.registry.model import Model, ModelLineage, ModelVersion
from mlyard.server.schemas.common import Request, Scalar


class DataAssetList(BaseModel):
    value: list[DataAsset] = Field(description="without column profiles; read one version for its profile")


class ModelList(BaseModel):
    value: list[Model]


class ModelVersionList(BaseModel):
    value: list[ModelVersion]


class DataCreate(Request):
    """Register a staged file or folder (see `uploads`) as a new data asset version."""

    upload: str
    path: str = Field(description="the file or folder inside the upload")
    type: DataType = DataType.URI_FILE
    version: str | None = None
    description: str | None = None
    tags: dict[str, Scalar] = Field(default_factory=dict)


class DataRegistration(BaseModel):
    asset: DataAsset
    created: bool = Field(description="False when identical content was registered already")


class ModelCreate(Request):
    """Register a staged model folder or file (see `uploads`) as a new model version."""

    upload: str
    path: str = Field(description="the folder or file inside the upload")
    type: str = Field(default="custom_model", description="custom_model, mlflow_model or a flavor name")
    version: str | None = None
    description: str | None = None
    tags: dict[str, Scalar] = Field(default_factory=dict)
    properties: dict[str, Scalar] = Field(default_factory=dict)
    job_id: str | None = Field(default=None, description="the job that produced it (lineage)")


class AliasMove(Request):
    version: str


class AliasMoved(BaseModel):
    alias: str
    version: str
    previous: str | None


class Aliases(BaseModel):
    name: str
    aliases: dict[str, str]


class LineageList(BaseModel):
    value: list[ModelLineage]


class IsBetterRequest(Request):
    candidate: str = Field(description="a job id or a model reference (name:version, name@alias)")
    than: str = Field(default="production", description="an alias, or name@alias / name:version")
    metric: str = "mse"
    goal: Literal["minimize", "maximize"] = "minimize"
    name: str | None = Field(default=None, description="the model name when `than` is a bare alias")
