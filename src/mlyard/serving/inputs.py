"""Scoring request bodies → a `Batch` the model can take, checked against its `InputSchema`.

Accepted shapes (the Azure ML and MLflow ones):

    {"input_data": {"columns": [...], "index": [...], "data": [[...], ...]}}   Azure ML (split)
    {"input_data": [[...], ...]}                                              Azure ML bare tensor
    {"input_data": {"age": [...], "bmi": [...]}}                              named columns
    {"dataframe_split": {"columns": [...], "data": [[...]]}}                  MLflow
    {"dataframe_records": [{"age": 41, "bmi": 22.5}, ...]}                    MLflow
    {"instances": [[...]] | [{...}]}    {"inputs": [[...]] | {"age": [...]}}   TF-serving style
    {"data": [[...]]}                                                         Azure's score.py sample

The common case — numbers only — goes straight from the parsed JSON to one NumPy array (no
pandas, no per-value Python loop): NumPy infers the array's dtype, and only when that is not
numeric, or the shape is off, does a slow pass walk the values to name the column that is wrong.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from mlyard.errors import InputMismatch, MalformedRequest
from mlyard.serving.schema import (
    ANY,
    BOOLEAN,
    DATETIME,
    INTEGER,
    NUMBER,
    STRING,
    InputSchema,
    column_dtype,
)

SHAPES = ("input_data", "dataframe_split", "dataframe_records", "instances", "inputs", "data")
_NUMERIC_KINDS = frozenset("fiub")


@dataclass(slots=True)
class Batch:
    """Model input: a numeric `array` (columns in schema order when `names` is set), and/or
    `columns` (name → values, in schema order) when some values are not numbers."""

    array: np.ndarray[Any, Any] | None = None
    names: tuple[str, ...] | None = None
    columns: dict[str, Any] | None = None

    @property
    def rows(self) -> int:
        if self.array is not None:
            return int(self.array.shape[0]) if self.array.ndim else 1
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def frame(self, schema: InputSchema | None = None) -> Any:
        """A pandas DataFrame of the batch, typed by `schema` (pandas is imported only here)."""
        import pandas as pd

        if self.columns is None:
            assert self.array is not None
            names = list(self.names) if self.names else None
            return pd.DataFrame(self.array, columns=names)
        frame = pd.DataFrame(self.columns)
        if schema is not None and schema.columns is not None:
            for column in schema.columns:
                if column.type == DATETIME and column.name in frame:
                    frame[column.name] = pd.to_datetime(frame[column.name])
        return frame


def decode_json(body: bytes) -> Any:
    """The parsed body; MalformedRequest (400) saying where the JSON breaks."""
    if not body:
        raise MalformedRequest(
            'the request has no body; send a JSON document such as {"input_data": [[...]]}'
        )
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedRequest(f"the request body is not valid JSON: {exc}") from None


def parse_scoring_request(body: bytes, schema: InputSchema | None) -> Batch:
    """The batch a scoring request carries, in any of the accepted shapes (module docstring)."""
    document = decode_json(body)
    if not isinstance(document, dict):
        raise InputMismatch(_which_shape(f"a JSON {type(document).__name__}"))
    if "input_data" in document:  # the common case first
        key, payload = "input_data", document["input_data"]
    else:
        found = [name for name in SHAPES if name in document]
        if len(found) != 1:
            what = "none of them" if not found else "several: " + ", ".join(found)
            raise InputMismatch(_which_shape(f"an object with {what}"))
        key = found[0]
        payload = document[key]
    return parse_payload(key, payload, schema)


def parse_payload(key: str, payload: Any, schema: InputSchema | None) -> Batch:
    if isinstance(payload, dict):
        if key == "dataframe_records":
            raise InputMismatch("dataframe_records must be a list of objects, one per row")
        if "data" in payload and key in ("input_data", "dataframe_split"):
            return from_split(payload, schema, key)
        if key == "dataframe_split":
            raise InputMismatch("dataframe_split needs 'data' (a list of rows) and usually 'columns'")
        return from_columns(payload, schema, key)
    if isinstance(payload, list):
        if key == "dataframe_split":
            raise InputMismatch("dataframe_split must be an object with 'columns' and 'data'")
        if payload and isinstance(payload[0], dict):
            return from_records(payload, schema, key)
        if key == "dataframe_records":
            raise InputMismatch("dataframe_records must be a list of objects, one per row")
        return from_rows(payload, schema, key)
    raise InputMismatch(f"{key} must be a list of rows or an object, not a JSON {_json_type(payload)}")


def from_split(payload: dict[str, Any], schema: InputSchema | None, key: str) -> Batch:
    """`{"columns", "index", "data"}`: rows of values in the order `columns` gives."""
    rows = payload["data"]
    if not isinstance(rows, list):
        raise InputMismatch(f"{key}.data must be a list of rows, not a JSON {_json_type(rows)}")
    columns = payload.get("columns")
    if columns is None or schema is None or schema.is_tensor:
        batch = from_rows(rows, schema, f"{key}.data")
        if columns is not None and batch.names is None and isinstance(columns, list):
            batch.names = tuple(columns)
        return batch
    if not isinstance(columns, list) or not all(isinstance(name, str) for name in columns):
        raise InputMismatch(f"{key}.columns must be a list of column names")
    order = _column_order(tuple(columns), schema, key)
    return _rows_to_batch(rows, schema, order, f"{key}.data")


def from_rows(rows: Any, schema: InputSchema | None, where: str) -> Batch:
    """Rows (lists of values) or a tensor (nested lists of numbers)."""
    if not isinstance(rows, list):
        raise InputMismatch(f"{where} must be a list of rows, not a JSON {_json_type(rows)}")
    if not rows:
        raise InputMismatch(f"{where} has no rows")
    if schema is not None and not schema.is_tensor:
        return _rows_to_batch(rows, schema, None, where)
    return Batch(array=_tensor(rows, schema, where))


def from_records(records: list[Any], schema: InputSchema | None, key: str) -> Batch:
    """`[{"age": 41, "bmi": 22.5}, ...]`: one object per row."""
    if schema is None or schema.is_tensor:
        names = list(records[0]) if isinstance(records[0], dict) else []
    else:
        names = list(schema.names)
    known = set(names)
    values: dict[str, list[Any]] = {name: [] for name in names}
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise InputMismatch(
                f"{key}[{i}] must be an object of column values, not a JSON {_json_type(record)}"
            )
        for name in record:
            if name not in known:
                raise InputMismatch(_unknown_column(name, schema, f" in {key}[{i}]"))
        for name in names:
            if name not in record:
                raise InputMismatch(f"missing column {name!r} in {key}[{i}]{_takes(schema)}")
            values[name].append(record[name])
    return _columns_to_batch(values, schema)


def from_columns(mapping: dict[str, Any], schema: InputSchema | None, key: str) -> Batch:
    """`{"age": [41, 52], "bmi": [22.5, 31.0]}`: one list per column."""
    if not mapping:
        raise InputMismatch(f"{key} is an empty object; send rows or columns")
    lengths = set()
    for name, column in mapping.items():
        if not isinstance(column, list):
            raise InputMismatch(
                f"column {name!r} in {key} must be a list of values, not a JSON {_json_type(column)}"
            )
        lengths.add(len(column))
    if len(lengths) != 1:
        raise InputMismatch(
            f"the columns in {key} have different lengths ({', '.join(map(str, sorted(lengths)))})"
        )
    if schema is not None and not schema.is_tensor:
        for name in mapping:
            if name not in schema.positions:
                raise InputMismatch(_unknown_column(name, schema, f" in {key}"))
        for name in schema.names:
            if name not in mapping:
                raise InputMismatch(f"missing column {name!r} in {key}{_takes(schema)}")
        mapping = {name: mapping[name] for name in schema.names}
    return _columns_to_batch(mapping, schema)


def from_array(array: np.ndarray[Any, Any], schema: InputSchema | None, where: str) -> Batch:
    """A tensor that arrived as one array (V2): checked like rows, without going back to lists."""
    if array.ndim == 0 or array.shape[0] == 0:
        raise InputMismatch(f"{where} has no rows")
    if schema is None or schema.is_tensor:
        return Batch(array=_tensor(array, schema, where))
    width = len(schema.names)
    if array.ndim == 1 and width == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2 or array.shape[1] != width:
        raise InputMismatch(
            f"{where} has shape {list(array.shape)}; the model takes {width} columns: "
            + schema.describe_columns()
        )
    if schema.maybe_numeric and array.dtype.kind in _NUMERIC_KINDS:
        _check_integer_columns(array, schema)
        return Batch(array=np.ascontiguousarray(array, dtype=np.float64), names=schema.names)
    return _columns_to_batch({name: array[:, j].tolist() for j, name in enumerate(schema.names)}, schema)


# --- columns ------------------------------------------------------------------------------------


def _column_order(given: tuple[str, ...], schema: InputSchema, key: str) -> list[int] | None:
    """Positions of the schema's columns within `given`; None when they are the same order."""
    if given == schema.names:
        return None
    positions = {}
    for i, name in enumerate(given):
        if name not in schema.positions:
            raise InputMismatch(_unknown_column(name, schema, f" in {key}.columns"))
        if name in positions:
            raise InputMismatch(f"column {name!r} appears twice in {key}.columns")
        positions[name] = i
    for name in schema.names:
        if name not in positions:
            raise InputMismatch(f"missing column {name!r} in {key}.columns{_takes(schema)}")
    return [positions[name] for name in schema.names]


