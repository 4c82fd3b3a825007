"""Azure ML command templates: `${{inputs.x}}`, `${{outputs.y}}` and optional `$[[ … ]]` parts.

    python train.py --data ${{inputs.data}} $[[--epochs ${{inputs.epochs}}]] --out ${{outputs.model}}

An optional part is dropped when an input it names was not given; every other binding must
resolve, and an unknown one is an error naming it.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from mlyard.errors import InvalidSpec

_BINDING = re.compile(r"\$\{\{\s*(inputs|outputs|search_space)\.([A-Za-z_][A-Za-z0-9_.\-]*)\s*\}\}")
_OPTIONAL = re.compile(r"\$\[\[(.*?)\]\]", re.DOTALL)


@dataclass(frozen=True)
class Binding:
    kind: str  # "inputs", "outputs" or "search_space"
    name: str
    optional: bool

    def __str__(self) -> str:
        return f"${{{{{self.kind}.{self.name}}}}}"


def bindings(command: str) -> list[Binding]:
    """Every binding in `command`, in order, marking those inside an optional `$[[ … ]]` part."""
    found = []
    optional_spans = [match.span() for match in _OPTIONAL.finditer(command)]
    for match in _BINDING.finditer(command):
        inside = any(start <= match.start() < end for start, end in optional_spans)
        found.append(Binding(kind=match[1], name=match[2], optional=inside))
    return found


def render_command(
    command: str,
    inputs: Mapping[str, str | None],
    outputs: Mapping[str, str],
    search_space: Mapping[str, str] | None = None,
) -> str:
    """The command with bindings replaced by shell-quoted values.

    `inputs` maps every declared input to its value, or None when it was not given (allowed only
    inside `$[[ … ]]`, which is then dropped).
    """
    values = {"inputs": inputs, "outputs": outputs, "search_space": search_space or {}}

    def resolve(match: re.Match[str], optional: bool) -> str | None:
        kind, name = match[1], match[2]
        table = values[kind]
        if name not in table and optional:
            return None  # an optional part may name an input the job does not declare
        if name not in table:
            declared = ", ".join(sorted(table)) or "none"
            raise InvalidSpec(f"command uses {match[0]}, but {kind} has no {name!r} (declared: {declared})")
        value = table[name]
        if value is None:
            if optional:
                return None
            raise InvalidSpec(f"command uses {match[0]} outside $[[ … ]], but no value was given for it")
        return shlex.quote(str(value))

    def render_optional(part: re.Match[str]) -> str:
        rendered: list[str | None] = []
        text = _BINDING.sub(lambda m: _keep(rendered, resolve(m, optional=True)), part[1])
        return "" if any(value is None for value in rendered) else text

    without_optional = _OPTIONAL.sub(render_optional, command)
    rendered = _BINDING.sub(lambda m: resolve(m, optional=False) or "", without_optional)
    return rendered.strip()  # a dropped optional part may leave spaces; they are harmless to a shell


def _keep(rendered: list[str | None], value: str | None) -> str:
    rendered.append(value)
    return value or ""
