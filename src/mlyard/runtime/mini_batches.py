"""Splitting an input into mini-batches: groups of files, or ranges of a table's rows.

One implementation for parallel jobs (`runtime/parallel_runner`) and batch scoring jobs
(`runtime/batch_runner`). `mini_batch_size` is a count (files, or rows of a table) or a size
(`10kb`, `1mb`: files up to that many bytes, or as many rows as take about that much memory).
The split depends only on the input and the size, so a resumed job gets the same mini-batches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

BatchUnit = Literal["count", "bytes"]
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq", ".jsonl")


def is_tabular(path: Path) -> bool:
    """A file read as a table (split by rows) rather than handed over as a file."""
    return path.suffix.lower() in TABLE_SUFFIXES


def input_files(source: Path) -> list[Path]:
    """The files of an input, in a stable order; hidden files (`.name`) are left out."""
    if source.is_file():
        return [source]
    return sorted(
        p
        for p in source.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(source).parts)
    )


def group_files(files: list[Path], unit: BatchUnit, limit: float) -> list[list[Path]]:
    """Consecutive files, `limit` per group (or up to `limit` bytes, at least one file each)."""
    groups: list[list[Path]] = []
    current: list[Path] = []
    size = 0.0
    for file in files:
        weight = 1 if unit == "count" else file.stat().st_size
        if current and size + weight > limit:
            groups.append(current)
            current, size = [], 0.0
        current.append(file)
        size += weight
    if current:
        groups.append(current)
    return groups


def row_ranges(rows: int, unit: BatchUnit, limit: float, bytes_per_row: float = 1.0) -> list[tuple[int, int]]:
    """[start, stop) ranges covering `rows` rows: `limit` rows each, or about `limit` bytes each."""
    per_row = 1.0 if unit == "count" else max(bytes_per_row, 1.0)
    size = max(1, int(limit // per_row))
    return [(start, min(start + size, rows)) for start in range(0, rows, size)]