def _rows_to_batch(rows: Any, schema: InputSchema, order: list[int] | None, where: str) -> Batch:
    if not isinstance(rows, list):
        raise InputMismatch(f"{where} must be a list of rows, not a JSON {_json_type(rows)}")
    if not rows:
        raise InputMismatch(f"{where} has no rows")
    width = len(schema.names)
    if schema.maybe_numeric:  # columns of unknown type that hold numbers take the fast path too
        try:
            array = np.asarray(rows)
        except ValueError:  # ragged: found and named below
            array = None
        if (
            array is not None
            and array.dtype.kind in _NUMERIC_KINDS
            and array.ndim == 2
            and array.shape[1] == width
        ):
            if order is not None:
                array = array[:, order]
            _check_integer_columns(array, schema)
            return Batch(array=np.ascontiguousarray(array, dtype=np.float64), names=schema.names)
    for i, row in enumerate(rows):
        if not isinstance(row, list):
            raise InputMismatch(
                f"{where}[{i}] must be a list of {width} values, not a JSON {_json_type(row)}"
            )
        if len(row) != width:
            raise InputMismatch(
                f"{where}[{i}] has {len(row)} values; the model takes {width} columns: "
                + schema.describe_columns()
            )
    given = range(width) if order is None else order
    columns = {name: [row[j] for row in rows] for name, j in zip(schema.names, given, strict=True)}
    return _columns_to_batch(columns, schema)


