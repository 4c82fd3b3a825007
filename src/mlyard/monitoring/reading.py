"""Reading monitored data: a Parquet or CSV file, a folder of them, or a table already in memory.

Files are read with pyarrow (multi-threaded, no pandas), one table per file, so each file can be
summarised on its own and the summaries merged (`summaries.merge_summaries`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlyard.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    import pyarrow as pa

TABLE_SUFFIXES = (".parquet", ".pq", ".csv")


def data_files(path: str | Path) -> list[Path]:
    """The Parquet/CSV files at `path` (the file itself, or a folder's files, recursively, sorted)."""
    location = Path(path)
    if location.is_file():
        return [location]
    if not location.is_dir():
        raise NotFound(f"monitoring data {str(location)!r} does not exist; give a Parquet/CSV file or folder")
    files = sorted(p for p in location.rglob("*") if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES)
    if not files:
        raise InvalidArgument(f"monitoring data folder {str(location)!r} holds no .parquet or .csv file")
    return files


def read_file(path: Path) -> pa.Table:
    """One file as an Arrow table; a file that cannot be parsed is a clear error naming it."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    try:
        if path.suffix.lower() == ".csv":
            return pa_csv.read_csv(path)
        # Text columns stay dictionary-encoded as Parquet stores them: faster to read and to count.
        # ParquetFile, not read_table: read_table imports pyarrow.dataset, over a second of a
        # monitor run's start for nothing a single file needs.
        schema = pq.read_schema(path)
        text = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
        with pq.ParquetFile(path, read_dictionary=text) as parquet:
            return parquet.read()
    except (pa.ArrowInvalid, OSError) as error:
        raise InvalidArgument(f"monitoring data {str(path)!r} could not be read: {error}") from None


def tables(data: Any) -> Iterator[pa.Table]:
    """The tables of `data`: a pyarrow Table, a pandas DataFrame, or a path to files."""
    import pyarrow as pa

    if isinstance(data, pa.Table):
        yield data
    elif hasattr(data, "to_numpy") and hasattr(data, "columns"):  # a pandas DataFrame
        yield pa.Table.from_pandas(data, preserve_index=False)
    else:
        for path in data_files(data):
            yield read_file(path)


def read_all(data: Any) -> pa.Table:
    """Every table of `data` concatenated (the reference, which the layout is learned from)."""
    import pyarrow as pa

    parts = list(tables(data))
    return parts[0] if len(parts) == 1 else pa.concat_tables(parts, promote_options="permissive")
