"""Studio benchmark: mlyard's studio against MLflow's UI on the same generated runs, in one Chromium.

The same runs (default 10,000 runs × 5 params × 10 metrics × 100 steps, seeded; see stores.py)
are written to an mlyard workspace and an MLflow SQLite store, cached under build/bench-ui/ (a
rerun reuses them; --regenerate writes them again). Then `mlyard server start` (the studio) and
`mlflow server` (its UI) are started on free 127.0.0.1 ports, one process each, and driven in
the same headless Chromium (Debian's, through Playwright), each load in a fresh browser context
(no cache, like a first visit):

- runs table rendered: navigation start → the experiment's runs table shows rows (mlyard:
  `table.runs tbody tr a`; MLflow: ag-grid rows in `.ag-center-cols-container`);
- chart drawn: navigation to one run's page → its first metric chart is drawn (mlyard: a uPlot
  canvas; MLflow: a plotly line on the "Model metrics" tab);
- runs-table server time: the request that carries the table's data (mlyard: the page itself,
  server-rendered; MLflow: the UI's own `runs/search` call), as the browser timed it (request
  sent → first response byte) and replayed with httpx (whole response);
- JS + CSS of the pages, gzip-compressed (level 6), summed over every script and stylesheet the
  page loaded.

Speed is printed, never asserted.

    python bench/ui.py                    # the issue's 10,000 runs (first run: ~5 min of generating)
    python bench/ui.py --runs 300         # a quick run
    python bench/ui.py --regenerate       # write the stores again
"""

from __future__ import annotations

import argparse
import gzip
import importlib.metadata
import json
import logging
import os
import platform
import re
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stores  # noqa: E402  (the generated runs, shared with tracking.py's 10,000-run case)
from tracking_remote import Server, free_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "bench-ui"
RESULTS_DIR = Path(__file__).resolve().parent / "results"
CHROMIUM = "/usr/bin/chromium"
TARGETS = {"server_ms": 150.0, "rendered_ms": 1000.0, "faster": 5.0, "assets_kb": 300.0}
console = Console(highlight=False, width=None if sys.stdout.isatty() else 130)


# --- the stores (cached) -------------------------------------------------------------------------


def prepared_stores(shape: stores.Shape, regenerate: bool) -> tuple[Path, Path, str]:
    """(mlyard workspace, MLflow folder, MLflow experiment id), written unless cached."""
    folder = CACHE / shape.name
    workspace, flow = folder / "mlyard", folder / "mlflow"
    done_mlyard, done_mlflow = folder / "mlyard.done", folder / "mlflow.done"
    if regenerate:
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    if not done_mlyard.exists():
        shutil.rmtree(workspace, ignore_errors=True)
        started = time.perf_counter()
        stores.write_mlyard(workspace, shape)
        done_mlyard.write_text(f"{time.perf_counter() - started:.1f} s\n")
    if not done_mlflow.exists():
        shutil.rmtree(flow, ignore_errors=True)
        started = time.perf_counter()
        experiment_id = stores.write_mlflow(flow, shape)
        stores.check_mlflow(flow, experiment_id, shape)
        done_mlflow.write_text(
            json.dumps({"experiment_id": experiment_id, "seconds": time.perf_counter() - started})
        )
    experiment_id = json.loads(done_mlflow.read_text())["experiment_id"]
    console.print(f"stores: {folder} (generated in mlyard {done_mlyard.read_text().strip()})")
    return workspace, flow, experiment_id


# --- the servers ---------------------------------------------------------------------------------


