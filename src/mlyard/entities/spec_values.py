"""Value shapes every YAML spec shares, validated once: text maps, plain values, value-or-mapping unions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator

LiteralValue = str | int | float | bool


def values_as_text(value: Any) -> Any:
    """`{retries: 3}` → `{retries: "3"}`: tags, properties and environment variables are text."""
    if isinstance(value, dict):
        return {key: item if isinstance(item, str) else str(item) for key, item in value.items()}
    return value


# A mapping of text to text that accepts numbers and booleans as values, as YAML writes them.
TextMap = Annotated[dict[str, str], BeforeValidator(values_as_text)]


def plain_value(value: Any) -> LiteralValue:
    if isinstance(value, str | int | float | bool):
        return value
    raise ValueError(f"expected a value (text, number, true or false) or a mapping, got {value!r}")


def mapping_or_value(value: Any) -> str:
    """The tag of a value-or-mapping union: the value's own shape picks the branch, so an error
    names only the branch the user meant. Tags start with "union[" so error locations skip them."""
    return "union[mapping]" if isinstance(value, dict | BaseModel) else "union[value]"


def without(data: Any, keys: Iterable[str]) -> Any:
    """`data` without `keys` (fields Azure ML uses in its cloud only, accepted and ignored)."""
    if isinstance(data, dict):
        dropped = set(keys)
        return {key: value for key, value in data.items() if key not in dropped}
    return data


def empty_is_mapping(value: Any) -> Any:
    """`outputs: {report: }` is how Azure ML YAML asks for an output with every default."""
    if isinstance(value, dict):
        return {key: {} if item is None else item for key, item in value.items()}
    return value
