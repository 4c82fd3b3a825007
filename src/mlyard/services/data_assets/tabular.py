"""Reading tabular data assets into pandas DataFrames.

`read_table` reads what a data asset points at, according to its type:

    uri_file    one file, by suffix: `.csv`, `.tsv`, `.parquet`/`.pq`, `.jsonl`, and `.json` when
                it holds an array of records or JSON lines (any other `.json` is a document)
    uri_folder  all visible files under the folder, as one table, when they share one of those
                suffixes other than `.json`; hidden files and hidden folders are skipped
    mltable     an Azure ML `MLTable` folder, read by `read_mltable`: its `paths:` (`file`,
                `folder`, `pattern`, all inside the folder) and `transformations:` (at most one
                of `read_delimited`, `read_parquet`, `read_json_lines`, default delimited; then
                `take`, `skip`, `keep_columns`, `drop_columns`)

Data that is not tabular (an unknown suffix, a JSON document, an empty folder or one mixing
formats) yields None, as not being a table is not an error. Errors:

    InvalidArgument  the path is not the file or folder its type says, a file that claims a
                     tabular format cannot be parsed (the message names the file and the
                     parser's reason), or `header: from_first_file` meets files whose column
                     counts differ
    InvalidSpec      the `MLTable` file is missing or not valid YAML, or has a path, step or
                     option that is malformed, unsupported or escapes the folder (the message
                     names the file and the entry)

pandas, pyarrow and yaml are imported inside the functions: the CLI must start fast.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlyard.entities.registry.data import DataType
from mlyard.errors import InvalidArgument, InvalidSpec

if TYPE_CHECKING:
    import pandas as pd

MLTABLE_FILE = "MLTable"

# file suffix -> format; `.json` is handled apart because it is often a non-tabular document
_SUFFIX_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
}
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


def read_table(path: Path, data_type: DataType) -> pd.DataFrame | None:
    """Read the table a data asset of `data_type` holds at `path`; None when it is not tabular."""
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


# ---- which files, in which format ------------------------------------------------------------


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
        frame: pd.DataFrame = pd.read_csv(path, sep=sep, low_memory=False, **options)
        return frame
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