def wait_until_up(url: str, server: Server, path: str) -> None:
    """MLflow's server takes a minute to start on a loaded machine: wait up to five."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"server exited:\n{server.log.read_text()}")
        try:
            if httpx.get(f"{url}{path}", timeout=5).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.stop()  # not left running behind the benchmark
    raise SystemExit(f"server at {url} did not start:\n{server.log.read_text()}")


def start_mlyard(workspace: Path, logs: Path) -> tuple[Server, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLYARD_")}
    command = [
        sys.executable, "-m", "mlyard.cli.main", "--workspace", str(workspace),
        "server", "start", "--port", "0", "--no-worker", "--no-auth",
    ]  # fmt: skip
    server = Server(command, logs / "mlyard-server.log", env)
    deadline = time.monotonic() + 300
    while not (found := re.search(r"listening on (http://\S+) ", server.log.read_text())):
        if server.process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise SystemExit(f"mlyard server did not start:\n{server.log.read_text()}")
        time.sleep(0.05)
    url = found.group(1)
    wait_until_up(url, server, "/healthz")
    return server, url


def start_mlflow(folder: Path, logs: Path) -> tuple[Server, str]:
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1", "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
        "--artifacts-destination", str(folder / "artifacts"),
    ]  # fmt: skip
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true")
    server = Server(command, logs / "mlflow-server.log", env)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url, server, "/health")
    return server, url


# --- one UI ----------------------------------------------------------------------------------------


@dataclass
class Load:
    """One page load in a fresh context: wall time to the proof, the data request, the assets."""

    seconds: float
    data_request: dict[str, Any] | None = None  # method, url, body, browser-timed server ms
    asset_bytes: int = 0  # JS + CSS as sent
    asset_gzip: int = 0  # JS + CSS gzip-compressed


@dataclass
class UI:
    label: str
    table_url: str
    run_url: str
    table_proof: str  # a CSS selector present once rows are shown
    chart_proof: str  # a CSS selector present once a metric chart is drawn
    data_request: Callable[[Any], bool]  # the request carrying the runs table's data
    loads: dict[str, list[Load]] = field(default_factory=dict)
    replay_ms: list[float] = field(default_factory=list)


def mlyard_ui(url: str, workspace: Path) -> UI:
    import mlyard

    client = mlyard.MLClient(workspace=workspace)
    run = client.jobs.search(experiments=[stores.EXPERIMENT], max_results=1)[0]
    table = f"{url}/w/default/jobs?experiment={stores.EXPERIMENT}"
    return UI(
        "mlyard",
        table,
        f"{url}/w/default/jobs/{run.id}",
        "table.runs tbody tr a",
        "figure.chart canvas",
        lambda request: request.resource_type == "document" and "/jobs?" in request.url,
    )


def mlflow_ui(url: str, experiment_id: str) -> UI:
    found = httpx.post(
        f"{url}/api/2.0/mlflow/runs/search", json={"experiment_ids": [experiment_id], "max_results": 1}
    ).json()
    run_id = found["runs"][0]["info"]["run_id"]
    return UI(
        "MLflow",
        f"{url}/#/experiments/{experiment_id}/runs",
        f"{url}/#/experiments/{experiment_id}/runs/{run_id}/model-metrics",
        ".ag-center-cols-container .ag-row",
        ".js-plotly-plot path.js-line",
        # The runs table's own search (the UI asks once first, 50 runs, to pick a view).
        lambda request: (
            request.url.endswith("/runs/search") and '"max_results":100' in (request.post_data or "")
        ),
    )


def load(browser: Any, url: str, proof: str, data_request: Callable[[Any], bool] | None) -> Load:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    responses: list[Any] = []
    page.on("response", lambda response: responses.append(response))
    try:
        started = time.perf_counter()
        page.goto(url, wait_until="commit")
        page.wait_for_selector(proof, state="attached")
        seconds = time.perf_counter() - started
        found = Load(seconds)
        for response in responses:
            request = response.request
            if request.resource_type in ("script", "stylesheet"):
                body = response.body()
                found.asset_bytes += len(body)
                found.asset_gzip += len(gzip.compress(body, 6))
            if data_request is not None and found.data_request is None and data_request(request):
                response.finished()
                timing = request.timing
                found.data_request = {
                    "method": request.method,
                    "url": request.url,
                    "body": request.post_data,
                    "server_ms": timing["responseStart"] - timing["requestStart"],
                }
        return found
    finally:
        context.close()


def replay(request: dict[str, Any], repeat: int) -> list[float]:
    """The data request again from Python, whole response: what the server spends on it."""
    times = []
    with httpx.Client(timeout=120) as client:
        for _ in range(repeat + 1):
            started = time.perf_counter()
            if request["method"] == "POST":
                headers = {"content-type": "application/json"}
                answer = client.post(request["url"], content=request["body"], headers=headers)
            else:
                answer = client.get(request["url"])
            answer.raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
    return times[1:]  # the first one warms the server's caches, as the browser's loads did


def measure(browser: Any, ui: UI, repeat: int) -> None:
    load(browser, ui.table_url, ui.table_proof, None)  # untimed: the server's first request
    load(browser, ui.run_url, ui.chart_proof, None)
    ui.loads = {"table": [], "chart": []}
    for _ in range(repeat):
        ui.loads["table"].append(load(browser, ui.table_url, ui.table_proof, ui.data_request))
        ui.loads["chart"].append(load(browser, ui.run_url, ui.chart_proof, None))
    request = next((lo.data_request for lo in ui.loads["table"] if lo.data_request), None)
    if request is None:
        raise SystemExit(f"{ui.label}: the runs table's data request was not seen")
    ui.replay_ms = replay(request, repeat)


# --- reporting -----------------------------------------------------------------------------------


def summary(ui: UI) -> dict[str, float]:
    table, chart = ui.loads["table"], ui.loads["chart"]
    browser_ms = [lo.data_request["server_ms"] for lo in table if lo.data_request]
    return {
        "table_ms": statistics.median(lo.seconds for lo in table) * 1000,
        "chart_ms": statistics.median(lo.seconds for lo in chart) * 1000,
        "server_browser_ms": statistics.median(browser_ms),
        "server_replay_ms": statistics.median(ui.replay_ms),
        "table_assets_kb": table[-1].asset_gzip / 1024,
        "chart_assets_kb": chart[-1].asset_gzip / 1024,
        "table_assets_raw_kb": table[-1].asset_bytes / 1024,
        "chart_assets_raw_kb": chart[-1].asset_bytes / 1024,
    }


ROWS = [  # key, what, unit, target on mlyard's figure
    (
        "server_browser_ms",
        "runs-table data request, server time (browser: sent → first byte)",
        "ms",
        "≤ 150 ms",
    ),
    ("server_replay_ms", "runs-table data request replayed (httpx, whole response)", "ms", "≤ 150 ms"),
    ("table_ms", "runs table rendered (navigation → rows shown)", "ms", "≤ 1,000 ms"),
    ("chart_ms", "run page: first metric chart drawn", "ms", "≤ 1,000 ms"),
    ("table_assets_kb", "JS + CSS of the runs-table page, gzip", "KB", "≤ 300 KB"),
    ("chart_assets_kb", "JS + CSS of the run page, gzip", "KB", "≤ 300 KB"),
]
LIMITS = {
    "server_browser_ms": 150.0,
    "server_replay_ms": 150.0,
    "table_ms": 1000.0,
    "chart_ms": 1000.0,
    "table_assets_kb": 300.0,
    "chart_assets_kb": 300.0,
}


def print_table(mine: dict[str, float], theirs: dict[str, float], shape: stores.Shape, repeat: int) -> None:
    table = Table(
        title=f"studio vs MLflow UI — {shape.runs:,} runs × {shape.metrics} metrics × {shape.steps} steps, "
        f"median of {repeat} loads (ratio = MLflow ÷ mlyard: > 1 mlyard faster / smaller)"
    )
    for name in ("measure", "mlyard", "MLflow", "ratio", "target", "met"):
        table.add_column(name, justify="left" if name == "measure" else "right")
    for key, what, unit, target in ROWS:
        ratio = theirs[key] / mine[key] if mine[key] else float("inf")
        met = mine[key] <= LIMITS[key] and (unit == "KB" or key.startswith("server") or ratio >= 5)
        target_text = target if unit == "KB" or key.startswith("server") else f"{target}, ≥ 5×"
        table.add_row(
            what,
            f"{mine[key]:,.1f} {unit}",
            f"{theirs[key]:,.1f} {unit}",
            f"{ratio:,.1f}×",
            target_text,
            "yes" if met else "NO",
        )
    console.print(table)


def environment() -> dict[str, Any]:
    import mlflow

    try:
        load_average = os.getloadavg()
    except OSError:
        load_average = None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "mlflow": mlflow.__version__,
        "playwright": importlib.metadata.version("playwright"),
        "cpu_count": os.cpu_count(),
        "load_average": load_average,
    }


# --- main ------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10_000, help="runs (default 10,000)")
    parser.add_argument("--params", type=int, default=5, help="params per run (default 5)")
    parser.add_argument("--metrics", type=int, default=10, help="metric keys per run (default 10)")
    parser.add_argument("--steps", type=int, default=100, help="steps per metric (default 100)")
    parser.add_argument("--repeat", type=int, default=5, help="timed loads per page and system (default 5)")
    parser.add_argument("--regenerate", action="store_true", help="write the cached stores again")
    parser.add_argument(
        "--prepare-only", action="store_true", help="write (or check) the stores, measure nothing"
    )
    args = parser.parse_args(argv)
    if min(args.runs, args.params, args.metrics, args.steps, args.repeat) < 1:
        parser.error("--runs, --params, --metrics, --steps and --repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    args = parse_args(argv)
    stores.quiet_mlflow()
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.ERROR)
    shape = stores.Shape(args.runs, args.params, args.metrics, args.steps)
    env = environment()
    for key, value in env.items():
        console.print(f"  {key:14} {value}")
    workspace, flow, experiment_id = prepared_stores(shape, args.regenerate)
    if args.prepare_only:
        return 0
    logs = CACHE / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    servers: list[Server] = []
    try:
        mlyard_server, mlyard_url = start_mlyard(workspace, logs)
        servers.append(mlyard_server)
        mlflow_server, mlflow_url = start_mlflow(flow, logs)
        servers.append(mlflow_server)
        console.print(f"servers: mlyard {mlyard_url} · MLflow {mlflow_url} (logs in {logs})")
        uis = [mlyard_ui(mlyard_url, workspace), mlflow_ui(mlflow_url, experiment_id)]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                for ui in uis:
                    measure(browser, ui, args.repeat)
                    console.print(f"  measured {ui.label}")
            finally:
                browser.close()
    finally:
        for server in servers:
            server.stop()
    mine, theirs = summary(uis[0]), summary(uis[1])
    print_table(mine, theirs, shape, args.repeat)
    write_json(env, args, mine, theirs)
    return 0


def write_json(
    env: dict[str, Any], args: argparse.Namespace, mine: dict[str, float], theirs: dict[str, float]
) -> None:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"ui-{datetime.now():%Y%m%d-%H%M%S}.json"
    document = {
        "environment": env,
        "config": vars(args),
        "mlyard": mine,
        "MLflow": theirs,
        "targets": TARGETS,
    }
    path.write_text(json.dumps(document, indent=2))
    console.print(f"results written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
