"""Schema inference and column profiles for tabular data assets.

`profile_data` reads a data asset that looks tabular (CSV, TSV, Parquet, JSON lines, or an
Azure ML `MLTable` folder) and summarises it as a `TableProfile`; anything else yields None, as
not being a table is not an error. A file that claims a tabular format but cannot be parsed is an
`InvalidArgument` naming the file and the parser's reason.

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
values. Every value in a profile is a plain JSON-serialisable Python value (no NaN, no numpy).

pandas and pyarrow are imported inside the functions: the CLI must start fast.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlyard.entities.data import ColumnProfile, DataType, TableProfile
from mlyard.errors import InvalidArgument, InvalidSpec

if TYPE_CHECKING:
    import pandas as pd

MLTABLE_FILE = "MLTable"
TOP_VALUES = 5
MAX_DISTINCT_FOR_NUMERIC_TOP_VALUES = 20

# file suffix -> format; `.json` is handled apart because it is often a non-tabular document
_SUFFIX_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
}
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")
# Azure ML's encoding names -> Python codec names
_ENCODINGS = {
    "utf8": "utf-8",
    "utf8bom": "utf-8-sig",
    "iso88591": "iso-8859-1",
    "latin1": "iso-8859-1",
    "ascii": "ascii",
    "utf16": "utf-16",
    "utf32": "utf-32",
    "windows1252": "cp1252",
}
_HEADERS = ("all_files_same_headers", "all_files_different_headers", "from_first_file", "no_header")
_READ_OPTIONS: dict[str, frozenset[str]] = {
    "read_delimited": frozenset(
        {
            "delimiter",
            "encoding",
            "header",
            "include_path_column",
            "empty_as_string",
            "infer_column_types",
            "support_multi_line",
        }
    ),
    "read_parquet": frozenset({"include_path_column"}),
    "read_json_lines": frozenset({"encoding", "include_path_column"}),
}
_TABLE_TRANSFORMS = ("take", "skip", "keep_columns", "drop_columns")


def profile_data(path: Path, data_type: DataType) -> TableProfile | None:
    """Profile `path` when it holds a table; None when it does not (e.g. images, a model file)."""
    frame = _read_asset(path, DataType(data_type))
    return None if frame is None else profile_frame(frame)


def read_mltable(folder: Path) -> pd.DataFrame:
    """Read the table an `MLTable` folder describes (its paths, read and row/column steps)."""
    import pandas as pd

    spec_file = folder / MLTABLE_FILE
    spec = _load_mltable_spec(spec_file)
    files = _mltable_files(folder, spec_file, spec.get("paths"))
    steps = spec.get("transformations") or []
    if not isinstance(steps, list):
        raise InvalidSpec(f"{spec_file}: 'transformations' must be a list of steps")
    named = [_step(spec_file, i, step) for i, step in enumerate(steps)]
    reads = [(i, name, opts) for i, (name, opts) in enumerate(named) if name in _READ_OPTIONS]
    if len(reads) > 1:
        raise InvalidSpec(f"{spec_file}: transformations[{reads[1][0]}]: only one read step is allowed")
    index, reader, options = reads[0] if reads else (-1, "read_delimited", {})
    unknown = set(options) - _READ_OPTIONS[reader]
    if unknown:
        raise InvalidSpec(
            f"{spec_file}: transformations[{index}].{reader}: unsupported option(s) "
            f"{', '.join(sorted(unknown))}; supported: {', '.join(sorted(_READ_OPTIONS[reader]))}"
        )
    frames = _read_mltable_files(spec_file, index, reader, options, folder, files)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    for i, (name, value) in enumerate(named):
        if name not in _READ_OPTIONS:
            frame = _apply_step(spec_file, i, name, value, frame)
    return frame


def profile_frame(frame: pd.DataFrame) -> TableProfile:
    """Summarise a DataFrame column by column with vectorised pandas operations."""
    columns = [_profile_column(str(name), frame.iloc[:, i]) for i, name in enumerate(frame.columns)]
    return TableProfile(row_count=len(frame), schema={c.name: c.type for c in columns}, columns=columns)


# ---- which files, in which format ------------------------------------------------------------


def _read_asset(path: Path, data_type: DataType) -> pd.DataFrame | None:
    if data_type == DataType.MLTABLE:
        return read_mltable(path)
    if data_type == DataType.URI_FILE:
        if not path.is_file():
            raise InvalidArgument(f"data path {path} is not a file")
        if path.suffix.lower() == ".json":
            return _read_json_document(path)
        file_format = _SUFFIX_FORMATS.get(path.suffix.lower())
        return None if file_format is None else _read_file(path, file_format)
    if not path.is_dir():
        raise InvalidArgument(f"data path {path} is not a folder")
    files = list(_visible_files(path))
    formats = {_SUFFIX_FORMATS.get(f.suffix.lower(), "") for f in files}
    if len(formats) != 1 or "" in formats:
        return None  # empty, mixed, or not tabular
    file_format = formats.pop()
    return _concat([_read_file(f, file_format) for f in files])


def _visible_files(folder: Path) -> Iterator[Path]:
    """Regular files under `folder`, sorted, skipping hidden files and hidden folders."""
    for file in sorted(folder.rglob("*")):
        relative = file.relative_to(folder)
        if file.is_file() and not any(part.startswith(".") for part in relative.parts):
            yield file


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    import pandas as pd

    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _read_file(path: Path, file_format: str, **options: Any) -> pd.DataFrame:
    import pandas as pd

    readers: dict[str, Callable[[], pd.DataFrame]] = {
        "csv": lambda: _read_delimited(path, ",", **options),
        "tsv": lambda: _read_delimited(path, "\t", **options),
        "parquet": lambda: pd.read_parquet(path),
        "jsonl": lambda: pd.read_json(path, lines=True, **options),
    }
    return _parse(path, file_format, readers[file_format])


def _read_delimited(path: Path, sep: str, **options: Any) -> pd.DataFrame:
    import pandas as pd

    try:
        # low_memory=False: one dtype per column for the whole file, and no DtypeWarning
        return pd.read_csv(path, sep=sep, low_memory=False, **options)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def _read_json_document(path: Path) -> pd.DataFrame | None:
    """A `.json` file is a table if it is an array of records or JSON lines; else a document."""
    import pandas as pd

    with path.open("rb") as stream:
        head = stream.read(4096).lstrip()
    if not head:
        return pd.DataFrame()
    if head.startswith(b"["):
        return _parse(path, "JSON", lambda: pd.read_json(path, orient="records"))
    if not head.startswith(b"{"):
        return None
    try:
        return pd.read_json(path, lines=True)
    except ValueError:
        return None  # one multi-line JSON object, e.g. a config file


def _parse(path: Path, file_format: str, read: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """Run a reader, turning any parser failure into an InvalidArgument naming the file."""
    import pyarrow as pa

    try:
        return read()
    except (ValueError, OSError, pa.ArrowException) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidArgument(
            f"cannot read {path} as {file_format}: {reason[:300]}; check the file is a valid "
            f"{file_format} file, or register it with a suffix that says what it is"
        ) from exc


# ---- MLTable ---------------------------------------------------------------------------------


def _load_mltable_spec(spec_file: Path) -> dict[str, Any]:
    import yaml

    if not spec_file.is_file():
        raise InvalidSpec(
            f"MLTable file not found: expected {spec_file}; an mltable folder needs a YAML file "
            "named 'MLTable' with 'paths' and 'transformations'"
        )
    try:
        spec = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidSpec(f"{spec_file} is not valid YAML: {exc}") from exc
    if not isinstance(spec, dict):
        raise InvalidSpec(f"{spec_file}: expected a mapping with 'paths' and 'transformations'")
    return spec


def _mltable_files(folder: Path, spec_file: Path, paths: Any) -> list[Path]:
    """The files the `paths` entries select, in order; each must stay inside `folder`."""
    if not isinstance(paths, list) or not paths:
        raise InvalidSpec(
            f"{spec_file}: 'paths' must be a non-empty list of '- file:', '- folder:' or '- pattern:' entries"
        )
    root = folder.resolve()
    files: list[Path] = []
    for i, entry in enumerate(paths):
        where = f"{spec_file}: paths[{i}]"
        if not isinstance(entry, dict) or len(entry) != 1:
            raise InvalidSpec(f"{where}: expected exactly one of 'file', 'folder' or 'pattern'")
        ((kind, value),) = entry.items()
        if kind not in ("file", "folder", "pattern") or not isinstance(value, str) or not value:
            raise InvalidSpec(f"{where}: expected 'file', 'folder' or 'pattern' with a path")
        if "://" in value:
            raise InvalidSpec(
                f"{where}.{kind} {value!r}: only paths relative to the MLTable folder are "
                "supported; copy the data into the folder"
            )
        if Path(value).is_absolute() or ".." in Path(value).parts:
            raise InvalidSpec(f"{where}.{kind} {value!r} escapes the MLTable folder {folder}")
        if kind == "pattern":
            matches = (p for p in sorted(folder.glob(value)) if p.is_file())
            selected = [p for p in matches if not _is_hidden(p.relative_to(folder))]
        elif kind == "folder":
            selected = list(_visible_files(folder / value))
        else:
            selected = [folder / value] if (folder / value).is_file() else []
        selected = [p for p in selected if p.resolve() != spec_file.resolve()]
        if not selected:
            raise InvalidSpec(f"{where}.{kind} {value!r} matches no files in {folder}")
        for file in selected:
            if not file.resolve().is_relative_to(root):
                raise InvalidSpec(f"{where}.{kind} {value!r} escapes the MLTable folder {folder}")
        files.extend(selected)
    return files


def _is_hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _step(spec_file: Path, index: int, step: Any) -> tuple[str, Any]:
    """A transformation as (name, value): `- read_parquet` or `- take: 10`."""
    value: Any
    if isinstance(step, str):
        name, value = step, {}
    elif isinstance(step, dict) and len(step) == 1:
        ((name, value),) = step.items()
    else:
        raise InvalidSpec(f"{spec_file}: transformations[{index}]: expected one named step")
    known = (*_READ_OPTIONS, *_TABLE_TRANSFORMS)
    if name not in known:
        raise InvalidSpec(
            f"{spec_file}: transformations[{index}]: unsupported step {name!r}; supported: {', '.join(known)}"
        )
    if name in _READ_OPTIONS and value is None:
        value = {}
    if name in _READ_OPTIONS and not isinstance(value, dict):
        raise InvalidSpec(f"{spec_file}: transformations[{index}].{name}: expected a mapping")
    return name, value


def _read_mltable_files(
    spec_file: Path,
    index: int,
    reader: str,
    options: dict[str, Any],
    folder: Path,
    files: list[Path],
) -> list[pd.DataFrame]:
    where = f"{spec_file}: transformations[{index}].{reader}"
    kwargs: dict[str, Any] = {}
    if "encoding" in options:
        if options["encoding"] not in _ENCODINGS:
            raise InvalidSpec(f"{where}.encoding: expected one of {', '.join(_ENCODINGS)}")
        kwargs["encoding"] = _ENCODINGS[options["encoding"]]
    header = options.get("header", "all_files_same_headers")
    if reader == "read_delimited":
        delimiter = options.get("delimiter", ",")
        if not isinstance(delimiter, str) or not delimiter:
            raise InvalidSpec(f"{where}.delimiter: expected a non-empty string")
        if header not in _HEADERS:
            raise InvalidSpec(f"{where}.header: expected one of {', '.join(_HEADERS)}")
        kwargs["sep"] = delimiter
    file_format = {"read_delimited": "csv", "read_parquet": "parquet"}.get(reader, "jsonl")
    frames: list[pd.DataFrame] = []
    for n, file in enumerate(files):
        file_kwargs = dict(kwargs)
        if header == "no_header" or (header == "from_first_file" and n > 0):
            file_kwargs["header"] = None
        if file_format == "csv":
            frame = _parse(file, "csv", functools.partial(_read_delimited, file, **file_kwargs))
            if header == "no_header":
                frame.columns = [f"Column{c + 1}" for c in range(frame.shape[1])]
            elif header == "from_first_file" and n > 0:
                if frame.shape[1] != frames[0].shape[1]:
                    raise InvalidArgument(
                        f"{file} has {frame.shape[1]} columns but {files[0]} has "
                        f"{frames[0].shape[1]}; header: from_first_file needs the same columns"
                    )
                frame.columns = frames[0].columns
        else:
            frame = _read_file(file, file_format, **kwargs)
        if options.get("include_path_column"):
            frame["Path"] = file.relative_to(folder).as_posix()
        frames.append(frame)
    return frames


def _apply_step(spec_file: Path, index: int, name: str, value: Any, frame: pd.DataFrame) -> pd.DataFrame:
    """A row or column step after reading: take, skip, keep_columns, drop_columns."""
    where = f"{spec_file}: transformations[{index}].{name}"
    if name in ("take", "skip"):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidSpec(f"{where}: expected a non-negative integer")
        return frame.head(value) if name == "take" else frame.iloc[value:].reset_index(drop=True)
    wanted = [value] if isinstance(value, str) else value
    if not isinstance(wanted, list) or not all(isinstance(c, str) for c in wanted):
        raise InvalidSpec(f"{where}: expected a column name or a list of column names")
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise InvalidSpec(
            f"{where}: no column(s) {', '.join(missing)}; columns: " + ", ".join(map(str, frame.columns))
        )
    return frame[wanted] if name == "keep_columns" else frame.drop(columns=wanted)


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
