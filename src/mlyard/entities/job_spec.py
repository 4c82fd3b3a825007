"""The command job spec, as Azure ML CLI v2 YAML writes it (`type: command`).

    $schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
    code: ./src
    command: python train.py --data ${{inputs.data}} --alpha ${{inputs.alpha}} --out ${{outputs.model}}
    inputs:
      data: {type: uri_file, path: azureml:diabetes@latest}
      alpha: 0.5
    outputs:
      model: {type: custom_model, name: diabetes-ridge}
    environment: azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest
    compute: local

Fields Azure ML uses for its cloud only (`resources`, `distribution`, `services`, `identity`,
`queue_settings`) are accepted and ignored, so azureml-examples YAML reads unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from mlyard.entities.command_line import bindings
from mlyard.entities.spec_files import load_yaml, validate_spec
from mlyard.errors import InvalidSpec

ASSET_INPUT_TYPES = ("uri_file", "uri_folder", "mltable", "custom_model", "mlflow_model", "triton_model")
LITERAL_INPUT_TYPES = ("string", "integer", "number", "boolean")
OUTPUT_TYPES = ("uri_file", "uri_folder", "mltable", "custom_model", "mlflow_model")
CLOUD_ONLY_FIELDS = ("resources", "distribution", "services", "identity", "queue_settings")
LiteralValue = str | int | float | bool


class JobInput(BaseModel):
    """An input given as a mapping: an asset (`type` + `path`) or a typed literal (`value`)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal[
        "uri_file", "uri_folder", "mltable", "custom_model", "mlflow_model", "triton_model",
        "string", "integer", "number", "boolean",
    ] = "uri_folder"  # fmt: skip
    path: str | None = None
    value: LiteralValue | None = None
    mode: (
        Literal["ro_mount", "rw_mount", "download", "upload", "direct", "eval_mount", "eval_download"] | None
    ) = None
    description: str | None = None

    @model_validator(mode="after")
    def _check_shape(self) -> JobInput:
        if self.type in ASSET_INPUT_TYPES and self.path is None:
            raise ValueError(f"an input of type {self.type} needs a path (a local path or name:version)")
        if self.type in LITERAL_INPUT_TYPES and self.value is None:
            raise ValueError(f"an input of type {self.type} needs a value")
        return self

    @property
    def is_asset(self) -> bool:
        return self.type in ASSET_INPUT_TYPES


class JobOutput(BaseModel):
    """A folder (or file) the job writes; registered as a data asset or model when `name` is set."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["uri_file", "uri_folder", "mltable", "custom_model", "mlflow_model"] = "uri_folder"
    path: str | None = None
    mode: Literal["rw_mount", "upload", "direct"] | None = None
    name: str | None = None
    version: str | None = None
    description: str | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


class JobLimits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timeout: int | None = Field(default=None, gt=0, description="seconds")


class CommandJobSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["command"] = "command"
    # inputs and outputs come before command: its validator checks its bindings against them.
    inputs: dict[str, JobInput | LiteralValue] = Field(default_factory=dict)
    outputs: dict[str, JobOutput] = Field(default_factory=dict)
    command: str = Field(min_length=1)
    code: str | None = None
    environment: str | dict[str, Any] | None = None
    environment_variables: dict[str, str] = Field(default_factory=dict)
    compute: str | None = None
    experiment_name: str | None = None
    display_name: str | None = None
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    limits: JobLimits | None = None
    timeout: int | None = Field(default=None, gt=0, description="seconds; same as limits.timeout")
    name: str | None = None

    @field_validator("environment_variables", "tags", mode="before")
    @classmethod
    def _values_as_text(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: item if isinstance(item, str) else str(item) for key, item in value.items()}
        return value

    @field_validator("command")
    @classmethod
    def _bindings_resolve(cls, command: str, info: ValidationInfo) -> str:
        for binding in bindings(command):
            if binding.kind == "search_space" or binding.optional:
                continue  # bound by a sweep's trial / dropped when not given
            declared = info.data.get(binding.kind, {})
            if binding.name not in declared:
                names = ", ".join(sorted(declared)) or "none"
                raise ValueError(
                    f"uses {binding}, but {binding.kind} has no {binding.name!r} (declared: {names})"
                )
        return command

    @property
    def timeout_seconds(self) -> int | None:
        return self.timeout or (self.limits.timeout if self.limits else None)

    def literal_inputs(self) -> dict[str, LiteralValue]:
        """Inputs that are plain values (given bare or as `{type: number, value: …}`)."""
        result: dict[str, LiteralValue] = {}
        for name, given in self.inputs.items():
            if isinstance(given, JobInput):
                if given.value is not None and not given.is_asset:
                    result[name] = given.value
            else:
                result[name] = given
        return result

    def asset_inputs(self) -> dict[str, JobInput]:
        return {
            name: given
            for name, given in self.inputs.items()
            if isinstance(given, JobInput) and given.is_asset
        }


def load_command_job(path: Path) -> CommandJobSpec:
    """Read and validate a command job YAML; errors name the file and the field."""
    data = load_yaml(path)
    for field in CLOUD_ONLY_FIELDS:
        data.pop(field, None)
    job_type = data.get("type", "command")
    if job_type != "command":
        raise InvalidSpec(f"{path}: type: this reader takes command jobs, got {job_type!r}")
    return validate_spec(CommandJobSpec, data, str(path))
