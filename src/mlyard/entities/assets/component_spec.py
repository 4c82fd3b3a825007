"""The command component spec, as Azure ML CLI v2 YAML writes it (`type: command`).

    $schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
    type: command
    name: train
    version: 1
    inputs:
      training_data: {type: uri_folder}
      max_epochs: {type: integer, min: 1, max: 100}
      learning_rate: {type: number, default: 0.01}
      schedule: {type: string, default: time-based, enum: [step, time-based]}
    outputs:
      model_output: {type: uri_folder}
    code: ./train_src
    environment: azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest
    command: >-
      python train.py --data ${{inputs.training_data}} --epochs ${{inputs.max_epochs}}
      $[[--lr ${{inputs.learning_rate}}]] --out ${{outputs.model_output}}

A component declares typed inputs and outputs; a job or pipeline step gives the values, which
`bind_inputs` checks against the declarations. Fields Azure ML uses for its cloud only are
accepted and ignored, so azureml-examples components read unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from mlyard.entities.jobs.job_spec import JobInput
from mlyard.entities.specs.command_line import bindings
from mlyard.entities.specs.names import validate_name
from mlyard.entities.specs.spec_files import did_you_mean, load_yaml, validate_spec
from mlyard.entities.specs.spec_values import LiteralValue, TextMap
from mlyard.errors import InvalidArgument, InvalidSpec

InputType = Literal[
    "integer", "number", "string", "boolean",
    "uri_file", "uri_folder", "mltable", "custom_model", "mlflow_model", "triton_model",
]  # fmt: skip
OutputType = Literal["uri_folder", "uri_file", "mltable", "custom_model", "mlflow_model"]
LITERAL_TYPES = frozenset({"integer", "number", "string", "boolean"})
COMPONENT_CLOUD_ONLY_FIELDS = (
    "resources", "distribution", "services", "identity", "queue_settings",
)  # fmt: skip

# What an asset of one type may be bound to. A model or an MLTable is a folder, so folder inputs
# take them and a folder may be read as one; a file is only a file.
_CAN_FEED: dict[str, frozenset[str]] = {
    "uri_file": frozenset({"uri_file"}),
    "uri_folder": frozenset({"uri_folder", "mltable", "custom_model", "mlflow_model", "triton_model"}),
    "mltable": frozenset({"mltable", "uri_folder"}),
    "custom_model": frozenset({"custom_model", "uri_folder"}),
    "mlflow_model": frozenset({"mlflow_model", "custom_model", "uri_folder"}),
    "triton_model": frozenset({"triton_model", "custom_model", "uri_folder"}),
}


def can_feed(source_type: str, target_type: str) -> bool:
    """Whether an asset (or output) of `source_type` may be bound to an input of `target_type`."""
    return target_type in _CAN_FEED.get(source_type, frozenset())


def literal_type_of(value: LiteralValue) -> str:
    """The input type a bare YAML value has: `boolean`, `integer`, `number` or `string`."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return "number" if isinstance(value, float) else "string"


def coerce_literal(input_type: str, value: object) -> LiteralValue:
    """`value` as an input of `input_type` (`"3"` → 3 for integer); ValueError saying what was expected."""
    if input_type == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise ValueError(f"expected integer, got {value!r}")
    if input_type == "number":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                pass
            else:
                if math.isfinite(number):
                    return number
        raise ValueError(f"expected number, got {value!r}")
    if input_type == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ValueError(f"expected true or false, got {value!r}")
    if input_type == "string":
        if isinstance(value, bool):
            return "true" if value else "false"  # as YAML writes it, not Python's True
        if isinstance(value, str | int | float):
            return str(value)
        raise ValueError(f"expected text, got {value!r}")
    raise ValueError(f"an input of type {input_type} takes an asset, not the value {value!r}")


