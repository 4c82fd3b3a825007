"""Infer a model's signature (its input columns or tensor shape) from an input example.

Column types are normalised to integer, number, boolean, string and datetime; a column that fits
none of them keeps its dtype name ("category", "object", ...). pandas and numpy are imported only
when the example could be one of theirs, so inferring nothing from a plain object is free.
"""

from __future__ import annotations

import datetime
import numbers
import sys
from collections.abc import Sequence
from typing import Any

from mlyard.entities.registry.model import ModelSignature

_NUMPY_KINDS = {
    "b": "boolean",
    "i": "integer",
    "u": "integer",
    "f": "number",
    "M": "datetime",
    "U": "string",
    "S": "string",
}


def infer_signature(example: Any) -> ModelSignature | None:
    """The signature of `example`, or None when it is None or of a kind we cannot describe.

    A pandas DataFrame or a dict of lists gives named, typed columns; a numpy array or a list of
    lists gives a tensor whose first (batch) dimension is left open.
    """
    if example is None:
        return None
    # An object can only be a DataFrame or an ndarray if its library is already imported.
    if "pandas" in sys.modules:
        import pandas as pd

        if isinstance(example, pd.DataFrame):
            columns = [{"name": str(name), "type": _pandas_type(series)} for name, series in example.items()]
            return ModelSignature(kind="columns", columns=columns)
    if "numpy" in sys.modules:
        import numpy as np

        if isinstance(example, np.ndarray):
            return _tensor_signature(example)
    if isinstance(example, list) and example and all(isinstance(row, list | tuple) for row in example):
        return _list_of_lists_signature(example)
    if (
        isinstance(example, dict)
        and example
        and all(isinstance(values, list | tuple) for values in example.values())
    ):
        columns = [{"name": str(name), "type": _python_type(values)} for name, values in example.items()]
        return ModelSignature(kind="columns", columns=columns)
    return None


def _tensor_signature(array: Any) -> ModelSignature:
    shape: list[int | None] = [None, *array.shape[1:]] if array.ndim else []
    return ModelSignature(kind="tensor", shape=shape, dtype=str(array.dtype))


def _list_of_lists_signature(rows: list[Any]) -> ModelSignature | None:
    import numpy as np

    try:
        array = np.asarray(rows)
    except ValueError:  # ragged rows have no single shape
        return None
    return _tensor_signature(array)


def _pandas_type(column: Any) -> str:
    from pandas.api import types

    dtype = column.dtype
    if types.is_bool_dtype(dtype):
        return "boolean"
    if types.is_integer_dtype(dtype):
        return "integer"
    if types.is_float_dtype(dtype):
        return "number"
    if types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if types.is_string_dtype(column):  # for object columns, looks at the values
        return "string"
    return str(dtype)


def _python_type(values: Sequence[Any]) -> str:
    """The normalised type of a plain list; "object" when empty, all None or mixed."""
    found = {_scalar_type(value) for value in values if value is not None}
    if found == {"integer", "number"}:
        return "number"
    if len(found) == 1:
        return found.pop()
    return "object"


def _scalar_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, numbers.Integral):
        return "integer"
    if isinstance(value, numbers.Real):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, datetime.date):
        return "datetime"
    dtype = getattr(value, "dtype", None)  # numpy scalars such as numpy.bool_
    kind = getattr(dtype, "kind", None)
    if isinstance(kind, str) and kind in _NUMPY_KINDS:
        return _NUMPY_KINDS[kind]
    return "object"
