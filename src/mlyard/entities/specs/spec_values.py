"""Value shapes every YAML spec shares, validated once: text maps, plain values, value-or-mapping unions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal

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


# `mini_batch_size` as Azure ML writes it for parallel jobs and batch deployments: a count of
# files or rows (10) or a size of files ("10kb", "1mb", "1.5gb").
_MINI_BATCH_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(kb|mb|gb|b)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}


def check_mini_batch_size(value: int | str | None) -> int | str | None:
    """`value` unchanged when it is a positive count or size; ValueError (for a validator) otherwise."""
    if value is None:
        return None
    match = _MINI_BATCH_SIZE.match(str(value))
    if match is None or float(match[1]) <= 0:
        raise ValueError(f"expected a number of files or rows, or a size like 10kb or 1mb, got {value!r}")
    return value


def mini_batch_limit(value: int | str) -> tuple[Literal["count", "bytes"], float]:
    """("count", files or rows) or ("bytes", size) per mini-batch, of a checked `mini_batch_size`."""
    match = _MINI_BATCH_SIZE.match(str(value))
    assert match is not None  # checked when the spec was read
    number, unit = float(match[1]), (match[2] or "").lower()
    if not unit:
        return "count", max(1, int(number))
    return "bytes", number * _SIZE_UNITS[unit]
