"""Reading YAML specs with errors that say where: `train.yml: inputs.lr: expected number, got 'abc'`.

Every spec (jobs, components, environments, …) goes through `load_yaml` and `validate_spec`, so
a user always learns the file, the field path and what was expected — never a pydantic dump.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from mlyard.entities.specs.spec_warnings import specs_are_strict, warn_spec
from mlyard.errors import InvalidSpec, NotFound

SpecT = TypeVar("SpecT", bound=BaseModel)

# Azure ML writes these at the top of every YAML; they say nothing about the spec itself.
IGNORED_KEYS = frozenset({"$schema"})


def load_yaml(path: Path) -> dict[str, Any]:
    """The YAML mapping in `path`; `InvalidSpec` naming the file (and line) when it is not one."""
    import yaml

    text = read_spec_text(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidSpec(yaml_problem(path, exc)) from None
    if data is None:
        raise InvalidSpec(f"{path} is empty (only comments or blank lines); expected a YAML mapping")
    if not isinstance(data, dict):
        raise InvalidSpec(f"{path}: expected a mapping of fields at the top, got {type(data).__name__}")
    return {key: value for key, value in data.items() if key not in IGNORED_KEYS}


def yaml_problem(path: Path | str, exc: Exception) -> str:
    """`file (line 3, column 7): not valid YAML: <problem>` on one line, where the parser's own
    message spans several (it quotes the offending line with a caret under it)."""
    import yaml

    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        return f"{path}{where}: not valid YAML: {exc.problem}"
    return f"{path}: not valid YAML: {' '.join(str(exc).split())}"


def read_spec_text(path: Path) -> str:
    """The text of the spec file `path`, or an error saying why it cannot be one.

    A folder, a device like /dev/null or an empty file is not "missing": saying so would send the
    user looking for a file that is there.
    """
    if path.is_dir():
        raise InvalidSpec(f"{path} is a folder, expected a YAML file")
    if not path.exists():
        raise NotFound(f"spec file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidSpec(f"{path}: not valid YAML: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise InvalidSpec(f"{path} cannot be read: {exc.strerror}") from None
    if not text.strip():
        raise InvalidSpec(f"{path} is empty; expected a YAML mapping of fields")
    return text


def validate_spec(
    model: type[SpecT], data: dict[str, Any], source: str, unknown_fields: Literal["warn", "refuse"] = "warn"
) -> SpecT:
    """`model` validated from `data`; every problem reported as `source: field.path: message`.

    Unknown fields are warned about and left out (`spec_warnings`), unless specs are strict here
    or the caller passes `unknown_fields="refuse"` (a `--set` typed just now is refused, not
    ignored); any other problem is an error that lists them all.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc
    problems = first.errors()
    if unknown_fields == "warn" and any(p["type"] == "extra_forbidden" for p in problems):
        spec = _without_unknown_fields(model, data, problems, source)
        if spec is not None:
            return spec
    raise InvalidSpec(_problem_lines(first, model, source)) from None


# Several passes: leaving out a field may let a union's other branch report its own unknown ones.
_UNKNOWN_FIELD_PASSES = 4


def _without_unknown_fields(
    model: type[SpecT], data: dict[str, Any], problems: list[Any], source: str
) -> SpecT | None:
    """`model` validated once the unknown fields are left out (each one warned about), or None
    when other problems remain or specs are strict (the caller then reports every problem)."""
    import copy

    if specs_are_strict():
        return None
    stripped, ignored = copy.deepcopy(data), []
    for _ in range(_UNKNOWN_FIELD_PASSES):
        unknown = [p for p in problems if p["type"] == "extra_forbidden"]
        if not unknown or not all(_drop_field(stripped, p["loc"]) for p in unknown):
            return None
        ignored += [_ignored_line(model, p["loc"], source) for p in unknown]
        try:
            spec = model.model_validate(stripped)
        except ValidationError as exc:
            problems = exc.errors()
            continue
        for line in ignored:
            warn_spec(line)
        return spec
    return None


def _drop_field(data: Any, loc: tuple[int | str, ...]) -> bool:
    """Remove the field at pydantic's `loc` from `data`; False when it is not found there."""
    target = data
    for part in loc[:-1]:
        in_mapping = isinstance(target, dict) and part in target
        in_list = isinstance(target, list) and isinstance(part, int) and 0 <= part < len(target)
        if in_mapping or in_list:
            target = target[part]
        # else: pydantic's tag for a union branch or a validator, not a level of the data
    if isinstance(target, dict) and loc[-1] in target:
        del target[loc[-1]]
        return True
    return False


