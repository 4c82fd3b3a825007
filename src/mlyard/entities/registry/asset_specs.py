"""Azure ML's data and model YAML (`az ml data create -f data.yml`, `az ml model create -f model.yml`).

    name: diabetes-data          name: diabetes-model
    version: 3                   version: 2            (both optional: next number)
    type: uri_file               type: mlflow_model    (model default: custom_model)
    path: ./data/diabetes.csv    path: ../models/ridge/
    description: …  tags: {…}    description: …  tags: {…}  properties: {…}

`path` is relative to the YAML file. `--name`, `--version` and `--set field=value` override the
file as `az ml` does (applied to the mapping before it is validated, so a bad value is reported
like one in the file). Pure: no file is read here but the YAML itself.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mlyard.entities.registry.data import DataType
from mlyard.entities.specs.overrides import apply_override
from mlyard.entities.specs.spec_files import load_yaml, validate_spec
from mlyard.entities.specs.spec_values import TextMap
from mlyard.errors import InvalidSpec

# `azureml://datastores/…`, `https://…`, `wasbs://…`: content in a cloud store, not on this machine.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
SpecT = TypeVar("SpecT", bound="_AssetSpec")


class _AssetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    version: str | None = None
    path: str
    description: str | None = None
    tags: TextMap = Field(default_factory=dict)

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value

    def local_path(self, base_dir: Path, source: str) -> Path:
        """`path` on this machine, relative to `base_dir` (the YAML's folder) unless absolute."""
        if _URL.match(self.path) and not self.path.startswith("file://"):
            raise InvalidSpec(
                f"{source}: path: {self.path!r} is in a cloud store; mlyard registers files and "
                "folders on this machine: download it and give its local path"
            )
        given = Path(self.path.removeprefix("file://")).expanduser()
        return given if given.is_absolute() else base_dir / given


class DataSpec(_AssetSpec):
    """A data asset's YAML; without `type`, a file is a `uri_file` and a folder a `uri_folder`."""

    type: DataType | None = None
    properties: TextMap = Field(default_factory=dict)  # accepted from Azure's YAML, not kept


class ModelSpec(_AssetSpec):
    """A model's YAML; `type` is an Azure ML type (`custom_model`, `mlflow_model`, `triton_model`)
    or one of mlyard's flavors."""

    type: str = "custom_model"
    properties: TextMap = Field(default_factory=dict)


def load_data_spec(path: Path, overrides: dict[str, str] | None = None, **options: str | None) -> DataSpec:
    """A data YAML with the command line's `--set` pairs and options (`name=…`) applied."""
    return validate_spec(DataSpec, _with_overrides(path, overrides, options), str(path))


def load_model_spec(path: Path, overrides: dict[str, str] | None = None, **options: str | None) -> ModelSpec:
    """A model YAML with the command line's `--set` pairs and options (`name=…`) applied."""
    return validate_spec(ModelSpec, _with_overrides(path, overrides, options), str(path))


def with_overrides(spec: SpecT, overrides: dict[str, str] | None = None, **options: str | None) -> SpecT:
    """A spec object with `--set` pairs and options applied, validated again."""
    data = spec.model_dump(mode="json", exclude_none=True)
    return validate_spec(type(spec), _overridden(data, overrides, options, "spec"), type(spec).__name__)


def _with_overrides(
    path: Path, overrides: dict[str, str] | None, options: dict[str, str | None]
) -> dict[str, Any]:
    return _overridden(load_yaml(path), overrides, options, str(path))


def _overridden(
    data: dict[str, Any], overrides: dict[str, str] | None, options: dict[str, str | None], source: str
) -> dict[str, Any]:
    for key, value in (overrides or {}).items():
        apply_override(data, key, value, source)
    data.update({key: value for key, value in options.items() if value is not None})
    return data
