"""Schema inference and column profiles for tabular data assets.

`profile_data` reads a data asset that looks tabular with `tabular.read_table` (CSV, TSV,
Parquet, JSON lines, or an Azure ML `MLTable` folder) and summarises it as a `TableProfile`;
anything else yields None, as not being a table is not an error. Reading errors are those of
`mlyard.services.data_assets.tabular`.

Column types, deliberately few:

    integer    whole numbers (also a float column whose non-null values are all whole, which is
               how pandas reads an integer CSV column that has gaps)
    number     other numbers
    boolean    True/False
    datetime   timestamps and dates, including text columns whose every value is ISO 8601
               (`2024-01-31`, `2024-01-31T12:00:00Z`)
    category   columns stored as categorical (pandas `category`, Parquet dictionary columns)
    string     text, and anything else (durations, nested lists/structs, bytes, mixed values),
               rendered with `str()`

`min`/`max`/`mean` are floats for integer and number columns, `min`/`max` are ISO strings for
datetime columns, and None otherwise. `top_values` holds up to five (value, count) pairs, most
frequent first, for every non-numeric column and for numeric columns with at most 20 distinct
values. Integer and number columns also get a histogram: `HISTOGRAM_BINS` equal-width bins
between their finite min and max (`histogram_edges`, one more than `histogram_counts`), which the
studio draws per column. Every value in a profile is a plain JSON-serialisable Python value (no
NaN, no numpy).

pandas is imported inside the functions: the CLI must start fast.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlyard.entities.registry.data import ColumnProfile, DataType, TableProfile
from mlyard.services.data_assets.tabular import read_table

if TYPE_CHECKING:
    import pandas as pd

TOP_VALUES = 5
MAX_DISTINCT_FOR_NUMERIC_TOP_VALUES = 20
HISTOGRAM_BINS = 20

_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


def profile_data(path: Path, data_type: DataType) -> TableProfile | None:
    """Profile `path` when it holds a table; None when it does not (e.g. images, a model file)."""
    frame = read_table(path, DataType(data_type))
    return None if frame is None else profile_frame(frame)


def profile_frame(frame: pd.DataFrame) -> TableProfile:
    """Summarise a DataFrame column by column with vectorised pandas operations."""
    columns = [_profile_column(str(name), frame.iloc[:, i]) for i, name in enumerate(frame.columns)]
    return TableProfile(row_count=len(frame), schema={c.name: c.type for c in columns}, columns=columns)


# ---- one column ------------------------------------------------------------------------------


def _profile_column(name: str, column: pd.Series) -> ColumnProfile:
    import pandas as pd

    kind, values = _classify(column)
    null_count = int(column.isna().sum())
    try:
        distinct = int(column.nunique(dropna=True))
    except TypeError:  # unhashable cells: lists or dicts from JSON/Parquet
        column = column.map(str, na_action="ignore")
        distinct = int(column.nunique(dropna=True))
    profile = ColumnProfile(name=name, type=kind, null_count=null_count, distinct_count=distinct)
    if kind in ("integer", "number"):
        profile.min, profile.max = _finite(values.min()), _finite(values.max())
        profile.mean = _finite(values.mean())
        profile.histogram_edges, profile.histogram_counts = _histogram(values)
    elif kind == "datetime":
        low, high = values.min(), values.max()
        profile.min = None if pd.isna(low) else low.isoformat()
        profile.max = None if pd.isna(high) else high.isoformat()
    numeric = kind in ("integer", "number")
    if not numeric or distinct <= MAX_DISTINCT_FOR_NUMERIC_TOP_VALUES:
        source = values if numeric else column
        counts = source.value_counts(dropna=True).head(TOP_VALUES)
        profile.top_values = [
            (_label(value), int(count))
            for value, count in zip(counts.index.tolist(), counts.tolist(), strict=True)
            if count > 0
        ]
    return profile


def _histogram(values: pd.Series) -> tuple[list[float], list[int]]:
    """Equal-width bins over the finite values (one bin when they are all equal); none without any."""
    import numpy as np

    numbers = values.dropna().to_numpy(dtype="float64", na_value=np.nan)
    numbers = numbers[np.isfinite(numbers)]
    if numbers.size == 0:
        return [], []
    low, high = float(numbers.min()), float(numbers.max())
    bins = 1 if low == high else HISTOGRAM_BINS
    counts, edges = np.histogram(numbers, bins=bins, range=(low, high) if low != high else None)
    return [float(edge) for edge in edges], [int(count) for count in counts]


def _classify(column: pd.Series) -> tuple[str, pd.Series]:
    """The column's type name, and its values in the dtype used to compute statistics."""
    import pandas as pd
    from pandas.api import types

    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "category", column
    if types.is_bool_dtype(dtype):
        return "boolean", column
    if types.is_integer_dtype(dtype):
        return "integer", column
    if types.is_float_dtype(dtype):
        if _whole_with_gaps(column):
            return "integer", column.astype("Int64")
        return "number", column
    if types.is_datetime64_any_dtype(dtype):
        return "datetime", column
    if not (types.is_object_dtype(dtype) or types.is_string_dtype(dtype)):
        return "string", column  # durations, complex numbers, nested Arrow types
    inferred = types.infer_dtype(column, skipna=True)
    if inferred == "boolean":
        return "boolean", column
    if inferred == "integer":
        try:
            return "integer", pd.to_numeric(column).astype("Int64")
        except (TypeError, ValueError, OverflowError):  # beyond 64 bits
            return "integer", pd.to_numeric(column, errors="coerce").astype("float64")
    if inferred in ("floating", "mixed-integer-float", "decimal"):
        return "number", pd.to_numeric(column, errors="coerce").astype("float64")
    if inferred in ("datetime", "datetime64", "date") or (
        inferred == "string" and _looks_iso_datetime(column)
    ):
        stamps = _to_datetime(column)
        if stamps is not None:
            return "datetime", stamps
    return "string", column


def _whole_with_gaps(column: pd.Series) -> bool:
    """A float column with nulls whose other values are whole: an integer column with gaps."""
    present = column.dropna()
    if len(present) == len(column) or present.empty:
        return False
    return bool(((present % 1) == 0).all())


def _looks_iso_datetime(column: pd.Series) -> bool:
    present = column.dropna()
    if present.empty or not present.head(100).map(_matches_iso).all():
        return False
    return bool(present.astype(str).str.match(_ISO_DATETIME.pattern).all())


def _matches_iso(value: Any) -> bool:
    return isinstance(value, str) and _ISO_DATETIME.match(value) is not None


def _to_datetime(column: pd.Series) -> pd.Series | None:
    """Parse the column as timestamps; None when any present value does not parse."""
    import pandas as pd
    from pandas.api import types

    try:
        stamps = pd.to_datetime(column, format="ISO8601", errors="coerce")
    except (ValueError, TypeError):  # e.g. mixed time zones
        return None
    if not types.is_datetime64_any_dtype(stamps.dtype):
        return None
    return stamps if stamps.isna().sum() == column.isna().sum() else None


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _label(value: Any) -> str:
    """A value as top_values shows it: dates and timestamps in ISO 8601, the rest with str()."""
    return str(value.isoformat()) if hasattr(value, "isoformat") else str(value)
