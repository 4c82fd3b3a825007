"""Tracking benchmark: the same logging and search workload against mlyard and MLflow, side by side.

Both systems run in this process, on this machine, each on a fresh embedded store per phase:
mlyard on a temporary workspace (SQLite + folder), MLflow on `sqlite:///<tmp>/mlflow.db` with
artifacts in a temporary folder. Every system logs exactly the same values (seeded), so the
searches must return the same runs. Speed is reported, never asserted; the exit code is non-zero
only if stored data does not match what was logged.

    python bench/tracking.py                       # the defaults of the issue (several minutes)
    python bench/tracking.py --runs 20             # a quick run
    python bench/tracking.py --systems mlyard --profile
    python bench/tracking.py --remote --runs 20    # through the servers (tracking_remote.py)
    python bench/tracking.py --large               # 10,000 runs: search on SQLite + PostgreSQL
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import logging
import os
import platform
import pstats
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import mlflow
import sqlalchemy
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient
from rich.console import Console
from rich.table import Table

import mlyard

EXPERIMENT = "bench"
PHASES = ("per-call", "batched", "whole-run", "search")
SYSTEMS = ("mlyard", "mlflow")
TARGETS = {"per-call": 50.0, "batched": 5.0, "whole-run": 5.0, "search": 3.0}
RESULTS_DIR = Path(__file__).resolve().parent / "results"
# Wide enough for the table when the output goes to a file.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 130)
T = TypeVar("T")


# --- the workload ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunData:
    """What one run logs: params as strings (both systems store strings) and per-step metrics."""

    params: dict[str, str]
    steps: list[dict[str, float]]


def make_workload(runs: int, params: int, steps: int, metrics: int, seed: int) -> list[RunData]:
    """Seeded values, generated before any timer starts, identical for both systems."""
    data = []
    for run in range(runs):
        rng = random.Random(f"{seed}-{run}")
        data.append(
            RunData(
                params={f"p{i}": f"{rng.uniform(0, 10):.6f}" for i in range(params)},
                steps=[{f"m{k}": rng.random() for k in range(metrics)} for _ in range(steps)],
            )
        )
    return data


def thresholds(count: int) -> list[float]:
    """Evenly spread over [0, 1) (metric values are uniform there), in a shuffled order."""
    values = [(i + 0.5) / count for i in range(count)]
    random.Random(count).shuffle(values)
    return values


# --- the two systems ---------------------------------------------------------------------------


class MlyardSystem:
    label = "mlyard"

    def open(self, folder: Path) -> None:
        """Create and migrate the workspace (untimed)."""
        self.workspace = folder / "workspace"
        self.client = mlyard.MLClient(workspace=self.workspace, create=True)

    def per_call(self, data: list[RunData]) -> None:
        for run in data:
            with mlyard.start_run(experiment=EXPERIMENT, workspace=self.workspace):
                for key, value in run.params.items():
                    mlyard.log_param(key, value)
                for step, points in enumerate(run.steps):
                    for key, number in points.items():
                        mlyard.log_metric(key, number, step=step)

    def batched(self, data: list[RunData]) -> None:
        for run in data:
            with mlyard.start_run(experiment=EXPERIMENT, workspace=self.workspace):
                mlyard.log_params(run.params)
                for step, points in enumerate(run.steps):
                    mlyard.log_metrics(points, step=step)

    def whole_run(self, data: list[RunData]) -> None:
        # Run.log_metrics takes one step per call; the calls are buffered and written at the end.
        for run in data:
            with mlyard.start_run(experiment=EXPERIMENT, workspace=self.workspace) as active:
                active.log_params(run.params)
                for step, points in enumerate(run.steps):
                    active.log_metrics(points, step=step)

    def search(self, threshold: float) -> int:
        jobs = self.client.jobs.search(
            filter=f"metrics.m0 < {threshold!r}", experiments=[EXPERIMENT], max_results=1000
        )
        return len(jobs)

    def verify(self, data: list[RunData]) -> dict[str, int]:
        """Count every stored point and param through the public SDK."""
        jobs = self.client.jobs.search(experiments=[EXPERIMENT], max_results=50_000)
        keys = list(data[0].steps[0]) if data and data[0].steps else []
        points = sum(len(self.client.jobs.metric_history(job.id, key)) for job in jobs for key in keys)
        completed = sum(job.status == mlyard.JobStatus.COMPLETED for job in jobs)
        params = sum(len(job.params) for job in jobs)
        return {"runs": len(jobs), "completed": completed, "params": params, "points": points}


class MlflowSystem:
    label = "MLflow"

    def open(self, folder: Path) -> None:
        """Create the SQLite database (runs MLflow's migrations) and the experiment (untimed)."""
        self.uri = f"sqlite:///{folder / 'mlflow.db'}"
        artifacts = folder / "artifacts"
        artifacts.mkdir()
        mlflow.set_tracking_uri(self.uri)
        self.client = MlflowClient(tracking_uri=self.uri)
        self.experiment_id = self.client.create_experiment(EXPERIMENT, artifact_location=artifacts.as_uri())
        mlflow.set_experiment(EXPERIMENT)

    def per_call(self, data: list[RunData]) -> None:
        for run in data:
            with mlflow.start_run():
                for key, value in run.params.items():
                    mlflow.log_param(key, value)
                for step, points in enumerate(run.steps):
                    for key, number in points.items():
                        mlflow.log_metric(key, number, step=step)

    def batched(self, data: list[RunData]) -> None:
        for run in data:
            with mlflow.start_run():
                mlflow.log_params(run.params)
                for step, points in enumerate(run.steps):
                    mlflow.log_metrics(points, step=step)

    def whole_run(self, data: list[RunData]) -> None:
        for run in data:
            with mlflow.start_run() as active:
                stamp = int(time.time() * 1000)
                metrics = [
                    Metric(key, number, stamp, step)
                    for step, points in enumerate(run.steps)
                    for key, number in points.items()
                ]
                params = [Param(key, value) for key, value in run.params.items()]
                self.client.log_batch(active.info.run_id, metrics=metrics, params=params)

    def search(self, threshold: float) -> int:
        runs = self.client.search_runs(
            [self.experiment_id], filter_string=f"metrics.m0 < {threshold!r}", max_results=1000
        )
        return len(runs)

    def verify(self, data: list[RunData]) -> dict[str, int]:
        """Cheap sample: run count, and the full history of the first and last runs."""
        runs = self.client.search_runs([self.experiment_id], max_results=50_000)
        keys = list(data[0].steps[0]) if data and data[0].steps else []
        sample = [runs[0], runs[-1]] if runs else []
        points = sum(len(self.client.get_metric_history(r.info.run_id, k)) for r in sample for k in keys)
        return {"runs": len(runs), "sampled_runs": len(sample), "sampled_points": points}


System = MlyardSystem | MlflowSystem


# --- measuring ---------------------------------------------------------------------------------


@dataclass
class Measurement:
    seconds: float
    per_second: float
    unit: str
    extra: dict[str, Any] = field(default_factory=dict)


def timed(action: Callable[[], T], profile: cProfile.Profile | None) -> tuple[float, T]:
    """Wall time of `action()` and its result; garbage from earlier phases collected first."""
    gc.collect()
    if profile is not None:
        profile.enable()
    start = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - start
    if profile is not None:
        profile.disable()
    return elapsed, result


def run_logging(
    system: System, phase: str, data: list[RunData], folder: Path, profile: cProfile.Profile | None
) -> Measurement:
    system.open(folder)
    action = {"per-call": system.per_call, "batched": system.batched, "whole-run": system.whole_run}[phase]
    seconds, _ = timed(lambda: action(data), profile)
    points = sum(len(step) for run in data for step in run.steps)
    return Measurement(seconds, points / seconds, "points/s", {"verify": system.verify(data)})


def run_search(system: System, limits: list[float], profile: cProfile.Profile | None) -> Measurement:
    times, counts = [], []
    for limit in limits:
        seconds, count = timed(lambda limit=limit: system.search(limit), profile)
        times.append(seconds)
        counts.append(count)
    median = statistics.median(times)
    return Measurement(median, 1 / median, "searches/s", {"counts": counts, "seconds": times})


def warm_up(system: System, root: Path, data: list[RunData]) -> float:
    """One untimed run in a throwaway store: imports, lazy caches, code snapshot, git probes."""
    folder = Path(tempfile.mkdtemp(prefix=f"warmup-{system.label}-", dir=root))
    start = time.perf_counter()
    system.open(folder)
    system.per_call(data[:1])
    system.search(0.5)
    return time.perf_counter() - start


# --- reporting ---------------------------------------------------------------------------------


def environment(root: Path) -> dict[str, Any]:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "mlyard": mlyard.__version__,
        "mlflow": mlflow.__version__,
        "sqlalchemy": sqlalchemy.__version__,
        "sqlite": sqlite3.sqlite_version,
        "cpu_count": os.cpu_count(),
        "usable_cpus": affinity,
        "temp_root": str(root),
        "temp_filesystem": filesystem_of(root),
    }