def _ignored_line(model: type[BaseModel], loc: tuple[int | str, ...], source: str) -> str:
    hint = did_you_mean(str(loc[-1]), _field_names(model, loc[:-1]))
    return f"{source}: {_location(loc)}: unknown field, ignored{hint}"


def _problem_lines(exc: ValidationError, model: type[BaseModel], source: str) -> str:
    located = [(_location(error["loc"]), error) for error in exc.errors()]
    return "\n".join(
        f"{source}: {where}: {_message(error, model)}"
        for where, error in located
        if not _is_union_noise(where, error, located)
    )


_SCALAR_MISSES = frozenset({"string_type", "int_type", "float_type", "bool_type"})


def _is_union_noise(where: str, error: Any, located: list[tuple[str, Any]]) -> bool:
    """A mapping given where a value-or-mapping union is expected fails every scalar branch too.

    Those "expected text, got {...}" lines hide the real problem, which the mapping branch reports
    at the same place or deeper; drop them when it did.
    """

    def scalar_miss(problem: Any) -> bool:
        return problem["type"] in _SCALAR_MISSES and isinstance(problem.get("input"), dict | list)

    return scalar_miss(error) and any(
        not scalar_miss(other) and (place == where or place.startswith(where + "."))
        for place, other in located
    )


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """` (did you mean 'x'?)` when one of `candidates` is close to `name`, else an empty string.

    Close means similar spelling (difflib), or the only candidate that begins with `name` or that
    `name` begins with (`model` → `model_output`).
    """
    names = list(candidates)
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    if not close and name:
        lowered = name.lower()
        close = [c for c in names if c.lower().startswith(lowered) or (c and lowered.startswith(c.lower()))]
    return f" (did you mean {close[0]!r}?)" if len(close) == 1 else ""


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


def _message(error: Any, model: type[BaseModel]) -> str:
    kind, given = error["type"], error.get("input")
    if kind == "extra_forbidden":
        name = str(error["loc"][-1])
        hint = did_you_mean(name, _field_names(model, error["loc"][:-1])) or " (check the spelling)"
        return f"unknown field {name!r}{hint}"
    if kind == "missing":
        return "required field is missing"
    expected = {
        "float_parsing": "number", "float_type": "number", "int_parsing": "integer",
        "int_type": "integer", "int_from_float": "integer", "bool_parsing": "true or false",
        "bool_type": "true or false", "string_type": "text", "dict_type": "a mapping",
        "list_type": "a list", "model_type": "a mapping",
        "literal_error": error.get("ctx", {}).get("expected"),
    }.get(kind)  # fmt: skip
    if expected is not None:
        return f"expected {expected}, got {given!r}"
    return str(error["msg"]).removeprefix("Value error, ")


def _field_names(model: type[BaseModel], loc: tuple[int | str, ...]) -> set[str]:
    """The fields allowed at `loc` inside `model`, found by following the type annotations."""
    current: list[Any] = [model]
    for part in loc:
        current = [inner for annotation in current for inner in _step_into(annotation, part)]
    return {
        field.alias or name
        for annotation in current
        for arm in _arms(annotation)
        if _is_model(arm)
        for name, field in arm.model_fields.items()
    }


def _step_into(annotation: Any, part: int | str) -> list[Any]:
    inner: list[Any] = []
    for arm in _arms(annotation):
        if _is_model(arm):
            fields = {field.alias or name: field for name, field in arm.model_fields.items()}
            # a part that is no field is pydantic's tag for a union branch or validator: stay here
            inner.append(fields[part].annotation if part in fields else arm)
        elif get_origin(arm) is dict and isinstance(part, str):
            inner.append(get_args(arm)[1])
        elif get_origin(arm) in (list, tuple) and isinstance(part, int):
            inner.append(get_args(arm)[0])
    return inner


def _arms(annotation: Any) -> list[Any]:
    """The alternatives of a union (or the annotation itself), with `Annotated` metadata dropped."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _arms(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return [arm for member in get_args(annotation) for arm in _arms(member)]
    return [annotation]


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)
