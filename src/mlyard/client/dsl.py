"""Python DSL: components from functions and pipelines from functions, as Azure ML's SDK writes them.

    from mlyard import Input, Output, command_component, pipeline

    @command_component(environment="inherit")
    def prep(raw_data: Input(type="uri_file"), prep_data: Output(type="uri_folder"), rows: int = 100):
        ...  # runs inside the job, with paths as strings

    @pipeline(experiment_name="taxi")
    def taxi(raw: Input(type="uri_file"), rows: int = 100):
        step = prep(raw_data=raw, rows=rows)
        return {"clean": step.outputs.prep_data}

    if __name__ == "__main__":  # steps import this module to run `prep`: never submit at import
        job = client.jobs.create(taxi(raw=Input(type="uri_file", path="data/raw.csv")))

A component function runs in the job's process through `python -m mlyard.runtime.function_runner`,
so its module must be importable from its own folder (which becomes the component's code).
Calling a component inside a `@pipeline` function adds a step; calling it elsewhere gives a
command job that `client.jobs.create` submits. Either way the YAML-equivalent spec is built and
goes through the same validation as a YAML file.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlyard.errors import InvalidSpec

_PRIMITIVES = {int: "integer", float: "number", str: "string", bool: "boolean"}


@dataclass
class Input:
    """A typed input: an annotation in a signature, or a value (`path=`) when calling."""

    type: str = "uri_folder"
    path: str | None = None
    default: Any = None
    optional: bool = False
    description: str | None = None
    mode: str | None = None
    min: float | None = None
    max: float | None = None
    enum: list[Any] | None = None

    def as_job_input(self) -> dict[str, Any]:
        given: dict[str, Any] = {"type": self.type}
        if self.path is not None:
            given["path"] = str(self.path)
        if self.mode is not None:
            given["mode"] = self.mode
        return given


@dataclass
class Output:
    """A typed output in a signature; `name`/`version` register it when the job completes."""

    type: str = "uri_folder"
    name: str | None = None
    version: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class _ParentInput:
    name: str

    def binding(self) -> str:
        return f"${{{{parent.inputs.{self.name}}}}}"


@dataclass(frozen=True)
class NodeOutput:
    step: str
    name: str

    def binding(self) -> str:
        return f"${{{{parent.jobs.{self.step}.outputs.{self.name}}}}}"


class _Outputs:
    def __init__(self, step: str, names: list[str]) -> None:
        self._step = step
        self._names = names

    def __getattr__(self, name: str) -> NodeOutput:
        if name.startswith("_") or name not in self._names:
            raise AttributeError(
                f"step {self._step} has no output {name!r} (outputs: {', '.join(self._names)})"
            )
        return NodeOutput(self._step, name)

    def __getitem__(self, name: str) -> NodeOutput:
        return self.__getattr__(name)


@dataclass
class Node:
    """A call of a component: a pipeline step, or on its own a command job to submit."""

    component: CommandComponent
    inputs: dict[str, Any]
    name: str
    outputs: _Outputs = field(init=False)
    output_settings: dict[str, Any] = field(default_factory=dict)
    compute: str | None = None
    retry: int = 0
    timeout: int | None = None

    def __post_init__(self) -> None:
        self.outputs = _Outputs(self.name, list(self.component.outputs))

    def to_step(self) -> dict[str, Any]:
        step: dict[str, Any] = {"type": "command", "component": self.component.spec_dict()}
        step["inputs"] = {name: _bound(value) for name, value in self.inputs.items()}
        if self.output_settings:
            step["outputs"] = self.output_settings
        if self.compute:
            step["compute"] = self.compute
        if self.retry:
            step["retry"] = self.retry
        if self.timeout:
            step["timeout"] = self.timeout
        return step

    def to_spec(self) -> dict[str, Any]:
        """This call as a command job spec (for `client.jobs.create`)."""
        spec = self.component.spec_dict()
        job: dict[str, Any] = {
            "type": "command",
            "command": spec["command"],
            "code": spec.get("code"),
            "environment": spec.get("environment"),
            "inputs": {},
            "outputs": {name: dict(output) for name, output in spec.get("outputs", {}).items()},
            "display_name": self.name,
        }
        for name, value in self.inputs.items():
            declared = spec["inputs"][name]
            if isinstance(value, Input):
                job["inputs"][name] = value.as_job_input()
            elif isinstance(value, _ParentInput | NodeOutput):
                raise InvalidSpec(f"{self.name}: input {name} is bound to a pipeline; submit the pipeline")
            elif value is not None:
                job["inputs"][name] = {"type": declared["type"], "value": value}
        if self.compute:
            job["compute"] = self.compute
        return {key: value for key, value in job.items() if value is not None}


class CommandComponent:
    """A component made from a Python function by `@command_component`."""

    def __init__(self, function: Callable[..., Any], **options: Any) -> None:
        self.function = function
        self.options = options
        self.name: str = options.get("name") or function.__name__
        self.inputs: dict[str, Input] = {}
        self.outputs: dict[str, Output] = {}
        # eval_str: modules with `from __future__ import annotations` hold annotations as text.
        for parameter in inspect.signature(function, eval_str=True).parameters.values():
            self._declare(parameter)
        functools.update_wrapper(self, function)

    def _declare(self, parameter: inspect.Parameter) -> None:
        annotation = parameter.annotation
        given_default = parameter.default is not inspect.Parameter.empty
        where = f"{self.function.__qualname__}({parameter.name})"
        if isinstance(annotation, Output):
            self.outputs[parameter.name] = annotation
        elif isinstance(annotation, Input):
            declared = Input(**{**annotation.__dict__})
            if given_default and declared.default is None:
                declared.default = parameter.default
                declared.optional = declared.optional or parameter.default is None
            self.inputs[parameter.name] = declared
        elif annotation in _PRIMITIVES:
            self.inputs[parameter.name] = Input(
                type=_PRIMITIVES[annotation],
                default=parameter.default if given_default else None,
                optional=given_default and parameter.default is None,
            )
        else:
            raise InvalidSpec(
                f"{where}: annotate it with Input(type=...), Output(type=...), int, float, str or bool"
            )

    def spec_dict(self) -> dict[str, Any]:
        """The component as the YAML mapping it stands for."""
        source = Path(inspect.getfile(self.function)).resolve()
        module = source.stem
        arguments = []
        for name, declared in self.inputs.items():
            part = f"--{name} ${{{{inputs.{name}}}}}"
            arguments.append(f"$[[{part}]]" if declared.optional else part)
        arguments += [f"--{name} ${{{{outputs.{name}}}}}" for name in self.outputs]
        command = " ".join(
            ["python -m mlyard.runtime.function_runner", f"{module}:{self.function.__name__}", *arguments]
        )
        spec: dict[str, Any] = {
            "type": "command",
            "name": self.name,
            "display_name": self.options.get("display_name"),
            "description": self.options.get("description") or inspect.getdoc(self.function),
            "is_deterministic": self.options.get("is_deterministic", True),
            "code": str(source.parent),
            "environment": self.options.get("environment"),
            "command": command,
            "inputs": {name: _input_declaration(declared) for name, declared in self.inputs.items()},
            "outputs": {name: {"type": declared.type} for name, declared in self.outputs.items()},
        }
        if self.options.get("version") is not None:
            spec["version"] = str(self.options["version"])
        return {key: value for key, value in spec.items() if value is not None}

    def __call__(self, *args: Any, **kwargs: Any) -> Node:
        if args:
            raise InvalidSpec(f"call component {self.name} with keyword arguments (its input names)")
        unknown = set(kwargs) - set(self.inputs)
        if unknown:
            raise InvalidSpec(
                f"component {self.name} has no input {sorted(unknown)[0]!r} "
                f"(inputs: {', '.join(self.inputs)})"
            )
        builder = _current_pipeline()
        name = builder.step_name(self.name) if builder else self.name
        node = Node(self, dict(kwargs), name)
        if builder is not None:
            builder.nodes.append(node)
        return node


def command_component(
    function: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    version: str | None = None,
    display_name: str | None = None,
    description: str | None = None,
    environment: str | dict[str, Any] | None = None,
    is_deterministic: bool = True,
) -> Any:
    """Make a command component from a function; usable with or without arguments."""

    def wrap(inner: Callable[..., Any]) -> CommandComponent:
        return CommandComponent(
            inner, name=name, version=version, display_name=display_name, description=description,
            environment=environment, is_deterministic=is_deterministic,
        )  # fmt: skip

    return wrap(function) if function is not None else wrap


# --- pipelines ---------------------------------------------------------------------------------


class _PipelineBuilder:
    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self._names: dict[str, int] = {}

    def step_name(self, base: str) -> str:
        count = self._names.get(base, 0)
        self._names[base] = count + 1
        return base if count == 0 else f"{base}_{count}"


_local = threading.local()


def _current_pipeline() -> _PipelineBuilder | None:
    return getattr(_local, "builder", None)


@dataclass
class PipelineJob:
    """A pipeline built by calling a `@pipeline` function; `client.jobs.create` submits it."""

    spec: dict[str, Any]

    def to_spec(self) -> dict[str, Any]:
        return self.spec


def pipeline(
    function: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    display_name: str | None = None,
    description: str | None = None,
    experiment_name: str | None = None,
    default_compute: str | None = None,
    continue_on_step_failure: bool = False,
    force_rerun: bool = False,
    max_concurrency: int | None = None,
) -> Any:
    """Make a pipeline from a function that calls components; calling it builds a `PipelineJob`."""

    def wrap(inner: Callable[..., Any]) -> Callable[..., PipelineJob]:
        signature = inspect.signature(inner)

        @functools.wraps(inner)
        def build(*args: Any, **kwargs: Any) -> PipelineJob:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            values = dict(bound.arguments)
            placeholders = {key: _ParentInput(key) for key in values}
            builder = _PipelineBuilder()
            _local.builder = builder
            try:
                returned = inner(**placeholders)
            finally:
                _local.builder = None
            if not builder.nodes:
                raise InvalidSpec(f"pipeline {inner.__name__} calls no component")
            outputs: dict[str, Any] = {}
            for output_name, produced in (returned or {}).items():
                if not isinstance(produced, NodeOutput):
                    raise InvalidSpec(f"pipeline {inner.__name__} returns {output_name!r}: not a step output")
                node = next(n for n in builder.nodes if n.name == produced.step)
                node.output_settings[produced.name] = f"${{{{parent.outputs.{output_name}}}}}"
                outputs[output_name] = {"type": node.component.outputs[produced.name].type}
            settings: dict[str, Any] = {
                "continue_on_step_failure": continue_on_step_failure,
                "force_rerun": force_rerun,
            }
            if default_compute:
                settings["default_compute"] = default_compute
            if max_concurrency:
                settings["max_concurrency"] = max_concurrency
            spec: dict[str, Any] = {
                "type": "pipeline",
                "display_name": display_name or name or inner.__name__,
                "description": description or inspect.getdoc(inner),
                "experiment_name": experiment_name,
                "inputs": {key: _pipeline_input(value) for key, value in values.items() if value is not None},
                "outputs": outputs,
                "settings": settings,
                "jobs": {node.name: node.to_step() for node in builder.nodes},
            }
            return PipelineJob({key: value for key, value in spec.items() if value is not None})

        return build

    return wrap(function) if function is not None else wrap


def _bound(value: Any) -> Any:
    if isinstance(value, _ParentInput | NodeOutput):
        return value.binding()
    if isinstance(value, Input):
        return value.as_job_input()
    return value


def _pipeline_input(value: Any) -> Any:
    if isinstance(value, Input):
        return value.as_job_input()
    return value


def _input_declaration(declared: Input) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": declared.type}
    for key in ("default", "description", "min", "max", "enum", "mode"):
        value = getattr(declared, key)
        if value is not None:
            spec[key] = value
    if declared.optional:
        spec["optional"] = True
    return spec