def filesystem_of(path: Path) -> str | None:
    """The mount type under `path` (tmpfs vs a disk changes SQLite commit cost), Linux only."""
    try:
        mounts = [line.split()[1:3] for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return None
    best = max((m for m in mounts if str(path).startswith(m[0])), key=lambda m: len(m[0]), default=None)
    return best[1] if best else None


ROWS = {  # phase: (row name, what each system does in it)
    "per-call": ("per-call", "one log_param / log_metric(key, value, step) call per value"),
    "batched": ("batched", "one log_params per run, one log_metrics(5 keys, step) per step"),
    "whole-run": (
        "whole-run batch",
        "mlyard: Run.log_metrics per step (buffered, written at end)\nMLflow: one log_batch per run",
    ),
    "search": ("search", "median wall time of 'metrics.m0 < t' over the first logging phase's runs"),
}


def print_table(results: dict[str, dict[str, Measurement]], ratios: dict[str, float | None]) -> None:
    table = Table(title="mlyard vs MLflow — ratio = mlyard ÷ MLflow throughput (> 1: mlyard faster)")
    table.add_column("workload")
    table.add_column("what is measured")
    for name in ("mlyard", "MLflow", "ratio", "target"):
        table.add_column(name, justify="right")
    for phase, by_system in results.items():
        cells = []
        for system in ("mlyard", "MLflow"):
            m = by_system.get(system)
            if m is None:
                cells.append("—")
            elif phase == "search":
                cells.append(f"{m.seconds * 1000:,.1f} ms")
            else:
                cells.append(f"{m.per_second:,.0f} pts/s\n{m.seconds:,.2f} s")
        ratio = ratios.get(phase)
        cells.append("—" if ratio is None else f"{ratio:,.1f}×")
        cells.append(f"≥ {TARGETS[phase]:g}×")
        table.add_row(*ROWS[phase], *cells)
    console.print(table)


# --- main --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=200, help="runs per logging phase (default 200)")
    parser.add_argument("--params", type=int, default=10, help="params per run (default 10)")
    parser.add_argument("--steps", type=int, default=50, help="steps per run (default 50)")
    parser.add_argument("--metrics", type=int, default=5, help="metric keys per step (default 5)")
    parser.add_argument("--searches", type=int, default=20, help="timed searches (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the logged values (default 0)")
    parser.add_argument("--systems", default="mlyard,mlflow", help="comma list of: mlyard, mlflow")
    parser.add_argument(
        "--phases", default=",".join(PHASES), help=f"comma list of: {', '.join(PHASES)} (default all)"
    )
    parser.add_argument("--tmp-dir", type=Path, default=None, help="where temp stores go (default: system)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary stores and print where")
    parser.add_argument("--no-warm-up", action="store_true", help="skip the untimed warm-up run per system")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the mlyard side (inflates its times), print the top"
    )
    args = parser.parse_args(argv)
    args.systems = [s.strip().lower() for s in args.systems.split(",") if s.strip()]
    args.phases = [p.strip().lower() for p in args.phases.split(",") if p.strip()]
    if not args.systems or set(args.systems) - set(SYSTEMS):
        parser.error(f"--systems takes a comma list of {', '.join(SYSTEMS)}")
    if not args.phases or set(args.phases) - set(PHASES):
        parser.error(f"--phases takes a comma list of {', '.join(PHASES)}")
    if "search" in args.phases and not set(args.phases) & {"per-call", "batched", "whole-run"}:
        parser.error("the search phase searches the runs of a logging phase; add one to --phases")
    if min(args.runs, args.params, args.steps, args.metrics, args.searches) < 1:
        parser.error("--runs, --params, --steps, --metrics and --searches must be at least 1")
    return args


