"""Scoring one mini-batch of a batch job: by the model's flavor (no-code), or with a user's score.py.

    scorer = MiniBatchScorer(config); scorer.start()        # loads the model / imports score.py, init()
    reply, header, rows = scorer.score({"index": 3, "rows": [0, 10]})   # or {"files": [...]}

No-code: a range of a table's rows goes to the model as one NumPy array when its columns are
numeric (straight from the Arrow table the runner wrote, no pandas); a group of files is read as
tables, one prediction row per input row with the file's name beside it. score.py: Azure ML's
batch contract — `init()` once per worker (the model folder in `AZUREML_MODEL_DIR`),
`run(mini_batch)` with a pandas DataFrame (rows of a table) or a list of file paths, returning
a list (one row per element) or a DataFrame (its columns become the header). Each element
counts as one succeeded item; the rest of the mini-batch counts as failed.
"""

from __future__ import annotations

import importlib.util
import io
import os
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from mlyard.errors import InputMismatch, InvalidArgument
from mlyard.services.batch.batch_results import rows_of

MODEL_DIR_VARIABLES = ("AZUREML_MODEL_DIR", "MLYARD_MODEL_DIR")
ERROR_TAIL_LINES = 25


class MiniBatchScorer:
    """Scores mini-batches in this process; `config` is what the runner wrote for its workers."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.model_dir = Path(config["model_dir"])
        self.input_root = Path(config["input_root"]) if config.get("input_root") else None
        self.summary_only = config.get("output_action") == "summary_only"
        self.module: ModuleType | None = None
        self.scorer: Any = None
        self._table: Any = None

    def start(self) -> None:
        """Load the model (no-code) or import score.py and call its init(); errors propagate."""
        for variable in MODEL_DIR_VARIABLES:
            os.environ[variable] = str(self.model_dir)
        script = self.config.get("scoring_script")
        if script is None:
            from mlyard.serving.scorers import load_scorer

            self.scorer = load_scorer(self.model_dir)
            return
        code_dir = Path(self.config["code_dir"])
        path = code_dir / script
        if str(code_dir) not in sys.path:
            sys.path.insert(0, str(code_dir))
        os.chdir(code_dir)
        spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or spec.loader is None:
            raise InvalidArgument(f"cannot import the scoring script {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
        if not callable(getattr(module, "run", None)):
            raise InvalidArgument(f"the scoring script {script} defines no run(mini_batch) function")
        if callable(getattr(module, "init", None)):
            module.init()
        self.module = module

    def shutdown(self) -> None:
        if self.module is not None and callable(getattr(self.module, "shutdown", None)):
            self.module.shutdown()

    def score(self, task: dict[str, Any]) -> tuple[dict[str, Any], bytes, bytes]:
        """(reply, column header, result rows) for one mini-batch; a failure is a reply, not a raise."""
        index = int(task["index"])
        size = len(task["files"]) if "files" in task else int(task["rows"][1]) - int(task["rows"][0])
        try:
            header, payload, items = self._score(task)
        except Exception as exc:  # the user's code or model failed on this mini-batch: report, retry maybe
            return {"index": index, "ok": False, "error": _their_traceback(exc)}, b"", b""
        failed = max(0, size - items)
        if self.summary_only:
            header, payload = b"", b""
        return {"index": index, "ok": True, "items": items, "failed_items": failed}, header, payload

    def _score(self, task: dict[str, Any]) -> tuple[bytes, bytes, int]:
        if "files" in task:
            files = [str(f) for f in task["files"]]
            if self.module is not None:
                return _rows_of_result(self.module.run(files))
            return self._score_files(files)
        start, stop = int(task["rows"][0]), int(task["rows"][1])
        part = self.table().slice(start, stop - start)
        if self.module is not None:
            return _rows_of_result(self.module.run(part.to_pandas()))
        predictions = self.scorer.predict(table_batch(part, self.scorer.schema))
        return csv_rows(prediction_columns(predictions, part.num_rows))

    def _score_files(self, files: list[str]) -> tuple[bytes, bytes, int]:
        pieces, header, items = [], b"", 0
        for file in files:
            path = Path(file)
            table = read_table_file(path)
            predictions = self.scorer.predict(table_batch(table, self.scorer.schema))
            shown = path.relative_to(self.input_root).as_posix() if self.input_root else path.name
            columns = {"file": np.full(table.num_rows, shown, dtype=object)}
            columns.update(prediction_columns(predictions, table.num_rows))
            header, payload, count = csv_rows(columns)
            pieces.append(payload)
            items += count
        return header, b"".join(pieces), items

    def table(self) -> Any:
        """The input table the runner wrote (Arrow IPC), memory-mapped once per worker."""
        if self._table is None:
            import pyarrow as pa

            with pa.memory_map(self.config["table"], "r") as source:
                self._table = pa.ipc.open_file(source).read_all()
        return self._table


def table_batch(table: Any, schema: Any) -> Any:
    """An Arrow table as the scorer's `Batch`: one float64 array when the columns it takes are numeric."""
    import pyarrow as pa

    from mlyard.serving.inputs import Batch

    names = list(schema.names) if schema is not None and not schema.is_tensor else list(table.column_names)
    missing = [name for name in names if name not in table.column_names]
    if missing:
        raise InputMismatch(
            f"the input has no column {', '.join(map(repr, missing))}; the model takes "
            f"{', '.join(names)} (the input has {', '.join(table.column_names)})"
        )
    columns = [table.column(name) for name in names]
    numeric = all(
        (pa.types.is_floating(c.type) or pa.types.is_integer(c.type) or pa.types.is_boolean(c.type))
        and c.null_count == 0
        for c in columns
    )
    if numeric:
        array = np.empty((table.num_rows, len(columns)), dtype=np.float64)
        for j, column in enumerate(columns):
            array[:, j] = column.to_numpy()
        return Batch(array=array, names=tuple(names))
    return Batch(columns={n: c.to_numpy(zero_copy_only=False) for n, c in zip(names, columns, strict=True)},
                 names=tuple(names))  # fmt: skip


