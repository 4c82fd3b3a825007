"""Reading YAML specs with errors that say where: `train.yml: inputs.lr: expected number, got 'abc'`.

Every spec (jobs, components, environments, …) goes through `load_yaml` and `validate_spec`, so
a user always learns the file, the field path and what was expected — never a pydantic dump.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from mlyard.errors import InvalidSpec, NotFound

SpecT = TypeVar("SpecT", bound=BaseModel)

# Azure ML writes these at the top of every YAML; they say nothing about the spec itself.
IGNORED_KEYS = frozenset({"$schema"})


def load_yaml(path: Path) -> dict[str, Any]:
    """The YAML mapping in `path`; `InvalidSpec` naming the file (and line) when it is not one."""
    import yaml

    if not path.is_file():
        raise NotFound(f"spec file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise InvalidSpec(f"{path}{where}: not valid YAML: {exc.problem}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidSpec(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidSpec(f"{path}: expected a mapping of fields at the top, got {type(data).__name__}")
    return {key: value for key, value in data.items() if key not in IGNORED_KEYS}


def validate_spec(model: type[SpecT], data: dict[str, Any], source: str) -> SpecT:
    """`model` validated from `data`; every problem reported as `source: field.path: message`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [f"{source}: {_location(error['loc'])}: {_message(error)}" for error in exc.errors()]
        raise InvalidSpec("\n".join(problems)) from None


def _location(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts[-1:] = [f"{parts[-1]}[{part}]"] if parts else [f"[{part}]"]
        elif part.startswith(("function-", "union[", "literal[")) or part in _TYPE_TAGS:
            continue  # pydantic's name for a union branch or validator, not a field
        else:
            parts.append(part)
    return ".".join(parts) or "(top level)"


_TYPE_TAGS = frozenset({"str", "int", "float", "bool", "dict[str,any]", "list[any]", "none"})


def _message(error: Any) -> str:
    kind, given = error["type"], error.get("input")
    if kind == "extra_forbidden":
        return "unknown field (check the spelling)"
    if kind == "missing":
        return "required field is missing"
    expected = {
        "float_parsing": "number", "float_type": "number", "int_parsing": "integer",
        "int_type": "integer", "int_from_float": "integer", "bool_parsing": "true or false",
        "bool_type": "true or false", "string_type": "text", "dict_type": "a mapping",
        "list_type": "a list",
    }.get(kind)  # fmt: skip
    if expected is not None:
        return f"expected {expected}, got {given!r}"
    return str(error["msg"]).removeprefix("Value error, ")