def _columns_to_batch(columns: dict[str, list[Any]], schema: InputSchema | None) -> Batch:
    """Type-check each column against the schema; a numeric array too when every column is numeric."""
    types = {c.name: c.type for c in schema.columns} if schema is not None and schema.columns else {}
    for name, values in columns.items():
        _check_values(name, types.get(name, ANY), values)
    names = tuple(columns)
    if schema is not None and schema.columns is not None and schema.numeric:
        numbers = np.array([values for values in columns.values()], dtype=np.float64).T
        return Batch(array=np.ascontiguousarray(numbers), names=names, columns=None)
    if schema is None or schema.is_tensor or schema.maybe_numeric:
        try:
            guessed: np.ndarray[Any, Any] | None = np.array(list(columns.values())).T
        except ValueError:
            guessed = None
        if guessed is not None and guessed.dtype.kind in _NUMERIC_KINDS and guessed.ndim == 2:
            return Batch(array=np.ascontiguousarray(guessed, dtype=np.float64), names=names)
    typed = {}
    for name, values in columns.items():
        dtype = column_dtype(types.get(name, ANY))
        typed[name] = np.asarray(values, dtype=dtype) if dtype and None not in values else values
    return Batch(columns=typed, names=names)


def _check_integer_columns(array: np.ndarray[Any, Any], schema: InputSchema) -> None:
    if array.dtype.kind != "f":
        return
    for j, column in enumerate(schema.columns or ()):
        if column.type == INTEGER and not np.all(np.mod(array[:, j], 1) == 0):
            row = int(np.argmax(np.mod(array[:, j], 1) != 0))
            raise InputMismatch(
                f"column {column.name!r} expects integer values, got {float(array[row, j])!r} in row {row}"
            )