def prediction_columns(predictions: Any, rows: int) -> dict[str, Any]:
    """Named result columns: `prediction` for one output, `prediction_<j>` or the outputs' names."""
    if isinstance(predictions, dict):
        named: dict[str, Any] = {}
        for name, values in predictions.items():
            for key, column in prediction_columns(values, rows).items():
                named[key.replace("prediction", str(name), 1)] = column
        return named
    array = np.asarray(predictions)
    if array.ndim == 0 or array.shape[0] != rows:
        raise InputMismatch(f"the model returned {array.shape} for {rows} rows")
    if array.ndim == 1:
        return {"prediction": array}
    array = array.reshape(rows, -1)
    if array.shape[1] == 1:
        return {"prediction": array[:, 0]}
    return {f"prediction_{j}": array[:, j] for j in range(array.shape[1])}


def csv_rows(columns: dict[str, Any]) -> tuple[bytes, bytes, int]:
    """(header line, CSV rows, row count) of equal-length columns, written by Arrow's CSV writer."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    table = pa.table({name: pa.array(values) for name, values in columns.items()})
    sink = io.BytesIO()
    pa_csv.write_csv(table, sink, pa_csv.WriteOptions(include_header=False, quoting_style="needed"))
    header = ",".join(_csv_name(name) for name in columns).encode() + b"\n"
    return header, sink.getvalue(), table.num_rows


def read_table_file(path: Path) -> Any:
    """A csv or parquet file as an Arrow table (other tabular formats through pandas)."""
    import pyarrow as pa

    suffix = path.suffix.lower()
    if suffix == ".csv":
        import pyarrow.csv as pa_csv

        return pa_csv.read_csv(path)
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        return pq.read_table(path)
    if suffix not in (".tsv", ".jsonl"):
        raise InvalidArgument(
            f"{path.name} is not a table (csv, tsv, parquet, jsonl): without a scoring script a deployment "
            "scores tables; give it code_configuration.scoring_script to score other files"
        )
    from mlyard.entities.registry.data import DataType
    from mlyard.services.data_assets.tabular import read_table

    frame = read_table(path, DataType.URI_FILE)
    if frame is None:  # read_table gives None only for formats it does not read, excluded above
        raise InvalidArgument(f"{path.name}: no table could be read from it")
    return pa.Table.from_pandas(frame, preserve_index=False)


def _rows_of_result(result: Any) -> tuple[bytes, bytes, int]:
    if result is not None and hasattr(result, "to_csv") and hasattr(result, "columns"):
        header = ",".join(_csv_name(str(c)) for c in result.columns).encode() + b"\n"
        return header, result.to_csv(index=False, header=False).encode(), len(result)
    lines = rows_of(result)
    return b"", "".join(f"{line}\n" for line in lines).encode(), len(lines)


def _csv_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"' if any(c in name for c in ',"\n') else name


def _their_traceback(exc: BaseException) -> str:
    """The traceback from the first frame outside this module: the user's code, or the model's."""
    frames = exc.__traceback__
    while frames is not None and frames.tb_frame.f_code.co_filename == __file__:
        frames = frames.tb_next
    text = "".join(traceback.format_exception(type(exc), exc, frames)).rstrip()
    return "\n".join(text.splitlines()[-ERROR_TAIL_LINES:])
