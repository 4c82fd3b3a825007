"""A batch job's input split into mini-batches, and its results joined into `predictions.csv`.

The input: a table (an `mltable` folder, or one csv / parquet / … file) is read once and written
as an Arrow file the workers memory-map, then split into ranges of rows; a folder of files is
split into groups of files (runtime/mini_batches). The output: every finished mini-batch's rows,
in mini-batch order — so in input order —, under one header line, with the input row's number in
a first `row` column when some rows failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlyard.errors import InvalidArgument
from mlyard.runtime.mini_batches import BatchUnit, group_files, input_files, is_tabular, row_ranges
from mlyard.services.batch.batch_results import Finished, read_payload

TABLE_FILE = "table.arrow"


@dataclass
class Plan:
    kind: str  # "rows" or "files"
    tasks: list[dict[str, Any]] = field(default_factory=list)  # the task of mini-batch i, at i
    sizes: list[int] = field(default_factory=list)  # items in mini-batch i
    table: Path | None = None

    @property
    def items(self) -> int:
        return sum(self.sizes)

    def fingerprint(self, content_hash: str | None) -> dict[str, Any]:
        """What must match for a resumed job to keep a crashed one's results."""
        return {
            "kind": self.kind,
            "mini_batches": len(self.tasks),
            "items": self.items,
            "input": content_hash,
        }


def plan_mini_batches(source: Path, input_type: str, unit: BatchUnit, limit: float, workdir: Path) -> Plan:
    """Mini-batches of `source`: rows of a table, or groups of files."""
    if input_type == "mltable" or (source.is_file() and is_tabular(source)):
        table = read_input_table(source, input_type)
        if table.num_rows == 0:
            raise InvalidArgument(f"input {source.name} is a table with no rows: nothing to score")
        target = workdir / TABLE_FILE
        write_arrow(table, target)
        ranges = row_ranges(table.num_rows, unit, limit, table.nbytes / table.num_rows)
        return Plan(
            "rows", [{"index": i, "rows": [a, b]} for i, (a, b) in enumerate(ranges)],
            [b - a for a, b in ranges], target,
        )  # fmt: skip
    files = input_files(source)
    if not files:
        raise InvalidArgument(f"input {source} holds no files: nothing to score")
    groups = group_files(files, unit, limit)
    return Plan(
        "files", [{"index": i, "files": [str(f) for f in group]} for i, group in enumerate(groups)],
        [len(group) for group in groups],
    )  # fmt: skip


def read_input_table(source: Path, input_type: str) -> Any:
    """The input as an Arrow table: csv and parquet read by Arrow (multithreaded), the rest by pandas."""
    import pyarrow as pa

    suffix = source.suffix.lower() if source.is_file() else ""
    if suffix == ".csv":
        import pyarrow.csv as pa_csv

        return pa_csv.read_csv(source)
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        return pq.read_table(source)
    from mlyard.entities.registry.data import DataType
    from mlyard.services.data_assets.tabular import read_mltable, read_table

    frame = read_mltable(source) if input_type == "mltable" else read_table(source, DataType.URI_FILE)
    if frame is None:
        raise InvalidArgument(f"input {source.name} is not a table (csv, tsv, parquet, jsonl)")
    return pa.Table.from_pandas(frame, preserve_index=False)


def write_arrow(table: Any, target: Path) -> None:
    import pyarrow as pa

    target.parent.mkdir(parents=True, exist_ok=True)
    with pa.OSFile(str(target), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def write_predictions(finished: dict[int, Finished], plan: Plan, target: Path) -> int:
    """Join the finished mini-batches' rows, in order, into `target`; returns the rows written.

    When rows of a table are missing (a mini-batch failed), every line starts with a `row` column:
    the 0-based number of its input row, so the gaps are visible and each prediction can be joined
    back to its input. A mini-batch whose script returned another number of lines than it had rows
    leaves that column empty (its lines cannot be matched to rows).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    count = len(plan.tasks)
    ordered = [finished[i] for i in range(count) if i in finished]
    numbered = plan.kind == "rows" and len(ordered) < count
    header = next((record.header for record in ordered if record.header), b"")
    files: dict[Path, Any] = {}
    rows = 0
    try:
        with open(target, "wb") as out:
            out.write(b"row," + header if numbered and header else header)
            for record in ordered:
                reader = files.get(record.path)
                if reader is None:
                    reader = files[record.path] = open(record.path, "rb")  # noqa: SIM115 - closed below
                payload = read_payload(record, reader)
                out.write(_numbered(payload, plan.tasks[record.index]["rows"]) if numbered else payload)
                rows += record.items
    finally:
        for reader in files.values():
            reader.close()
    return rows


def _numbered(payload: bytes, rows: list[int]) -> bytes:
    lines = payload.splitlines(keepends=True)
    start, stop = int(rows[0]), int(rows[1])
    if len(lines) != stop - start:
        return b"".join(b"," + line for line in lines)
    return b"".join(b"%d,%s" % (start + offset, line) for offset, line in enumerate(lines))


def failed_rows(plan: Plan, failed: list[int]) -> str:
    """The input rows (or files) of failed mini-batches, for the job's summary: `rows 20-29, 40-44`."""
    if plan.kind == "rows":
        spans = [plan.tasks[i]["rows"] for i in sorted(failed)]
        return "rows " + ", ".join(f"{a}-{b - 1}" if b - a > 1 else f"{a}" for a, b in spans)
    names = [Path(f).name for i in sorted(failed) for f in plan.tasks[i]["files"]]
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    return f"files {shown}"