class ComponentInput(BaseModel):
    """One declared input: a primitive (`integer`, `number`, `string`, `boolean`) or an asset type."""

    model_config = ConfigDict(extra="forbid")

    type: InputType
    default: Any = None
    optional: bool = False
    description: str | None = None
    min: int | float | None = None
    max: int | float | None = None
    enum: list[LiteralValue] | None = None
    mode: (
        Literal["ro_mount", "rw_mount", "download", "upload", "direct", "eval_mount", "eval_download"] | None
    ) = None

    @model_validator(mode="after")
    def _check_declaration(self) -> ComponentInput:
        if (self.min is not None or self.max is not None) and self.type not in ("integer", "number"):
            raise ValueError(f"min and max apply to integer and number inputs, not {self.type}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        if self.enum is not None:
            if self.type not in LITERAL_TYPES:
                raise ValueError(f"enum applies to string, integer, number or boolean, not {self.type}")
            if not self.enum:
                raise ValueError("enum: give at least one allowed value")
            try:
                self.enum = [coerce_literal(self.type, choice) for choice in self.enum]
            except ValueError as exc:
                raise ValueError(f"enum: {exc}") from None
        if self.default is not None:
            if self.is_asset:
                if not isinstance(self.default, str):
                    raise ValueError(f"default: expected a path or name:version, got {self.default!r}")
            else:
                try:
                    self.default = self.check_value(self.default)
                except ValueError as exc:
                    raise ValueError(f"default: {exc}") from None
        return self

    @property
    def is_asset(self) -> bool:
        return self.type not in LITERAL_TYPES

    @property
    def is_required(self) -> bool:
        return not self.optional and self.default is None

    def check_value(self, value: object) -> LiteralValue:
        """A literal `value` coerced to this input's type and checked against enum, min and max."""
        coerced = coerce_literal(self.type, value)
        if self.enum is not None and coerced not in self.enum:
            allowed = ", ".join(repr(choice) for choice in self.enum)
            raise ValueError(f"expected one of {allowed}, got {value!r}")
        if isinstance(coerced, int | float) and not isinstance(coerced, bool):
            if self.min is not None and coerced < self.min:
                raise ValueError(f"expected at least {self.min}, got {value!r}")
            if self.max is not None and coerced > self.max:
                raise ValueError(f"expected at most {self.max}, got {value!r}")
        return coerced


class ComponentOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: OutputType = "uri_folder"
    description: str | None = None
    mode: Literal["rw_mount", "upload", "direct"] | None = None


class CommandComponentSpec(BaseModel):
    """A reusable step: code + command + typed inputs and outputs + environment.

    `name` may be left out only for an anonymous component written inline in a pipeline step.
    """

    model_config = ConfigDict(extra="forbid")

    type: Literal["command"] = "command"
    name: str | None = None
    version: str | None = None
    display_name: str | None = None
    description: str | None = None
    tags: TextMap = Field(default_factory=dict)
    is_deterministic: bool = True
    # inputs and outputs come before command: its validator checks its bindings against them.
    inputs: dict[str, ComponentInput] = Field(default_factory=dict)
    outputs: dict[str, ComponentOutput] = Field(default_factory=dict)
    command: str = Field(min_length=1)
    code: str | None = None
    # Files and folders (relative to the YAML) copied into the root of the code, as Azure does.
    additional_includes: list[str] = Field(default_factory=list)
    environment: str | dict[str, Any] | None = None
    environment_variables: TextMap = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _drop_cloud_only_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = {key: value for key, value in data.items() if key not in COMPONENT_CLOUD_ONLY_FIELDS}
            data.pop("$schema", None)
        return data

    @field_validator("name")
    @classmethod
    def _name_is_valid(cls, name: str | None) -> str | None:
        if name is not None:
            try:
                validate_name(name, "component name")
            except InvalidArgument as exc:
                raise ValueError(exc.message) from None
        return name

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value

    @field_validator("command")
    @classmethod
    def _bindings_resolve(cls, command: str, info: ValidationInfo) -> str:
        for binding in bindings(command):
            if binding.kind == "search_space":
                raise ValueError(f"uses {binding}, but a component binds only ${{{{inputs.…}}}} and outputs")
            if binding.kind not in info.data:
                continue  # that field failed its own validation: its error says why, not this one
            declared = info.data[binding.kind]
            if binding.name not in declared:
                names = ", ".join(sorted(declared)) or "none"
                hint = did_you_mean(binding.name, declared)
                raise ValueError(
                    f"uses {binding}, but {binding.kind} has no {binding.name!r}{hint} (declared: {names})"
                )
        return command

    @property
    def reference(self) -> str:
        """`name:version` (or the bare name, or `<anonymous>`), for messages."""
        if self.name is None:
            return "<anonymous>"
        return f"{self.name}:{self.version}" if self.version else self.name

    def inputs_the_command_needs(self) -> set[str]:
        """Inputs the command uses outside `$[[ … ]]`: an optional one of these needs a value anyway."""
        return {b.name for b in bindings(self.command) if b.kind == "inputs" and not b.optional}

    def bind_inputs(self, given: Mapping[str, object], where: str) -> dict[str, object]:
        """Every declared input mapped to its value: `given`, else the default, else None if optional.

        Literals are coerced to their declared type (`"3"` → 3 for an integer); an asset input takes
        a `JobInput` of a compatible type (or anything else that is not a plain value, unchanged,
        such as a resolved input), and its default becomes a `JobInput`. Every problem is reported
        at once, as `InvalidSpec` lines `{where}.inputs.{name}: …`.
        """
        problems: list[str] = []
        for name in given:
            if name not in self.inputs:
                declared = ", ".join(sorted(self.inputs)) or "none"
                hint = did_you_mean(name, self.inputs)
                problems.append(
                    f"{where}.inputs.{name}: component {self.reference} has no input {name!r}{hint} "
                    f"(declared: {declared})"
                )
        bound: dict[str, object] = {}
        needed = self.inputs_the_command_needs()
        for name, port in self.inputs.items():
            try:
                bound[name] = self._bind_one(port, given.get(name))
            except ValueError as exc:
                problems.append(f"{where}.inputs.{name}: {exc}")
                continue
            if bound[name] is None and name in needed:
                problems.append(f"{where}.inputs.{name}: {self.optional_but_needed(name)}")
        if problems:
            raise InvalidSpec("\n".join(problems))
        return bound

    def optional_but_needed(self, name: str) -> str:
        return (
            f"optional input of component {self.reference} is not given, but its command uses "
            f"${{{{inputs.{name}}}}} outside $[[ … ]]; give a value"
        )

    def _bind_one(self, port: ComponentInput, value: object) -> object:
        if value is None:
            if port.default is not None:
                return JobInput(type=port.type, path=port.default) if port.is_asset else port.default
            if port.optional:
                return None
            raise ValueError(f"required input of component {self.reference} is missing ({port.type})")
        if isinstance(value, JobInput):
            if value.is_asset:
                if not can_feed(value.type, port.type):
                    raise ValueError(f"got a {value.type}, but this input takes {port.type}")
                return value
            if port.is_asset:
                raise ValueError(f"got a {value.type} value, but this input takes {port.type}")
            return port.check_value(value.value)
        if not isinstance(value, str | int | float | bool):
            if port.is_asset:
                return value  # already resolved by the caller
            raise ValueError(f"expected a {port.type} value, got {value!r}")
        if port.is_asset:
            raise ValueError(
                f"this input takes {port.type}: give {{type: {port.type}, path: …}}, not the value {value!r}"
            )
        return port.check_value(value)


def load_component(path: Path) -> CommandComponentSpec:
    """Read and validate a command component YAML; errors name the file and the field."""
    data = load_yaml(path)
    component_type = data.get("type", "command")
    if component_type != "command":
        raise InvalidSpec(f"{path}: type: only command components are supported, got {component_type!r}")
    return validate_spec(CommandComponentSpec, data, str(path))
