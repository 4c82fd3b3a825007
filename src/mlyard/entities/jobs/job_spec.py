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
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from mlyard.entities.specs.command_line import bindings
from mlyard.entities.specs.spec_files import load_yaml, validate_spec
from mlyard.entities.specs.spec_values import LiteralValue, TextMap, empty_is_mapping
from mlyard.errors import InvalidSpec

ASSET_INPUT_TYPES = ("uri_file", "uri_folder", "mltable", "custom_model", "mlflow_model", "triton_model")
LITERAL_INPUT_TYPES = ("string", "integer", "number", "boolean")
OUTPUT_TYPES = ("uri_file", "uri_folder", "mltable", "custom_model", "mlflow_model")
CLOUD_ONLY_FIELDS = ("distribution", "services", "identity", "queue_settings")


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


# `outputs: {report: }` asks for an output with every default (a uri_folder).
OutputMap = Annotated[dict[str, JobOutput], BeforeValidator(empty_is_mapping)]


class JobLimits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timeout: int | None = Field(default=None, gt=0, description="seconds")


class CommandJobSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["command"] = "command"
    # inputs and outputs come before command: its validator checks its bindings against them.
    inputs: dict[str, JobInput | LiteralValue] = Field(default_factory=dict)
    outputs: OutputMap = Field(default_factory=dict)
    command: str = Field(min_length=1)
    code: str | None = None
    environment: str | dict[str, Any] | None = None
    environment_variables: TextMap = Field(default_factory=dict)
    compute: str | None = None
    experiment_name: str | None = None
    display_name: str | None = None
    description: str | None = None
    tags: TextMap = Field(default_factory=dict)
    limits: JobLimits | None = None
    timeout: int | None = Field(default=None, gt=0, description="seconds; same as limits.timeout")
    name: str | None = None
    # Azure ML's keys (instance_type, instance_count, …) are accepted and ignored; on Ray, mlyard
    # reads `cpu`, `memory` (bytes or 2Gi) and `gpu` as the task's resources.
    resources: dict[str, Any] | None = None

    @field_validator("command")
    @classmethod
    def _bindings_resolve(cls, command: str, info: ValidationInfo) -> str:
        for binding in bindings(command):
            if binding.kind == "search_space" or binding.optional:
                continue  # bound by a sweep's trial / dropped when not given
            if binding.kind not in info.data:
                continue  # that field failed its own validation: its error says why, not this one
            declared = info.data[binding.kind]
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
    return command_job_from_dict(load_yaml(path), str(path))


def command_job_from_dict(data: dict[str, Any], source: str) -> CommandJobSpec:
    data = {key: value for key, value in data.items() if key not in CLOUD_ONLY_FIELDS}
    job_type = data.get("type", "command")
    if job_type != "command":
        raise InvalidSpec(f"{source}: type: this reader takes command jobs, got {job_type!r}")
    return validate_spec(CommandJobSpec, data, source)


class ResolvedInput(BaseModel):
    """An input as the runner needs it: a literal, a local path, or a pinned asset version.

    `source` tells which: `literal` (value), `local` (path), `data` / `model` (name + version,
    resolved from `@latest` or an alias at submission), `job_output` (job_id + output name).
    """

    model_config = ConfigDict(frozen=True)

    type: str
    source: Literal["literal", "local", "data", "model", "job_output"]
    value: LiteralValue | None = None
    path: str | None = None
    name: str | None = None
    version: str | None = None
    job_id: str | None = None
    output: str | None = None
    mode: str | None = None
    content_hash: str | None = None  # of the data behind it; part of a step's reuse signature
    # A local input stored in the artifact store, for runners on other machines (see services/snapshots).
    artifact_path: str | None = None

    def describe(self) -> str:
        if self.source == "literal":
            return repr(self.value)
        if self.source == "local":
            return str(self.path)
        if self.source == "job_output":
            return f"output {self.output} of job {self.job_id}"
        return f"{self.source} {self.name}:{self.version}"


class ResolvedCommandJob(BaseModel):
    """A command job with every reference pinned and every path absolute: what a runner executes.

    Stored as the job's spec, so a runner on any machine (or a rerun) executes exactly this.
    """

    type: Literal["command"] = "command"
    command: str
    code: str | None = None  # absolute folder
    code_hash: str | None = None
    code_artifact: str | None = None  # the code stored in the artifact store, when runners are elsewhere
    inputs: dict[str, ResolvedInput | None] = Field(default_factory=dict)  # None: optional, not given
    outputs: dict[str, JobOutput] = Field(default_factory=dict)
    environment: dict[str, Any] | None = None  # a ResolvedEnvironment; None runs in mlyard's interpreter
    environment_ref: str | None = None  # how the user named it, for display
    environment_variables: dict[str, str] = Field(default_factory=dict)
    compute: str | None = None
    timeout_seconds: int | None = None
    search_space: dict[str, LiteralValue] = Field(default_factory=dict)  # a sweep trial's sampled values
    resources: dict[str, Any] | None = None  # cpu / memory / gpu of a Ray task
