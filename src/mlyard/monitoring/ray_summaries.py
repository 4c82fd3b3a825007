"""Summarising a large window's production files on Ray: one task per file, merged here.

The statistics are mergeable per-file summaries (`summaries.py`), so each Ray task reads one
file and summarises it against the layout learned from the reference; the monitor process
merges the summaries, exactly as the local path merges them file by file, so the values are the
same. Ray is imported only when a monitor's `compute` names a Ray target.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlyard.errors import InvalidArgument
from mlyard.monitoring import reading
from mlyard.monitoring.layout import ColumnLayout
from mlyard.monitoring.summaries import TableSummary, merge_summaries, summarize


def ray_summarizer(address: str | None) -> Any:
    """A `compare(summarize_files=…)` that runs on the Ray cluster at `address` (None: a Ray
    instance on this machine, started or joined)."""

    def summarize_files(files: list[Path], layouts: Mapping[str, ColumnLayout]) -> TableSummary:
        import ray

        if not ray.is_initialized():
            ray.init(
                address=address, include_dashboard=False, log_to_driver=False,
                ignore_reinit_error=True, configure_logging=False,
            )  # fmt: skip
        task = ray.remote(max_retries=0)(summarize_file)
        shared: Any = ray.put(dict(layouts))  # sent once, not once per task
        return merge_summaries(ray.get([task.remote(str(path), shared) for path in files]))

    return summarize_files


def summarize_file(path: str, layouts: Mapping[str, ColumnLayout]) -> TableSummary:
    """One production file's summary (runs in a Ray worker)."""
    table = reading.read_file(Path(path))
    missing = [name for name in layouts if name not in table.column_names]
    if missing:
        raise InvalidArgument(
            f"monitored feature: column {missing[0]!r} is not in the production data file {path} "
            f"(its columns: {', '.join(table.column_names)}); monitor only columns both data sets have"
        )
    return summarize(table, layouts)
