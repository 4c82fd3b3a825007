"""Generated tracking stores shared by the UI and search benchmarks: N runs of seeded params and
per-step metrics, logged to an mlyard workspace and to an MLflow SQLite store.

mlyard is written through its SDK's batch call (`jobs.end_run` with every param and point of a run,
one transaction per run). MLflow's own `log_batch` costs ~180 ms per 1,000-point run on this
machine (half an hour for 10,000 runs), so only the first run goes through `MlflowClient`
(`log_batch`); the others are copies of that run's rows in MLflow's own tables (runs, tags, params,
metrics, latest_metrics) with their own ids and values, written with `executemany`. The result is
checked through MLflow's client (run count, a run's metric history) before it is used.
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

EXPERIMENT = "bench"
BASE_TIME_MS = 1_700_000_000_000


@dataclass(frozen=True)
class Shape:
    runs: int
    params: int
    metrics: int
    steps: int
    seed: int = 0

    @property
    def name(self) -> str:
        return f"{self.runs}r-{self.params}p-{self.metrics}m-{self.steps}s-seed{self.seed}"


@dataclass(frozen=True)
class RunValues:
    index: int
    params: dict[str, str]
    values: np.ndarray  # steps × metrics
    start_ms: int


def run_values(shape: Shape) -> Iterator[RunValues]:
    """Seeded values per run (the same for both systems): params uniform in [0, 10), metrics in [0, 1)."""
    for index in range(shape.runs):
        rng = np.random.default_rng([shape.seed, index])
        params = {f"p{i}": f"{value:.6f}" for i, value in enumerate(rng.uniform(0, 10, shape.params))}
        yield RunValues(index, params, rng.random((shape.steps, shape.metrics)), BASE_TIME_MS + index * 1000)


def metric_keys(shape: Shape) -> list[str]:
    return [f"m{k}" for k in range(shape.metrics)]


# --- mlyard --------------------------------------------------------------------------------------


def write_mlyard(folder: Path, shape: Shape, db: str | None = None, progress: bool = True) -> Path:
    """A workspace in `folder` (SQLite inside it, or `db`), one `end_run` batch per run."""
    import mlyard
    from mlyard.entities.jobs.job import Metric

    client = mlyard.MLClient(workspace=folder, db=db, create=True)
    keys = metric_keys(shape)
    started = time.perf_counter()
    for run in run_values(shape):
        job = client.jobs.create_run(experiment=EXPERIMENT, display_name=f"run-{run.index}")
        points = [
            Metric(key, float(value), step, run.start_ms + step)
            for step, row in enumerate(run.values.tolist())
            for key, value in zip(keys, row, strict=True)
        ]
        client.jobs.end_run(job.id, params=run.params, metrics=points)
        if progress:
            _progress("mlyard", run.index, shape.runs, started)
    return folder


def write_mlyard_copies(folder: Path, shape: Shape, db: str | None = None) -> Path:
    """The same runs as `write_mlyard`, fast: the first through the SDK, the others copies of its
    rows (jobs, params, metrics, latest_metrics) with their own ids and values, one transaction."""
    from sqlalchemy import insert, select

    from mlyard.services.workspaces.ids import new_job_id
    from mlyard.services.workspaces.workspace import open_workspace
    from mlyard.store.tables import JobRow, LatestMetricRow, MetricRow, ParamRow

    first = Shape(1, shape.params, shape.metrics, shape.steps, shape.seed)
    write_mlyard(folder, first, db=db, progress=False)
    keys = metric_keys(shape)
    database = open_workspace(folder).database
    jobs_table, params_table = JobRow.__table__, ParamRow.__table__
    metrics_table, latest_table = MetricRow.__table__, LatestMetricRow.__table__
    with database.engine.begin() as connection:
        template = dict(connection.execute(select(jobs_table)).one()._mapping)
        rows: dict[str, list[dict[str, Any]]] = {"jobs": [], "params": [], "metrics": [], "latest": []}
        for run in run_values(shape):
            if run.index == 0:
                continue
            job_id, shift = new_job_id(), timedelta(milliseconds=run.index)
            rows["jobs"].append(
                dict(
                    template,
                    id=job_id,
                    display_name=f"run-{run.index}",
                    created_at=template["created_at"] + shift,
                    start_time=template["start_time"] + shift,
                    end_time=template["end_time"] + shift,
                )
            )
            rows["params"] += [
                {"job_id": job_id, "key": k, "value": v, "value_number": float(v)}
                for k, v in run.params.items()
            ]
            values = run.values.tolist()
            for step, row in enumerate(values):
                for key, value in zip(keys, row, strict=True):
                    point = {"job_id": job_id, "key": key, "value": value, "step": step}
                    rows["metrics"].append(dict(point, timestamp=run.start_ms + step))
                    if step == len(values) - 1:
                        rows["latest"].append(dict(point, timestamp=run.start_ms + step))
        connection.execute(insert(jobs_table), rows["jobs"])
        connection.execute(insert(params_table), rows["params"])
        for chunk in range(0, len(rows["metrics"]), 100_000):
            connection.execute(insert(metrics_table), rows["metrics"][chunk : chunk + 100_000])
        connection.execute(insert(latest_table), rows["latest"])
    if database.engine.dialect.name == "postgresql":  # what autovacuum does soon after a bulk load
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
    return folder


# --- MLflow --------------------------------------------------------------------------------------


def write_mlflow(folder: Path, shape: Shape, progress: bool = True) -> str:
    """An MLflow SQLite store in `folder` (mlflow.db, artifacts/); returns its experiment id."""
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    folder.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    experiment_id = client.create_experiment(EXPERIMENT, artifact_location=(folder / "artifacts").as_uri())
    keys = metric_keys(shape)
    runs = run_values(shape)
    first = next(runs)
    template = client.create_run(experiment_id, start_time=first.start_ms, run_name="run-0").info.run_id
    client.log_batch(template, params=[Param(k, v) for k, v in first.params.items()])
    points = [
        Metric(key, float(value), first.start_ms + step, step)
        for step, row in enumerate(first.values.tolist())
        for key, value in zip(keys, row, strict=True)
    ]
    for chunk in range(0, len(points), 1000):  # log_batch takes at most 1,000 metrics
        client.log_batch(template, metrics=points[chunk : chunk + 1000])
    client.set_terminated(template, end_time=first.start_ms + 999)
    _clone_runs(folder / "mlflow.db", template, runs, shape, progress)
    return str(experiment_id)


def _clone_runs(db: Path, template: str, runs: Iterator[RunValues], shape: Shape, progress: bool) -> None:
    keys = metric_keys(shape)
    connection = sqlite3.connect(db)
    connection.row_factory = sqlite3.Row
    # A throw-away store written once: no journal fsyncs, a large page cache, and the secondary
    # indexes (by run id: random uuids, one B-tree seek per row) built once at the end, sorted.
    # With them in place the 10 million metric rows of 10,000 runs did not finish in an hour.
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("PRAGMA journal_mode = MEMORY")
    connection.execute("PRAGMA cache_size = -400000")  # KiB
    indexes = _drop_secondary_indexes(connection, ("runs", "tags", "params", "metrics", "latest_metrics"))
    try:
        run_row = dict(connection.execute("SELECT * FROM runs WHERE run_uuid = ?", (template,)).fetchone())
        tag_rows = [dict(r) for r in connection.execute("SELECT * FROM tags WHERE run_uuid = ?", (template,))]
        _expect_columns(connection, "metrics", {"key", "value", "timestamp", "run_uuid", "step", "is_nan"})
        _expect_columns(
            connection, "latest_metrics", {"key", "value", "timestamp", "step", "is_nan", "run_uuid"}
        )
        _expect_columns(connection, "params", {"key", "value", "run_uuid"})
        started = time.perf_counter()
        batch: dict[str, list[tuple[Any, ...]]] = {
            "runs": [],
            "tags": [],
            "params": [],
            "metrics": [],
            "latest": [],
        }
        run_columns = list(run_row)
        tag_columns = list(tag_rows[0]) if tag_rows else []
        for run in runs:
            run_id = uuid.uuid4().hex
            name = f"run-{run.index}"
            row = dict(
                run_row, run_uuid=run_id, name=name, start_time=run.start_ms, end_time=run.start_ms + 999
            )
            row["artifact_uri"] = str(run_row["artifact_uri"]).replace(template, run_id)
            batch["runs"].append(tuple(row[c] for c in run_columns))
            for tag in tag_rows:
                value = name if tag["key"] == "mlflow.runName" else tag["value"]
                batch["tags"].append(tuple(dict(tag, run_uuid=run_id, value=value)[c] for c in tag_columns))
            batch["params"].extend((k, v, run_id) for k, v in run.params.items())
            values = run.values.tolist()
            for step, row_values in enumerate(values):
                for key, value in zip(keys, row_values, strict=True):
                    batch["metrics"].append((key, value, run.start_ms + step, run_id, step, False))
            last = len(values) - 1
            for key, value in zip(keys, values[last], strict=True):
                batch["latest"].append((key, value, run.start_ms + last, last, False, run_id))
            if len(batch["metrics"]) >= 200_000:
                _flush(connection, batch, run_columns, tag_columns)
            if progress:
                _progress("MLflow", run.index, shape.runs, started)
        _flush(connection, batch, run_columns, tag_columns)
        started = time.perf_counter()
        for sql in indexes:
            connection.execute(sql)
        connection.commit()
        if progress:
            print(f"  MLflow: indexes rebuilt in {time.perf_counter() - started:,.0f} s", flush=True)
    finally:
        connection.close()


def _drop_secondary_indexes(connection: sqlite3.Connection, tables: tuple[str, ...]) -> list[str]:
    """Drop the named (not primary-key) indexes of `tables`; returns the SQL that makes them again."""
    marks = ", ".join("?" * len(tables))
    found = connection.execute(
        "SELECT name, sql FROM sqlite_master"
        f" WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})",
        tables,
    ).fetchall()
    for name, _ in found:
        connection.execute(f'DROP INDEX "{name}"')
    connection.commit()
    return [sql for _, sql in found]


def _expect_columns(connection: sqlite3.Connection, table: str, expected: set[str]) -> None:
    found = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
    if found != expected:
        raise SystemExit(f"MLflow's {table} table has columns {sorted(found)}, expected {sorted(expected)}")


def _flush(
    connection: sqlite3.Connection, batch: dict[str, list[tuple[Any, ...]]], runs: list[str], tags: list[str]
) -> None:
    def insert(table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        if rows:
            names = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("?" * len(columns))
            connection.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)

    insert("runs", runs, batch["runs"])
    insert("tags", tags, batch["tags"])
    insert("params", ["key", "value", "run_uuid"], batch["params"])
    # In the primary key's order (key, timestamp, step, run): appends to the B-tree, not seeks.
    batch["metrics"].sort(key=lambda row: (row[0], row[2], row[4], row[3]))
    insert("metrics", ["key", "value", "timestamp", "run_uuid", "step", "is_nan"], batch["metrics"])
    insert("latest_metrics", ["key", "value", "timestamp", "step", "is_nan", "run_uuid"], batch["latest"])
    connection.commit()
    for rows in batch.values():
        rows.clear()


def check_mlflow(folder: Path, experiment_id: str, shape: Shape) -> None:
    """The cloned store read through MLflow's client: every run, and a cloned run's full history."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}")
    count, token = 0, None
    while True:
        page = client.search_runs([experiment_id], max_results=50_000, page_token=token)
        count += len(page)
        token = page.token
        if not token:
            break
    if count != shape.runs:
        raise SystemExit(f"the MLflow store holds {count} runs, expected {shape.runs}")
    last = client.search_runs([experiment_id], filter_string=f"attributes.run_name = 'run-{shape.runs - 1}'")
    expected = next(v for v in run_values(shape) if v.index == shape.runs - 1)
    history = client.get_metric_history(last[0].info.run_id, "m0")
    got = [point.value for point in sorted(history, key=lambda p: p.step)]
    if got != expected.values[:, 0].tolist() or last[0].data.params != expected.params:
        raise SystemExit("the MLflow store's last run does not hold its generated values")


def _progress(label: str, index: int, total: int, started: float) -> None:
    done = index + 1
    if done % 1000 == 0 or done == total:
        rate = done / max(time.perf_counter() - started, 1e-9)
        print(f"  {label}: {done:,}/{total:,} runs written ({rate:,.0f} runs/s)", flush=True)


def quiet_mlflow() -> None:
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    os.environ["GIT_PYTHON_REFRESH"] = "quiet"
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID"):
        os.environ.pop(name, None)