_ACCEPTS = {
    NUMBER: lambda v: v is None or (isinstance(v, int | float) and not isinstance(v, bool)),
    INTEGER: lambda v: (
        (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
    ),
    BOOLEAN: lambda v: isinstance(v, bool),
    STRING: lambda v: v is None or isinstance(v, str),
    DATETIME: lambda v: v is None or isinstance(v, str),
}


def _check_values(name: str, column_type: str, values: Sequence[Any]) -> None:
    accepts = _ACCEPTS.get(column_type)
    if accepts is None:
        return
    for row, value in enumerate(values):
        if not accepts(value):
            got = "null" if value is None else f"{value!r} ({_json_type(value)})"
            raise InputMismatch(f"column {name!r} expects {column_type} values, got {got} in row {row}")


# --- tensors ------------------------------------------------------------------------------------


def _tensor(rows: Any, schema: InputSchema | None, where: str) -> np.ndarray[Any, Any]:
    try:
        array = np.asarray(rows)
    except ValueError:
        raise InputMismatch(f"{where} is ragged: its rows have different lengths") from None
    if array.dtype.kind not in _NUMERIC_KINDS:
        if schema is None and array.dtype.kind in "UO":
            return array  # a model without a signature may take text
        raise InputMismatch(_not_numeric(array.tolist() if isinstance(rows, np.ndarray) else rows, where))
    if schema is not None and schema.shape is not None:
        expected = schema.shape
        if array.ndim == 1 and len(expected) == 2:
            array = (
                array.reshape(1, -1) if expected[1] is not None and array.shape[0] == expected[1] else array
            )
        if array.ndim != len(expected) or any(
            want is not None and got != want for want, got in zip(expected[1:], array.shape[1:], strict=False)
        ):
            raise InputMismatch(
                f"{where} has shape {list(array.shape)}; the model takes shape {schema.describe_shape()}"
            )
        return np.ascontiguousarray(array, dtype=_dtype(schema.dtype))
    if array.dtype.kind in "iub":
        return array.astype(np.float64)
    return array


@functools.cache
def _dtype(name: str | None) -> np.dtype[Any]:
    return np.dtype(name or "float64")


def _not_numeric(rows: list[Any], where: str) -> str:
    stack: list[tuple[str, Any]] = [(where, rows)]
    while stack:
        path, value = stack.pop(0)
        if isinstance(value, list):
            stack[:0] = [(f"{path}[{i}]", item) for i, item in enumerate(value)]
        elif value is None or not isinstance(value, int | float):
            return f"{where} must hold numbers; {path} is {'null' if value is None else repr(value)}"
    return f"{where} must hold numbers"


# --- messages -----------------------------------------------------------------------------------


def _unknown_column(name: str, schema: InputSchema | None, where: str) -> str:
    return f"unknown column {name!r}{where}{_takes(schema)}"


def _takes(schema: InputSchema | None) -> str:
    if schema is None or schema.is_tensor:
        return ""
    return f"; the model takes: {schema.describe_columns()}"


def _which_shape(got: str) -> str:
    return (
        "a scoring request is a JSON object with one of "
        + ", ".join(SHAPES)
        + f' (e.g. {{"input_data": {{"columns": [...], "data": [[...]]}}}}); got {got}'
    )


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
