"""Batch scoring benchmark: `batch-endpoint invoke` on 1M rows against plain `model.predict` on them.

Generated data (no download): N rows × 10 numeric features, written once as CSV (or parquet).
For each model — Ridge (predict is one matrix-vector product, so anything around it shows) and a
HistGradientBoostingRegressor (a model whose predict costs something) — it measures, in this run
on this machine:

  plain      model.predict(X) on the rows in memory (NumPy), best of --repeat
  invoke     `mlyard batch-endpoint invoke --input data.csv --stream` as a subprocess, wall clock:
             CLI start, runner start, reading and splitting the file, workers loading the model,
             scoring, writing predictions.csv
  scoring    the job's own scoring phase (batch.scoring_seconds: first mini-batch handed out to the
             last one finished, workers' start included when they are not ready by then)

and reports rows/s and the ratio invoke ÷ plain against the issue's target (≥ 50 %). Predictions
are checked against model.predict; a mismatch exits non-zero. Speed is reported, never asserted.

    python bench/batch.py                               # 1M rows, both models
    python bench/batch.py --rows 200000 --models ridge  # quick
    python bench/batch.py --mini-batch-size 10000 --workers 2 --format parquet
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parent / "results"
FEATURES = 10
TARGET = 0.5


def make_data(rows: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(rows, FEATURES))
    weights = rng.normal(size=FEATURES)
    target = features @ weights + np.sin(features[:, 0] * 3) + rng.normal(scale=0.1, size=rows)
    return features, target


def make_models(names: list[str], features: np.ndarray, target: np.ndarray) -> dict[str, Any]:
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import Ridge

    fit_rows = min(len(features), 100_000)
    makers = {
        "ridge": lambda: Ridge(alpha=1.0),
        "hgb": lambda: HistGradientBoostingRegressor(max_iter=200, max_leaf_nodes=63, random_state=0),
    }
    return {name: makers[name]().fit(features[:fit_rows], target[:fit_rows]) for name in names}


def write_input(features: np.ndarray, folder: Path, file_format: str) -> Path:
    import pyarrow as pa

    table = pa.table({f"x{j}": features[:, j] for j in range(FEATURES)})
    path = folder / f"rows.{file_format}"
    if file_format == "csv":
        import pyarrow.csv as pa_csv

        pa_csv.write_csv(table, path)
    else:
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    return path


def plain_predict(model: Any, features: np.ndarray, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        model.predict(features)
        best = min(best, time.perf_counter() - started)
    return best


def mlyard_cli(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLYARD_")}
    env["MLYARD_SCRATCH"] = str(workspace.parent / "scratch")
    command = [sys.executable, "-m", "mlyard.cli.main", "--workspace", str(workspace), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800, check=False)


def invoke(workspace: Path, endpoint: str, data: Path) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    done = mlyard_cli(workspace, "batch-endpoint", "invoke", "--name", endpoint, "--input", str(data),
                      "--stream", "--output", "json")  # fmt: skip
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"invoke failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, json.loads(done.stdout)


def check_predictions(workspace: Path, job_id: str, expected: np.ndarray) -> float:
    import pyarrow.csv as pa_csv

    path = workspace / "artifacts" / "jobs" / job_id / "outputs" / "score" / "predictions.csv"
    got = pa_csv.read_csv(path).column("prediction").to_numpy()
    if got.shape != expected.shape or not np.allclose(got, expected, rtol=1e-9, atol=1e-9):
        raise SystemExit(f"job {job_id}: predictions.csv differs from model.predict")
    return float(np.max(np.abs(got - expected)))


def run(args: argparse.Namespace) -> dict[str, Any]:
    import mlyard

    features, target = make_data(args.rows)
    models = make_models(args.models, features, target)
    root = Path(tempfile.mkdtemp(prefix="mlyard-bench-batch-", dir=args.tmp_dir))
    workspace = root / "ws"
    data = write_input(features, root, args.format)
    size_mb = data.stat().st_size / 2**20
    print(f"{args.rows:,} rows × {FEATURES} features, {data.name} {size_mb:.0f} MB; {os.cpu_count()} cores; "
          f"mini_batch_size {args.mini_batch_size}, {args.workers} workers", flush=True)  # fmt: skip
    os.environ["MLYARD_WORKSPACE"] = str(workspace)  # where mlyard.log_model registers
    client = mlyard.MLClient(workspace=workspace, create=True)
    results: dict[str, Any] = {}
    for name, model in models.items():
        with mlyard.start_run(experiment="bench-batch"):
            mlyard.log_model(model, name=f"bench-{name}", flavor="sklearn", input_example=features[:5])
        client.batch_endpoints.create(name=f"bench-{name}")
        spec = root / f"{name}.yml"
        spec.write_text(
            f"name: main\nendpoint_name: bench-{name}\nmodel: azureml:bench-{name}@latest\n"
            f"resources: {{instance_count: {args.workers}}}\n"
            f"settings: {{mini_batch_size: {args.mini_batch_size}, retry_settings: {{timeout: 600}}}}\n"
        )
        client.batch_deployments.create(spec)
        plain = plain_predict(model, features, args.repeat)
        expected = model.predict(features)
        invokes = []
        for _ in range(args.repeat):
            seconds, job = invoke(workspace, f"bench-{name}", data)
            error = check_predictions(workspace, job["id"], expected)
            invokes.append((seconds, job["metrics"]["batch.scoring_seconds"], job["duration_seconds"], error))
        seconds, scoring, duration, error = min(invokes)
        results[name] = {
            "plain_seconds": plain, "invoke_seconds": seconds, "job_seconds": duration,
            "scoring_seconds": scoring, "max_abs_error": error,
            "plain_rows_per_s": args.rows / plain, "invoke_rows_per_s": args.rows / seconds,
            "scoring_rows_per_s": args.rows / scoring,
        }  # fmt: skip
        report(name, results[name])
    return {"rows": args.rows, "format": args.format, "mini_batch_size": args.mini_batch_size,
            "workers": args.workers, "cores": os.cpu_count(), "machine": platform.platform(),
            "python": platform.python_version(), "results": results}  # fmt: skip


def report(name: str, r: dict[str, Any]) -> None:
    def line(label: str, seconds: float, rate: float) -> str:
        ratio = rate / r["plain_rows_per_s"]
        verdict = (
            ""
            if label == "plain model.predict"
            else f"{ratio:7.1%} of plain {'≥' if ratio >= TARGET else '<'} 50 %"
        )
        return f"  {label:<34} {seconds:8.2f} s {rate:14,.0f} rows/s  {verdict}"

    print(f"{name}:")
    print(line("plain model.predict", r["plain_seconds"], r["plain_rows_per_s"]))
    print(line("batch-endpoint invoke (end to end)", r["invoke_seconds"], r["invoke_rows_per_s"]))
    print(line("  its scoring phase", r["scoring_seconds"], r["scoring_rows_per_s"]))
    job, error = r["job_seconds"], r["max_abs_error"]
    print(f"  (job runner start to end: {job:.2f} s; predictions match, max |Δ| {error:.1e})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--models", default="ridge,hgb", help="comma-separated: ridge, hgb")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--mini-batch-size", type=int, default=100_000, help="rows per mini-batch")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="resources.instance_count")
    parser.add_argument("--repeat", type=int, default=1, help="best of N (each invoke is one job)")
    parser.add_argument("--tmp-dir", default=None)
    args = parser.parse_args()
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    summary = run(args)
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"batch-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(summary, indent=2))
    print(f"results: {out}")


if __name__ == "__main__":
    main()