def quiet_mlflow() -> None:
    """Synchronous logging, no telemetry, no git or migration chatter: measure the store only."""
    for name in (
        "MLFLOW_ENABLE_ASYNC_LOGGING",
        "MLFLOW_TRACKING_URI",
        "MLFLOW_EXPERIMENT_ID",
        "MLFLOW_EXPERIMENT_NAME",
        "MLFLOW_RUN_ID",
        "MLYARD_JOB_ID",
        "MLYARD_EXPERIMENT_NAME",
    ):
        os.environ.pop(name, None)
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    os.environ["GIT_PYTHON_REFRESH"] = "quiet"
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="mlflow")  # e.g. FutureWarnings about APIs we don't use


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--remote" in argv:  # the same workload through the servers: its own script, its own options
        import tracking_remote

        return tracking_remote.main([a for a in argv if a != "--remote"])
    if "--large" in argv:  # the 10,000-run search on SQLite and PostgreSQL: its own script
        import tracking_large

        return tracking_large.main([a for a in argv if a != "--large"])
    args = parse_args(argv)
    quiet_mlflow()
    root = Path(tempfile.mkdtemp(prefix="mlyard-bench-", dir=args.tmp_dir))
    env = environment(root)
    console.print("[bold]environment[/bold]")
    for key, value in env.items():
        console.print(f"  {key:16} {value}")
    data = make_workload(args.runs, args.params, args.steps, args.metrics, args.seed)
    points = args.runs * args.steps * args.metrics
    console.print(
        f"[bold]workload[/bold]  {args.runs} runs × ({args.params} params + {args.steps} steps × "
        f"{args.metrics} metrics) = {points:,} metric points per logging phase"
    )
    systems: dict[str, System] = {"mlyard": MlyardSystem(), "mlflow": MlflowSystem()}
    chosen = [systems[name] for name in args.systems]
    profile = cProfile.Profile() if args.profile else None
    results: dict[str, dict[str, Measurement]] = {}
    searched: dict[str, System] = {}
    try:
        if not args.no_warm_up:
            for system in chosen:
                console.print(f"  warm-up {system.label}: {warm_up(system, root, data):.2f} s (untimed)")
        for phase in (p for p in PHASES if p in args.phases and p != "search"):
            results[phase] = {}
            for system in chosen:
                system = type(system)()  # fresh object, fresh store
                folder = Path(tempfile.mkdtemp(prefix=f"{phase}-{system.label}-", dir=root))
                use = profile if system.label == "mlyard" else None
                m = results[phase][system.label] = run_logging(system, phase, data, folder, use)
                console.print(f"  {phase:9} {system.label:7} {m.seconds:8.2f} s  {m.per_second:12,.0f} pts/s")
                searched.setdefault(system.label, system)
        if "search" in args.phases:
            results["search"] = {}
            limits = thresholds(args.searches)
            for label, system in searched.items():
                use = profile if label == "mlyard" else None
                m = results["search"][label] = run_search(system, limits, use)
                console.print(f"  search    {label:7} {m.seconds * 1000:8.1f} ms median")
    finally:
        if args.keep:
            console.print(f"stores kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    problems = check(results, data, args, searched)
    ratios = {phase: ratio(by_system) for phase, by_system in results.items()}
    print_table(results, ratios)
    for line in problems or ["verification: stored data matches what was logged"]:
        console.print(line, style="red" if problems else "green")
    if profile is not None:
        print_profile(profile)
    write_json(env, args, results, ratios, problems)
    return 1 if problems else 0


def ratio(by_system: dict[str, Measurement]) -> float | None:
    if "mlyard" not in by_system or "MLflow" not in by_system:
        return None
    return by_system["mlyard"].per_second / by_system["MLflow"].per_second


def check(
    results: dict[str, dict[str, Measurement]],
    data: list[RunData],
    args: argparse.Namespace,
    searched: dict[str, System],
) -> list[str]:
    """Data lost or searches disagreeing make a fast figure meaningless: report them."""
    problems = []
    expected = {
        "runs": args.runs,
        "completed": args.runs,
        "params": args.runs * args.params,
        "points": args.runs * args.steps * args.metrics,
    }
    for phase, by_system in results.items():
        mlyard_counts = by_system.get("mlyard", Measurement(0, 0, "")).extra.get("verify")
        if mlyard_counts is not None and mlyard_counts != expected:
            problems.append(f"{phase}: mlyard stored {mlyard_counts}, expected {expected}")
        flow = by_system.get("MLflow", Measurement(0, 0, "")).extra.get("verify")
        if flow is not None and (
            flow["runs"] != args.runs
            or flow["sampled_points"] != flow["sampled_runs"] * args.steps * args.metrics
        ):
            problems.append(f"{phase}: MLflow stored {flow}, expected {args.runs} runs of {args.steps} steps")
    if "search" in results:
        last_m0 = [run.steps[-1]["m0"] for run in data]
        limits = thresholds(args.searches)
        truth = [sum(value < limit for value in last_m0) for limit in limits]
        for label, m in results["search"].items():
            if m.extra["counts"] != truth:
                problems.append(f"search: {label} found {m.extra['counts']}, expected {truth}")
        pairs = ", ".join(f"{limit:.3f}:{count}" for limit, count in sorted(zip(limits, truth, strict=True)))
        console.print(f"  runs found per threshold, expected from the logged values (t:count): {pairs}")
    return problems


def print_profile(profile: cProfile.Profile) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).strip_dirs().sort_stats("cumulative")
    stats.print_stats(30)
    console.print("[bold]cProfile of the mlyard side (cumulative, top 30)[/bold]")
    print(out.getvalue())
    RESULTS_DIR.mkdir(exist_ok=True)
    stats.dump_stats(RESULTS_DIR / f"tracking-mlyard-{datetime.now():%Y%m%d-%H%M%S}.prof")


def write_json(
    env: dict[str, Any],
    args: argparse.Namespace,
    results: dict[str, dict[str, Measurement]],
    ratios: dict[str, float | None],
    problems: list[str],
) -> None:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"tracking-{datetime.now():%Y%m%d-%H%M%S}.json"
    config = {k: v for k, v in vars(args).items() if k != "tmp_dir"}
    document = {
        "environment": env,
        "config": config,
        "results": {
            phase: {
                "measures": ROWS[phase][1].replace("\n", "; "),
                "systems": {label: asdict(m) for label, m in by_system.items()},
                "ratio_mlyard_over_mlflow": ratios[phase],
                "target": TARGETS[phase],
            }
            for phase, by_system in results.items()
        },
        "problems": problems,
    }
    path.write_text(json.dumps(document, indent=2))
    shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
    console.print(f"results written to {shown}")


if __name__ == "__main__":
    sys.exit(main())
