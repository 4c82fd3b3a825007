"""Registered models: versioned, immutable model folders with a flavor, aliases and lineage."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from mlyard.entities.jobs.job import DataInput, MetricValue
from mlyard.entities.registry.data import DataAsset

# The file every model folder carries, describing how to load it.
MODEL_METADATA_FILE = "mlyard-model.yaml"

# `mlyard model create --type` accepts Azure ML asset types and flavor names alike.
MODEL_TYPE_TO_FLAVOR = {
    "custom_model": "custom",
    "mlflow_model": "mlflow",
    "triton_model": "custom",
}


class ModelSignature(BaseModel):
    """What the model takes: named columns with dtypes, or a tensor shape and dtype."""

    kind: str  # "columns" or "tensor"
    columns: list[dict[str, str]] | None = None
    shape: list[int | None] | None = None
    dtype: str | None = None


class ModelMetadata(BaseModel):
    """Contents of `mlyard-model.yaml` inside every model folder."""

    flavor: str
    model_file: str | None = None
    signature: ModelSignature | None = None
    framework_versions: dict[str, str] = Field(default_factory=dict)
    created_at: datetime | None = None


class ModelVersion(BaseModel):
    name: str
    version: str
    flavor: str
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    properties: dict[str, str] = Field(default_factory=dict)
    aliases: list[str] = Field(default_factory=list)
    archived: bool = False
    content_hash: str
    artifact_path: str
    signature: ModelSignature | None = None
    job_id: str | None = None
    created_at: datetime
    created_by: str | None = None
    # The name of the folder the version was registered from (`path: ../x/model/` → "model"): a
    # scoring script reads it as `$AZUREML_MODEL_DIR/model/<file>`, as on Azure. None for a single
    # file (`$AZUREML_MODEL_DIR/<file>`), a model saved by a flavor, and versions registered
    # before mlyard recorded it: their files are `AZUREML_MODEL_DIR` itself.
    folder_name: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"

    def summary(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class ModelRegistration(ModelVersion):
    """A registered version, and whether this registration created it (False: a version with
    identical content and lineage was registered already and is returned instead)."""

    created: bool = True

    @property
    def message(self) -> str:
        if self.created:
            return f"registered model {self.ref}"
        return f"identical content and lineage are already registered as {self.ref}; no new version created"


class Model(BaseModel):
    """A model name: its versions share it, its aliases point at them."""

    name: str
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    latest_version: str | None = None
    version_count: int = 0
    aliases: dict[str, str] = Field(default_factory=dict)
    created_at: datetime


class ModelLineage(BaseModel):
    """Where a model version came from: its run, that run's data, parameters and metrics."""

    model: ModelVersion
    job_id: str | None = None
    experiment: str | None = None
    params: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, MetricValue] = Field(default_factory=dict)
    inputs: list[DataInput] = Field(default_factory=list)
    data: list[DataAsset] = Field(default_factory=list)


class Comparison(BaseModel):
    """The champion/challenger verdict; truthy when the candidate wins."""

    better: bool
    metric: str
    goal: str
    candidate: str
    candidate_value: float | None
    champion: str | None
    champion_value: float | None
    reason: str

    def __bool__(self) -> bool:
        return self.better
