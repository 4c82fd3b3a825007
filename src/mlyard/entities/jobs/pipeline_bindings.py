"""Bindings a pipeline step writes in its inputs and outputs, and the parser that reads them.

    ${{parent.inputs.x}}            a pipeline input
    ${{parent.jobs.a.outputs.b}}    output b of step a
    ${{parent.outputs.c}}           a pipeline output (only as a step's output)

A value that is exactly one binding binds; any other value is a literal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from mlyard.entities.jobs.job_spec import JobInput
from mlyard.entities.specs.spec_values import LiteralValue
from mlyard.errors import InvalidSpec

_NAME = r"[A-Za-z_][A-Za-z0-9_\-]*"
_PIPELINE_BINDING = re.compile(
    rf"^\$\{{\{{\s*parent\.(?:inputs\.(?P<input>{_NAME})|jobs\.(?P<step>{_NAME})\.outputs\.(?P<output>{_NAME})"
    rf"|outputs\.(?P<parent_output>{_NAME}))\s*\}}\}}$"
)
_ANY_BINDING = re.compile(r"^\$\{\{(?P<body>.*)\}\}$", re.DOTALL)


@dataclass(frozen=True)
class Binding:
    """A step's input or output value: a literal, or exactly one `${{parent.…}}` binding."""

    kind: Literal["literal", "parent_input", "step_output", "parent_output"]
    name: str | None = None  # the input or output bound to
    step: str | None = None  # step_output: the step that writes it
    value: LiteralValue | None = None  # literal

    def __str__(self) -> str:
        if self.kind == "parent_input":
            return f"${{{{parent.inputs.{self.name}}}}}"
        if self.kind == "step_output":
            return f"${{{{parent.jobs.{self.step}.outputs.{self.name}}}}}"
        if self.kind == "parent_output":
            return f"${{{{parent.outputs.{self.name}}}}}"
        return repr(self.value)


def binding_of(value: LiteralValue) -> Binding:
    """What `value` binds to; a value that is not exactly one binding is a literal.

    `InvalidSpec` for a value written as a binding (`${{…}}`) that a pipeline step cannot use,
    with the spelling it most likely meant.
    """
    if not isinstance(value, str):
        return Binding("literal", value=value)
    text = value.strip()
    match = _PIPELINE_BINDING.match(text)
    if match is not None:
        if match["input"]:
            return Binding("parent_input", name=match["input"])
        if match["step"]:
            return Binding("step_output", name=match["output"], step=match["step"])
        return Binding("parent_output", name=match["parent_output"])
    written = _ANY_BINDING.match(text)
    if written is None:
        return Binding("literal", value=value)
    body = written["body"].strip()
    hint = (
        f"; did you mean ${{{{parent.{body}}}}}?" if body.startswith(("inputs.", "jobs.", "outputs.")) else ""
    )
    raise InvalidSpec(
        f"{value!r} is not a binding a pipeline step can use: write ${{{{parent.inputs.<name>}}}}, "
        f"${{{{parent.jobs.<step>.outputs.<name>}}}} or ${{{{parent.outputs.<name>}}}}{hint}"
    )


def binding_text(value: object) -> LiteralValue | None:
    """The text of a step input that may hold a binding: the value, or a mapping's path or value."""
    if isinstance(value, JobInput):
        return value.path if value.path is not None else value.value
    return value if isinstance(value, str | int | float | bool) else None


def bound_to(value: object) -> Binding | None:
    """The binding a step input value holds, if it is one and well formed."""
    text = binding_text(value)
    if text is None:
        return None
    try:
        bound = binding_of(text)
    except InvalidSpec:
        return None
    return None if bound.kind == "literal" else bound
