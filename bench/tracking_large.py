"""The 10,000-run search of issue 17: `metrics.m0 < 0.5` ordered by `metrics.m1 DESC`, first 100,
on mlyard over SQLite and over PostgreSQL (a throw-away database on 127.0.0.1:5432), next to
MLflow's `search_runs` over its SQLite store. Run by `tracking.py --large`.

Each run has 5 params and 5 metrics (one step). The stores are written fast (stores.py: the first
run through each system's client, the others copies of its rows); writing is not measured. Every
system must return the same 100 runs in the same order; the exit code says whether they did.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stores  # noqa: E402  (the generated runs, shared with ui.py)
import tracking  # noqa: E402  (console and MLflow's quiet settings)

FILTER, ORDER, LIMIT = "metrics.m0 < 0.5", "metrics.m1 DESC", 100
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGET_MS = 50.0
console = tracking.console


def timed_median(search: Callable[[], list[str]], repeat: int) -> tuple[float, list[str]]:
    found = search()  # untimed: caches, prepared statements, the first connection
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        search()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, found


def mlyard_search(workspace: Path) -> Callable[[], list[str]]:
    import mlyard

    client = mlyard.MLClient(workspace=workspace)

    def search() -> list[str]:
        found = client.jobs.search(
            filter=FILTER, order_by=[ORDER], experiments=[stores.EXPERIMENT], max_results=LIMIT
        )
        return [str(job.display_name) for job in found]

    return search


def mlflow_search(folder: Path, experiment_id: str) -> Callable[[], list[str]]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}")

    def search() -> list[str]:
        found = client.search_runs([experiment_id], filter_string=FILTER, order_by=[ORDER], max_results=LIMIT)
        return [run.info.run_name for run in found]

    return search


def admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(sql)  # type: ignore[arg-type]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10_000, help="runs (default 10,000)")
    parser.add_argument("--searches", type=int, default=20, help="timed mlyard searches (default 20)")
    parser.add_argument("--mlflow-searches", type=int, default=5, help="timed MLflow searches (default 5)")
    parser.add_argument("--no-postgresql", action="store_true", help="skip the PostgreSQL backend")
    args = parser.parse_args(argv)
    tracking.quiet_mlflow()
    shape = stores.Shape(args.runs, 5, 5, 1)
    root = Path(tempfile.mkdtemp(prefix="mlyard-bench-large-"))
    database = f"mlyard_bench_{uuid.uuid4().hex[:10]}"
    results: dict[str, tuple[float, list[str]]] = {}
    try:
        console.print(
            f"[bold]10,000-run search[/bold]  {args.runs:,} runs × (5 params, 5 metrics); writing stores"
        )
        stores.write_mlyard_copies(root / "sqlite", shape)
        results["mlyard · SQLite"] = timed_median(mlyard_search(root / "sqlite"), args.searches)
        if not args.no_postgresql:
            admin(f'CREATE DATABASE "{database}"')
            url = (
                PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{database}"
            )
            stores.write_mlyard_copies(root / "pg", shape, db=url)
            results["mlyard · PostgreSQL"] = timed_median(mlyard_search(root / "pg"), args.searches)
        experiment_id = stores.write_mlflow(root / "mlflow", shape, progress=False)
        results["MLflow · SQLite"] = timed_median(
            mlflow_search(root / "mlflow", experiment_id), args.mlflow_searches
        )
    finally:
        if not args.no_postgresql:
            from mlyard.services.workspaces.workspace import close_all

            close_all()
            admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(root, ignore_errors=True)
    return report(results, args)


def report(results: dict[str, tuple[float, list[str]]], args: Any) -> int:
    flow_ms, truth = results["MLflow · SQLite"]
    table = Table(title=f"'{FILTER}' ordered by '{ORDER}', first {LIMIT}, over {args.runs:,} runs (median)")
    for name in ("system", "time", "MLflow ÷ this", "target", "met", "same 100 runs, same order"):
        table.add_column(name, justify="left" if name == "system" else "right")
    problems = 0
    for system, (ms, found) in results.items():
        same = found == truth and len(found) == LIMIT
        problems += not same
        mine = system.startswith("mlyard")
        table.add_row(
            system,
            f"{ms:,.1f} ms",
            f"{flow_ms / ms:,.1f}×",
            f"≤ {TARGET_MS:g} ms" if mine else "—",
            ("yes" if ms <= TARGET_MS else "NO") if mine else "—",
            "yes" if same else "NO",
        )
    console.print(table)
    return 1 if problems else 0
