"""Monitoring benchmark: data drift + data quality on 1M reference and 1M production rows, mlyard
against Evidently's DataDriftPreset and NannyML's univariate Jensen-Shannon drift, in one run.

Generated data (no download, seeded): 20 columns — 15 numerical (normal), 5 categorical (4-8
levels) — written as Parquet: the reference as one file, the production window as 4 files. Three
production columns drift: `num_00` (mean + 0.5 std), `num_01` (std × 1.5), `cat_00` (its
category mix). Measured, in this run on this machine:

  mlyard     `compare(reference.parquet, production/, data_drift + data_quality)`, end to end:
             reading the Parquet files, learning the layout, per-file summaries, merging, every
             metric (Azure's defaults: normalised Wasserstein 0.1, Jensen-Shannon 0.1; null,
             type-error and out-of-bounds rates)
  evidently  `Report([DataDriftPreset()]).run(...)` on pandas frames already in memory (reading
             not timed); its defaults above 1000 rows: Wasserstein / std and Jensen-Shannon, 0.1
  nannyml    `UnivariateDriftCalculator(jensen_shannon for both kinds, one chunk)` fit + calculate
             on the same frames, constant threshold 0.1 (usage logging off)

and prints each one's seconds, the ratios to mlyard, and the columns each flagged. The targets
(mlyard ≤ 2 s, ≥ 25× Evidently, ≥ 3× NannyML) are the issue's, printed for reference. It exits
non-zero only if mlyard does not flag exactly the drifted columns. An anchor that is not
installed is reported as such and skipped.

    make bench-monitoring                          # its own venv (.venv-bench-monitoring)
    python bench/monitoring.py --rows 200000       # quick
    python bench/monitoring.py --systems mlyard
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

# NannyML reports usage over the network unless told not to; off, so its time is its own.
os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")
RESULTS_DIR = Path(__file__).resolve().parent / "results"
NUMERICAL = [f"num_{i:02d}" for i in range(15)]
CATEGORICAL = [f"cat_{i:02d}" for i in range(5)]
DRIFTED = ["cat_00", "num_00", "num_01"]
PRODUCTION_FILES = 4
TARGETS = {"mlyard_seconds": 2.0, "evidently": 25.0, "nannyml": 3.0}


def make_table(rows: int, *, seed: int, drifted: bool) -> Any:
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {}
    for i, name in enumerate(NUMERICAL):
        mean, std = 10.0 * i, 1.0 + i
        if drifted and name == "num_00":
            mean += 0.5 * std
        if drifted and name == "num_01":
            std *= 1.5
        columns[name] = rng.normal(mean, std, rows)
    for i, name in enumerate(CATEGORICAL):
        levels = np.array([f"{name}_level_{k}" for k in range(4 + i)])
        weights = (
            np.linspace(1.0, 0.2, len(levels)) if not (drifted and name == "cat_00") else np.ones(len(levels))
        )
        columns[name] = pa.array(levels[rng.choice(len(levels), rows, p=weights / weights.sum())])
    return pa.table(columns)


def write_data(rows: int, folder: Path) -> tuple[Path, Path]:
    import pyarrow.parquet as pq

    reference = folder / "reference.parquet"
    pq.write_table(make_table(rows, seed=1, drifted=False), reference)
    production = folder / "production"
    production.mkdir()
    table = make_table(rows, seed=2, drifted=True)
    step = -(-rows // PRODUCTION_FILES)
    for part in range(PRODUCTION_FILES):
        pq.write_table(table.slice(part * step, step), production / f"part-{part}.parquet")
    return reference, production


def run_mlyard(reference: Path, production: Path) -> list[str]:
    from mlyard.monitoring.compare import compare

    results = compare(
        reference, production, {"drift": {"type": "data_drift"}, "quality": {"type": "data_quality"}}
    )
    return sorted({r.feature for r in results if r.signal_type == "data_drift" and r.breached})


def run_evidently(reference: Any, production: Any) -> list[str]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=NUMERICAL, categorical_columns=CATEGORICAL)
    snapshot = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(production, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    flagged = []
    for metric in snapshot.dict()["metrics"]:
        config = metric.get("config", {})
        column = config.get("column")
        threshold = config.get("threshold")
        value = metric.get("value")
        if column and isinstance(value, int | float) and threshold is not None:
            # Distances (Wasserstein, Jensen-Shannon) drift at or above the threshold; p-values below.
            method = str(config.get("method", ""))
            is_test = "p_value" in method or "test" in method.lower()
            if (value < threshold) if is_test else (value >= threshold):
                flagged.append(column)
    return sorted(set(flagged))


def run_nannyml(reference: Any, production: Any) -> list[str]:
    import nannyml
    from nannyml.thresholds import ConstantThreshold

    calculator = nannyml.UnivariateDriftCalculator(
        column_names=NUMERICAL + CATEGORICAL,
        treat_as_categorical=CATEGORICAL,
        continuous_methods=["jensen_shannon"],
        categorical_methods=["jensen_shannon"],
        chunk_number=1,
        # Its default threshold is the reference chunks' spread, which one chunk does not have.
        thresholds={"jensen_shannon": ConstantThreshold(upper=0.1)},
    )
    calculator.fit(reference)
    frame = calculator.calculate(production).filter(period="analysis").to_df()
    return sorted(c for c in NUMERICAL + CATEGORICAL if bool(frame[(c, "jensen_shannon", "alert")].iloc[0]))


def timed(function: Callable[..., list[str]], *args: Any) -> tuple[float, float, list[str]]:
    """Wall-clock seconds, CPU seconds of this process (all its threads) and the flagged columns.
    CPU time is printed too because on a shared machine the wall clock includes waiting for a core."""
    start, cpu = time.perf_counter(), time.process_time()
    flagged = function(*args)
    return time.perf_counter() - start, time.process_time() - cpu, flagged


def run(args: argparse.Namespace) -> dict[str, Any]:
    import pyarrow.parquet as pq

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(dir=args.tmp_dir) as folder:
        reference, production = write_data(args.rows, Path(folder))
        shape = f"{len(NUMERICAL) + len(CATEGORICAL)} columns ({len(NUMERICAL)} numerical, "
        shape += f"{len(CATEGORICAL)} categorical)"
        print(f"data: {args.rows:,} reference and {args.rows:,} production rows × {shape}, "
              f"drifted: {', '.join(DRIFTED)}")  # fmt: skip
        timed(run_mlyard, reference, production)  # warm-up: imports, page cache
        runs = [timed(run_mlyard, reference, production) for _ in range(args.repeat)]
        seconds, cpu, flagged = min(runs, key=lambda r: r[0])
        results["mlyard"] = {"seconds": seconds, "cpu_seconds": cpu, "flagged": flagged}
        frames = None
        for system, function in (("evidently", run_evidently), ("nannyml", run_nannyml)):
            if system not in args.systems:
                continue
            try:
                __import__(system)
            except ImportError as error:
                results[system] = {"skipped": f"not installed here ({error})"}
                continue
            if frames is None:
                frames = (pq.read_table(reference).to_pandas(), pq.read_table(production).to_pandas())
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    seconds, cpu, flagged = timed(function, *frames)
                except Exception as error:  # an anchor's failure is reported, not fatal
                    results[system] = {"skipped": f"failed: {type(error).__name__}: {error}"}
                    continue
            results[system] = {"seconds": seconds, "cpu_seconds": cpu, "flagged": flagged}
    return results


def report(results: dict[str, Any]) -> None:
    mine = results["mlyard"]["seconds"]
    target = TARGETS["mlyard_seconds"]
    mine_cpu = results["mlyard"]["cpu_seconds"]
    print(f"\n{'system':<10} {'seconds':>9} {'cpu s':>7} {'× mlyard':>9} {'target':>8}  flagged")
    print(f"{'mlyard':<10} {mine:>9.2f} {mine_cpu:>7.2f} {'1.0':>9} {f'≤ {target:g} s':>8}  "
          f"{', '.join(results['mlyard']['flagged'])}")  # fmt: skip
    for system in ("evidently", "nannyml"):
        if system not in results:
            continue
        entry = results[system]
        if "skipped" in entry:
            print(f"{system:<10} skipped: {entry['skipped']}")
            continue
        ratio = entry["seconds"] / mine
        entry["ratio"] = ratio
        goal = f"≥ {TARGETS[system]:g}×"
        print(f"{system:<10} {entry['seconds']:>9.2f} {entry['cpu_seconds']:>7.2f} {ratio:>9.1f} {goal:>8}  "
              f"{', '.join(entry['flagged'])}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="rows of reference and of production data"
    )
    parser.add_argument("--repeat", type=int, default=3, help="mlyard runs; the best is reported")
    parser.add_argument("--systems", nargs="+", default=["mlyard", "evidently", "nannyml"])
    parser.add_argument("--tmp-dir", default=None, help="where the generated Parquet files go")
    args = parser.parse_args()
    results = run(args)
    report(results)
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"monitoring-{datetime.now():%Y%m%d-%H%M%S}.json"
    facts = {"rows": args.rows, "cores": os.cpu_count(), "machine": platform.platform()}
    out.write_text(json.dumps({**facts, "python": platform.python_version(), "results": results}, indent=2))
    print(f"\nresults: {out}")
    if results["mlyard"]["flagged"] != DRIFTED:
        sys.exit(f"mlyard flagged {results['mlyard']['flagged']}, expected exactly {DRIFTED}")


if __name__ == "__main__":
    main()
