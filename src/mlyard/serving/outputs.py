"""Predictions → JSON bytes: NumPy arrays straight through orjson, anything else made plain first."""

from __future__ import annotations

from typing import Any

import orjson

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def to_json(value: Any) -> bytes:
    """JSON of predictions, a scoring script's result or an error; TypeError if it has no JSON form."""
    try:
        return orjson.dumps(value, default=_plain, option=_OPTIONS)
    except orjson.JSONEncodeError as exc:
        raise TypeError(str(exc)) from None


def plain(value: Any) -> Any:
    """`value` as lists, dicts and scalars (NumPy, pandas and torch objects converted)."""
    return _plain(value)


def _plain(value: Any) -> Any:
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and hasattr(value, "columns"):  # a pandas DataFrame
        return to_dict(orient="records")
    tolist = getattr(value, "tolist", None)  # NumPy arrays of any dtype and scalars, pandas Series
    if callable(tolist):
        return tolist()
    numpy = getattr(value, "numpy", None)  # a torch tensor
    if callable(numpy):
        return numpy().tolist()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
