"""The step graph of a pipeline job, checked before anything runs.

`build_graph` takes a `PipelineJobSpec` and the component of every step that names one (the
engine resolves `./train.yml` or `train:1` and passes them in; inline command steps are turned
into components here), follows each binding

    ${{parent.inputs.x}}            a pipeline input
    ${{parent.jobs.a.outputs.b}}    output b of step a (so the step runs after a)
    ${{parent.outputs.c}}           a pipeline output the step's output is written to

and reports every problem at once — unknown steps, inputs and outputs (with a did-you-mean),
type mismatches, bad literals, missing inputs, cycles — each line naming the file, the step and
the field: `pipeline.yml: jobs.score.inputs.model: step 'train' has no output 'modle' …`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from mlyard.entities.assets.component_spec import (
    CommandComponentSpec,
    ComponentInput,
    ComponentOutput,
    can_feed,
    literal_type_of,
)
from mlyard.entities.jobs.job_spec import JobInput, JobOutput
from mlyard.entities.jobs.pipeline_bindings import Binding, binding_of, binding_text, bound_to
from mlyard.entities.jobs.pipeline_spec import AnyPipelineStep, PipelineJobSpec
from mlyard.entities.specs.command_line import bindings
from mlyard.entities.specs.spec_files import did_you_mean
from mlyard.entities.specs.spec_values import LiteralValue
from mlyard.errors import InvalidSpec


@dataclass(frozen=True)
class InputBinding:
    """Where one component input of a step gets its value.

    `source` is `literal` (value), `asset` (a `{type, path}` given in the step), `parent_input`
    (named `parent_input`; its `value` or `asset` copied here), `step_output` (`step` + `output`),
    `default` (the component's default, as `value` or `asset`) or `not_given` (optional, no value).
    """

    type: str  # the component input's type
    source: Literal["literal", "asset", "parent_input", "step_output", "default", "not_given"]
    value: LiteralValue | None = None  # coerced to `type`
    asset: JobInput | None = None
    parent_input: str | None = None
    step: str | None = None
    output: str | None = None
    mode: str | None = None  # a delivery mode the step asked for


@dataclass(frozen=True)
class OutputBinding:
    """One output of a step: its type, the pipeline output it is written to, and the step's settings."""

    type: str
    parent_output: str | None = None
    settings: JobOutput | None = None  # mode, name/version to register, path, as the step gave them


@dataclass(frozen=True)
class StepBinding:
    """One step, checked: its component, where each input comes from and where each output goes."""

    name: str
    step: AnyPipelineStep
    component: CommandComponentSpec
    inputs: dict[str, InputBinding]
    outputs: dict[str, OutputBinding]
    depends_on: frozenset[str]
    compute: str | None

    @property
    def is_deterministic(self) -> bool:
        """Whether an earlier run with the same signature may be reused (the step may override)."""
        if self.step.is_deterministic is not None:
            return self.step.is_deterministic
        return self.component.is_deterministic

    @property
    def environment(self) -> str | dict[str, Any] | None:
        return self.step.environment or self.component.environment

    @property
    def environment_variables(self) -> dict[str, str]:
        return {**self.component.environment_variables, **self.step.environment_variables}


class PipelineGraph:
    """The checked steps of a pipeline (`steps`, in the order the YAML lists them) and their order."""

    def __init__(self, spec: PipelineJobSpec, steps: dict[str, StepBinding]) -> None:
        self.spec = spec
        self.steps = steps
        self._dependents: dict[str, set[str]] = {name: set() for name in steps}
        for name, step in steps.items():
            for upstream in step.depends_on:
                self._dependents[upstream].add(name)

    def dependencies(self, step: str) -> set[str]:
        """Steps whose outputs `step` reads."""
        return set(self.steps[step].depends_on)

    def dependents(self, step: str) -> set[str]:
        """Steps that read an output of `step`."""
        return set(self._dependents[step])

    def downstream(self, step: str) -> set[str]:
        """Every step that needs `step` to succeed, directly or through others."""
        found: set[str] = set()
        pending = [step]
        while pending:
            for later in self._dependents[pending.pop()]:
                if later not in found:
                    found.add(later)
                    pending.append(later)
        return found

    def topological_order(self) -> list[str]:
        """Every step after the steps it reads from; ties keep the YAML order."""
        order: list[str] = []
        done: set[str] = set()
        while len(order) < len(self.steps):
            ready = next(n for n, s in self.steps.items() if n not in done and s.depends_on <= done)
            order.append(ready)
            done.add(ready)
        return order

    def parent_output_sources(self) -> dict[str, tuple[str, str]]:
        """Each bound pipeline output → (step, output) that writes it."""
        return {
            binding.parent_output: (name, output)
            for name, step in self.steps.items()
            for output, binding in step.outputs.items()
            if binding.parent_output is not None
        }


def inline_component(
    step: AnyPipelineStep,
    input_types: Mapping[str, str] | None = None,
    output_types: Mapping[str, str] | None = None,
) -> CommandComponentSpec:
    """The anonymous component an inline command step (or a parallel step) runs.

    Types come from the step: a literal's own type, a mapping's `type`. An input fed by a binding
    takes its type from `input_types` (the graph passes the type of what it is bound to), else
    `string` for a pipeline input and `uri_folder` for a step output; an output bound to a pipeline
    output takes `output_types`, else `uri_folder`.
    """
    if step.command is None:
        raise InvalidSpec("this step runs a component, not an inline command")
    input_types = input_types or {}
    output_types = output_types or {}
    inputs: dict[str, ComponentInput] = {}
    for name, value in step.inputs.items():
        bound = bound_to(value)
        if value is None:
            inputs[name] = ComponentInput(type="string", optional=True)
        elif bound is not None:
            fallback = "uri_folder" if bound.kind == "step_output" else "string"
            inputs[name] = ComponentInput.model_validate({"type": input_types.get(name, fallback)})
        elif isinstance(value, JobInput):
            inputs[name] = ComponentInput(type=value.type, mode=value.mode)
        else:
            inputs[name] = ComponentInput.model_validate({"type": literal_type_of(value)})
    for used in bindings(step.command):
        if used.kind == "inputs" and used.name not in inputs:
            inputs[used.name] = ComponentInput(type="string", optional=True)  # in a dropped $[[ … ]]
    outputs = {
        name: ComponentOutput.model_validate(
            {"type": output_types.get(name) or (value.type if isinstance(value, JobOutput) else "uri_folder")}
        )
        for name, value in step.outputs.items()
    }
    return CommandComponentSpec(
        command=step.command,
        code=step.code,
        environment=step.environment,
        inputs=inputs,
        outputs=outputs,
        display_name=step.display_name,
        description=step.description,
        is_deterministic=True if step.is_deterministic is None else step.is_deterministic,
    )


def build_graph(
    spec: PipelineJobSpec, components: Mapping[str, CommandComponentSpec], source: str
) -> PipelineGraph:
    """Check every binding of `spec` and return its graph; `InvalidSpec` listing every problem.

    `components` maps each step that names a component (`component: ./train.yml`, `train:1`) to
    that component; inline components and inline command steps need no entry. `source` (the YAML
    path) starts every error line.
    """
    return _GraphBuilder(spec, components, source).build()


def _declared(names: Mapping[str, object]) -> str:
    return ", ".join(sorted(names)) or "none"


class _GraphBuilder:
    """One pass over a pipeline spec collecting every problem before any is reported."""

    def __init__(
        self, spec: PipelineJobSpec, components: Mapping[str, CommandComponentSpec], source: str
    ) -> None:
        self.spec = spec
        self.source = source
        self.problems: list[str] = []
        self.components: dict[str, CommandComponentSpec] = {}
        self.edges: dict[tuple[str, str], str] = {}  # (reader, writer) → the reader's first input
        self.claims: dict[str, tuple[str, str]] = {}  # pipeline output → (step, output) writing it
        for name, step in spec.jobs.items():
            if name in components:
                self.components[name] = components[name]
            elif isinstance(step.component, CommandComponentSpec):
                self.components[name] = step.component
            elif step.component is not None:
                self.problem(name, "component", f"component {step.component!r} was not resolved")
        # an inline step's output types do not depend on its inputs: know them all first
        self.inline_outputs = {
            name: self._inline_output_types(step) for name, step in spec.jobs.items() if step.is_inline
        }
        for name, step in spec.jobs.items():
            if step.is_inline:
                self.components[name] = inline_component(
                    step, self._inline_input_types(step), self.inline_outputs[name]
                )

    def problem(self, step: str, where: str, message: str) -> None:
        self.problems.append(f"{self.source}: jobs.{step}.{where}: {message}")

    def build(self) -> PipelineGraph:
        steps: dict[str, StepBinding] = {}
        for name, step in self.spec.jobs.items():
            component = self.components.get(name)
            if component is None:
                continue
            inputs = self._bind_inputs(name, step, component)
            outputs = self._bind_outputs(name, step, component)
            depends_on = frozenset(writer for reader, writer in self.edges if reader == name)
            steps[name] = StepBinding(
                name, step, component, inputs, outputs, depends_on, self.spec.step_compute(name)
            )
        self._check_cycles()
        if self.problems:
            raise InvalidSpec("\n".join(self.problems))
        return PipelineGraph(self.spec, steps)

    # -- inline steps: an output bound to a pipeline output has its type; an input, its source's
    def _inline_output_types(self, step: AnyPipelineStep) -> dict[str, str]:
        types: dict[str, str] = {}
        for name, value in step.outputs.items():
            if isinstance(value, JobOutput):
                types[name] = value.type
            elif isinstance(value, str) and (bound := bound_to(value)) and bound.kind == "parent_output":
                parent = self.spec.outputs.get(bound.name or "")
                types[name] = parent.type if parent is not None else "uri_folder"
            else:
                types[name] = "uri_folder"
        return types

    def _inline_input_types(self, step: AnyPipelineStep) -> dict[str, str]:
        types: dict[str, str] = {}
        for name, value in step.inputs.items():
            bound = bound_to(value)
            if bound is not None and (source_type := self._type_of(bound)) is not None:
                types[name] = source_type
        return types

    def _type_of(self, bound: Binding) -> str | None:
        if bound.kind == "parent_input" and bound.name in self.spec.inputs:
            given = self.spec.inputs[bound.name]
            return given.type if isinstance(given, JobInput) else literal_type_of(given)
        if bound.kind == "step_output" and bound.step is not None and bound.name is not None:
            if bound.step in self.inline_outputs:
                return self.inline_outputs[bound.step].get(bound.name)
            component = self.components.get(bound.step)
            if component is not None and bound.name in component.outputs:
                return component.outputs[bound.name].type
        return None

    # -- inputs
    def _bind_inputs(
        self, name: str, step: AnyPipelineStep, component: CommandComponentSpec
    ) -> dict[str, InputBinding]:
        for given in step.inputs:
            if given not in component.inputs:
                hint = did_you_mean(given, component.inputs)
                self.problem(
                    name,
                    f"inputs.{given}",
                    f"component {component.reference} has no input {given!r}{hint} "
                    f"(declared: {_declared(component.inputs)})",
                )
        needed = component.inputs_the_command_needs()
        bound: dict[str, InputBinding] = {}
        for input_name, port in component.inputs.items():
            try:
                binding = self._bind_input(name, input_name, port, step.inputs.get(input_name), component)
            except (ValueError, InvalidSpec) as exc:
                message = exc.message if isinstance(exc, InvalidSpec) else str(exc)
                self.problem(name, f"inputs.{input_name}", message)
                continue
            if binding.source == "not_given" and input_name in needed:
                self.problem(name, f"inputs.{input_name}", component.optional_but_needed(input_name))
            bound[input_name] = binding
        return bound

    def _bind_input(
        self, name: str, input_name: str, port: ComponentInput, value: object, component: CommandComponentSpec
    ) -> InputBinding:
        if value is None:
            if port.default is not None:
                if port.is_asset:
                    return InputBinding(
                        port.type, "default", asset=JobInput(type=port.type, path=port.default)
                    )
                return InputBinding(port.type, "default", value=port.default)
            if port.optional:
                return InputBinding(port.type, "not_given")
            raise ValueError(f"required input of component {component.reference} is missing ({port.type})")
        mode = value.mode if isinstance(value, JobInput) else None
        text = binding_text(value)
        bound = binding_of(text) if text is not None else Binding("literal")
        if bound.kind == "parent_input":
            return self._from_parent_input(bound, port, mode)
        if bound.kind == "step_output":
            return self._from_step_output(name, input_name, bound, port, mode)
        if bound.kind == "parent_output":
            raise ValueError(
                f"a step input cannot read {bound}: bind the step output that writes it, "
                "${{parent.jobs.<step>.outputs.<name>}}"
            )
        if isinstance(value, JobInput) and value.is_asset:
            if not port.is_asset or not can_feed(value.type, port.type):
                raise ValueError(f"got a {value.type}, but this input takes {port.type}")
            return InputBinding(port.type, "asset", asset=value, mode=mode)
        literal = value.value if isinstance(value, JobInput) else value
        if port.is_asset:
            raise ValueError(
                f"this input takes {port.type}: give {{type: {port.type}, path: …}} or a binding, "
                f"not the value {literal!r}"
            )
        return InputBinding(port.type, "literal", value=port.check_value(literal))

    def _from_parent_input(self, bound: Binding, port: ComponentInput, mode: str | None) -> InputBinding:
        assert bound.name is not None
        if bound.name not in self.spec.inputs:
            hint = did_you_mean(bound.name, self.spec.inputs)
            raise ValueError(
                f"{bound}: the pipeline has no input {bound.name!r}{hint} "
                f"(declared: {_declared(self.spec.inputs)})"
            )
        given = self.spec.inputs[bound.name]
        if isinstance(given, JobInput) and given.is_asset:
            if not port.is_asset or not can_feed(given.type, port.type):
                raise ValueError(f"{bound} is a {given.type}, but this input takes {port.type}")
            return InputBinding(port.type, "parent_input", asset=given, parent_input=bound.name, mode=mode)
        literal = given.value if isinstance(given, JobInput) else given
        if port.is_asset:
            raise ValueError(f"{bound} is the value {literal!r}, but this input takes {port.type}")
        try:
            value = port.check_value(literal)
        except ValueError as exc:
            raise ValueError(f"{bound} is {literal!r}, but this input takes {port.type}: {exc}") from None
        return InputBinding(port.type, "parent_input", value=value, parent_input=bound.name)

    def _from_step_output(
        self, name: str, input_name: str, bound: Binding, port: ComponentInput, mode: str | None
    ) -> InputBinding:
        writer, output = bound.step, bound.name
        assert writer is not None and output is not None
        if writer not in self.spec.jobs:
            hint = did_you_mean(writer, self.spec.jobs)
            raise ValueError(
                f"{bound}: there is no step {writer!r}{hint} (steps: {', '.join(self.spec.jobs)})"
            )
        self.edges.setdefault((name, writer), input_name)
        component = self.components.get(writer)
        if component is None:
            return InputBinding(port.type, "step_output", step=writer, output=output, mode=mode)
        if output not in component.outputs:
            hint = did_you_mean(output, component.outputs)
            raise ValueError(
                f"{bound}: step {writer!r} has no output {output!r}{hint} "
                f"(declared: {_declared(component.outputs)})"
            )
        output_type = component.outputs[output].type
        if not can_feed(output_type, port.type):
            raise ValueError(
                f"{bound} is a {output_type}, but this input takes {port.type}"
                + ("" if port.is_asset else ": a step output is a file or folder, not a value")
            )
        return InputBinding(port.type, "step_output", step=writer, output=output, mode=mode)

    # -- outputs
    def _bind_outputs(
        self, name: str, step: AnyPipelineStep, component: CommandComponentSpec
    ) -> dict[str, OutputBinding]:
        for given in step.outputs:
            if given not in component.outputs:
                hint = did_you_mean(given, component.outputs)
                self.problem(
                    name,
                    f"outputs.{given}",
                    f"component {component.reference} has no output {given!r}{hint} "
                    f"(declared: {_declared(component.outputs)})",
                )
        bound: dict[str, OutputBinding] = {}
        for output_name, port in component.outputs.items():
            try:
                bound[output_name] = self._bind_output(name, output_name, port, step.outputs.get(output_name))
            except (ValueError, InvalidSpec) as exc:
                message = exc.message if isinstance(exc, InvalidSpec) else str(exc)
                self.problem(name, f"outputs.{output_name}", message)
        return bound

    def _bind_output(
        self, name: str, output_name: str, port: ComponentOutput, value: object
    ) -> OutputBinding:
        if value is None:
            return OutputBinding(port.type)
        if isinstance(value, JobOutput):
            if "type" in value.model_fields_set and value.type != port.type:
                raise ValueError(
                    f"the component writes a {port.type} here, but the step declares {value.type}"
                )
            return OutputBinding(port.type, settings=value)
        bound = binding_of(str(value))
        if bound.kind != "parent_output":
            raise ValueError(
                f"an output takes ${{{{parent.outputs.<name>}}}} or a mapping such as {{mode: upload}}, "
                f"not {value!r}"
            )
        parent_name = bound.name
        assert parent_name is not None
        if parent_name not in self.spec.outputs:
            hint = did_you_mean(parent_name, self.spec.outputs)
            raise ValueError(
                f"{bound}: the pipeline has no output {parent_name!r}{hint} "
                f"(declared: {_declared(self.spec.outputs)})"
            )
        parent = self.spec.outputs[parent_name]
        if "type" in parent.model_fields_set and not can_feed(port.type, parent.type):
            raise ValueError(f"{bound} is a {parent.type}, but this step output is a {port.type}")
        if parent_name in self.claims:
            first_step, first_output = self.claims[parent_name]
            raise ValueError(
                f"{bound} is already written by jobs.{first_step}.outputs.{first_output}; "
                "a pipeline output takes one step output"
            )
        self.claims[parent_name] = (name, output_name)
        return OutputBinding(port.type, parent_output=parent_name)

    # -- cycles
    def _check_cycles(self) -> None:
        reads: dict[str, list[str]] = {name: [] for name in self.spec.jobs}
        for reader, writer in self.edges:
            reads[reader].append(writer)
        order = list(self.spec.jobs)
        state: dict[str, str] = {}  # "open" while on the path, "done" after
        path: list[str] = []
        reported: set[frozenset[str]] = set()

        def visit(step: str) -> None:
            state[step] = "open"
            path.append(step)
            for writer in reads[step]:
                if state.get(writer) == "open":
                    self._report_cycle(path[path.index(writer) :], order, reported)
                elif writer not in state:
                    visit(writer)
            path.pop()
            state[step] = "done"

        for step in order:
            if step not in state:
                visit(step)

    def _report_cycle(self, reading: list[str], order: list[str], reported: set[frozenset[str]]) -> None:
        if frozenset(reading) in reported:
            return
        reported.add(frozenset(reading))
        flow = list(reversed(reading))  # each step feeds the next
        start = min(range(len(flow)), key=lambda index: order.index(flow[index]))
        flow = flow[start:] + flow[:start]
        first, last = flow[0], flow[-1]
        shown = " → ".join([*flow, first])
        self.problem(
            first, f"inputs.{self.edges[(first, last)]}", f"the steps feed each other in a cycle: {shown}"
        )
