"""Tracking through a server: the same logging workload via `mlyard server` and via `mlflow server`.

Both servers run as their own processes on 127.0.0.1 over a fresh SQLite store each, started by
this script in the same run: `mlyard server start --no-worker` (the SDK with MLYARD_URL) and
`mlflow server --workers 1` (the mlflow client with a tracking URI). The workload and its checks
are `tracking.py`'s (same seeded values, every stored point counted for mlyard). Then a lookup
load: many clients asking for one model version (`GET …/models/{name}/versions/1`, MLflow's
`model-versions/get`) for a few seconds, with `wrk` when it is installed (else Python threads).

    python bench/tracking_remote.py                  # defaults: 20 runs, 10 s of lookups
    python bench/tracking_remote.py --runs 5 --lookup-seconds 3
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import mlflow
from rich.table import Table

import mlyard

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tracking  # noqa: E402  (the workload, systems and checks shared with the embedded benchmark)

BIN = Path(sys.executable).parent
LOGGING_PHASES = ("per-call", "batched", "whole-run")
TARGETS = {"per-call": 5.0, "batched": 3.0, "whole-run": 3.0}
console = tracking.console


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(
    url: str, process: subprocess.Popen[bytes], log: Path, path: str, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}{path}", timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server at {url} did not start:\n{log.read_text()}")


class Server:
    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        with log.open("wb") as sink:
            self.process = subprocess.Popen(
                args, stdout=sink, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )

    def stop(self) -> None:
        """Stop the server's whole process group (MLflow's server runs its workers in it), also
        when the server itself has exited and left workers behind."""
        if not self._signal(signal.SIGTERM):
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=20)
        deadline = time.monotonic() + 5
        while self._signal(0) and time.monotonic() < deadline:  # workers still shutting down
            time.sleep(0.1)
        self._signal(signal.SIGKILL)
        self.process.wait()

    def _signal(self, number: int) -> bool:
        """Send `number` to the group; False when no process of it is left."""
        try:
            os.killpg(self.process.pid, number)
        except ProcessLookupError:
            return False
        return True


def started(server: Server, wait: Any) -> Server:
    """`server` once `wait()` returns; stopped (not left running behind the benchmark) when it
    raises: a start-up time-out (SystemExit) or an interrupt."""
    try:
        wait()
    except BaseException:
        server.stop()
        raise
    return server


def start_mlyard(folder: Path) -> tuple[Server, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLYARD_")}
    command = [
        str(BIN / "mlyard"),
        "--workspace",
        str(folder / "ws"),
        "server",
        "start",
        "--port",
        "0",
        "--no-worker",
    ]
    server = Server(command, folder / "mlyard-server.log", env)
    urls: list[str] = []

    def wait() -> None:
        deadline = time.monotonic() + 60
        while not (found := re.search(r"listening on (http://\S+) ", server.log.read_text())):
            if server.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"mlyard server did not start:\n{server.log.read_text()}")
            time.sleep(0.05)
        urls.append(found.group(1))
        wait_until_up(urls[0], server.process, server.log, "/healthz")

    return started(server, wait), urls[0]


def start_mlflow(folder: Path, timeout: float = 60) -> tuple[Server, str]:
    port = free_port()
    store = f"sqlite:///{folder / 'mlflow.db'}"
    command = [
        str(BIN / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--backend-store-uri", store, "--artifacts-destination", str(folder / "art"),
    ]  # fmt: skip
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true")
    server = Server(command, folder / "mlflow-server.log", env)
    url = f"http://127.0.0.1:{port}"
    return started(server, lambda: wait_until_up(url, server.process, server.log, "/health", timeout)), url


class RemoteMlyard(tracking.MlyardSystem):
    label = "mlyard"

    def __init__(self, url: str) -> None:
        self.url = url

    def open(self, folder: Path) -> None:
        os.environ["MLYARD_URL"] = self.url
        self.client = mlyard.MLClient(url=self.url)
        self.workspace = None  # the active-run API follows MLYARD_URL

    def per_call(self, data: list[tracking.RunData]) -> None:
        for run in data:
            with mlyard.start_run(experiment=self.experiment):
                for key, value in run.params.items():
                    mlyard.log_param(key, value)
                for step, points in enumerate(run.steps):
                    for key, number in points.items():
                        mlyard.log_metric(key, number, step=step)

    def batched(self, data: list[tracking.RunData]) -> None:
        for run in data:
            with mlyard.start_run(experiment=self.experiment):
                mlyard.log_params(run.params)
                for step, points in enumerate(run.steps):
                    mlyard.log_metrics(points, step=step)

    def whole_run(self, data: list[tracking.RunData]) -> None:
        for run in data:
            with mlyard.start_run(experiment=self.experiment) as active:
                active.log_params(run.params)
                for step, points in enumerate(run.steps):
                    active.log_metrics(points, step=step)

    def verify(self, data: list[tracking.RunData]) -> dict[str, int]:
        jobs = self.client.jobs.search(experiments=[self.experiment], max_results=50_000)
        keys = list(data[0].steps[0]) if data and data[0].steps else []
        points = sum(len(self.client.jobs.metric_history(job.id, key)) for job in jobs for key in keys)
        completed = sum(job.status == mlyard.JobStatus.COMPLETED for job in jobs)
        return {
            "runs": len(jobs),
            "completed": completed,
            "params": sum(len(j.params) for j in jobs),
            "points": points,
        }


class RemoteMlflow(tracking.MlflowSystem):
    label = "MLflow"

    def __init__(self, url: str) -> None:
        self.url = url

    def open(self, folder: Path) -> None:
        mlflow.set_tracking_uri(self.url)
        self.client = tracking.MlflowClient(tracking_uri=self.url)
        self.experiment_id = self.client.create_experiment(self.experiment)
        mlflow.set_experiment(self.experiment)


def logging_phase(phase: str, system: Any, data: list[tracking.RunData]) -> tracking.Measurement:
    system.experiment = f"bench-{phase}"
    system.open(Path("."))
    action = {"per-call": system.per_call, "batched": system.batched, "whole-run": system.whole_run}[phase]
    seconds, _ = tracking.timed(lambda: action(data), None)
    points = sum(len(step) for run in data for step in run.steps)
    return tracking.Measurement(seconds, points / seconds, "points/s", {"verify": system.verify(data)})


# --- the lookup load -----------------------------------------------------------------------------


def lookup_load(url: str, seconds: float, connections: int) -> dict[str, float]:
    """Requests/s and latency percentiles of GETs of one URL: wrk if present, else threads."""
    wrk = shutil.which("wrk")
    if wrk:
        done = subprocess.run(
            [wrk, "-t2", f"-c{connections}", f"-d{seconds:.0f}s", "--latency", url],
            capture_output=True, text=True, timeout=seconds + 60,
        )  # fmt: skip
        return parse_wrk(done.stdout)
    return python_load(url, seconds, connections)


def parse_wrk(text: str) -> dict[str, float]:
    def millis(value: str) -> float:
        number = float(re.match(r"[\d.]+", value).group())  # type: ignore[union-attr]
        return (
            number / 1000
            if value.endswith("us")
            else number * 1000
            if value.endswith("s") and not value.endswith("ms")
            else number
        )

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    found = {p: millis(v) for p, v in re.findall(r"\s(50|99)(?:\.000)?%\s+(\S+)", text)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {"requests_per_s": rate, "p50_ms": found.get("50", 0.0), "p99_ms": found.get("99", 0.0),
            "errors": float(errors.group(1)) if errors else 0.0, "tool": "wrk"}  # fmt: skip


def python_load(url: str, seconds: float, connections: int) -> dict[str, float]:
    latencies: list[float] = []
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(timeout=10) as http:
            while time.monotonic() < stop:
                began = time.perf_counter()
                http.get(url)
                with lock:
                    latencies.append(time.perf_counter() - began)

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return {
        "requests_per_s": len(latencies) / seconds,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "errors": 0.0,
        "tool": "python threads",
    }


def register_lookup_targets(mlyard_url: str, mlflow_url: str, folder: Path) -> tuple[str, str]:
    model = folder / "model"
    model.mkdir()
    (model / "weights.txt").write_text("w")
    mlyard.MLClient(url=mlyard_url).models.create("lookup", model)
    flow = tracking.MlflowClient(tracking_uri=mlflow_url)
    flow.create_registered_model("lookup")
    mlflow.set_tracking_uri(mlflow_url)
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(model), "model")
    flow.create_model_version("lookup", source=f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
    return (
        f"{mlyard_url}/api/v1/workspaces/default/models/lookup/versions/1",
        f"{mlflow_url}/api/2.0/mlflow/model-versions/get?name=lookup&version=1",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=20, help="runs per logging phase (default 20)")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--metrics", type=int, default=5)
    parser.add_argument("--params", type=int, default=10)
    parser.add_argument("--lookup-seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--phases", default=",".join(LOGGING_PHASES))
    args = parser.parse_args(argv)
    phases = [p for p in args.phases.split(",") if p]
    tracking.quiet_mlflow()
    os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"  # no "View run at …" per run
    root = Path(tempfile.mkdtemp(prefix="mlyard-bench-remote-"))
    data = tracking.make_workload(args.runs, args.params, args.steps, args.metrics, 0)
    servers: list[Server] = []
    results: dict[str, dict[str, tracking.Measurement]] = {}
    try:
        mlyard_server, mlyard_url = start_mlyard(root)
        servers.append(mlyard_server)
        mlflow_server, mlflow_url = start_mlflow(root)
        servers.append(mlflow_server)
        console.print(
            f"mlyard server {mlyard_url} · mlflow server {mlflow_url} (both SQLite, one process each)"
        )
        for phase in phases:
            results[phase] = {}
            for system in (RemoteMlyard(mlyard_url), RemoteMlflow(mlflow_url)):
                m = results[phase][system.label] = logging_phase(phase, system, data)
                console.print(f"  {phase:9} {system.label:7} {m.seconds:8.2f} s  {m.per_second:12,.0f} pts/s")
        mlyard_lookup, mlflow_lookup = register_lookup_targets(mlyard_url, mlflow_url, root)
        lookups = {
            "mlyard": lookup_load(mlyard_lookup, args.lookup_seconds, args.connections),
            "MLflow": lookup_load(mlflow_lookup, args.lookup_seconds, args.connections),
        }
    finally:
        os.environ.pop("MLYARD_URL", None)
        for server in servers:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
    return report(results, lookups, args, data)


def report(
    results: dict[str, dict[str, tracking.Measurement]],
    lookups: dict[str, dict[str, float]],
    args: argparse.Namespace,
    data: list[tracking.RunData],
) -> int:
    expected = {
        "runs": args.runs,
        "completed": args.runs,
        "params": args.runs * args.params,
        "points": args.runs * args.steps * args.metrics,
    }
    problems = [
        f"{phase}: mlyard stored {by_system['mlyard'].extra['verify']}, expected {expected}"
        for phase, by_system in results.items()
        if by_system["mlyard"].extra["verify"] != expected
    ]
    table = Table(title="through a server: mlyard server vs mlflow server (ratio = mlyard ÷ MLflow)")
    for column in ("workload", "mlyard", "MLflow", "ratio", "target"):
        table.add_column(column, justify="left" if column == "workload" else "right")
    ratios: dict[str, float] = {}
    for phase, by_system in results.items():
        mine, theirs = by_system["mlyard"].per_second, by_system["MLflow"].per_second
        ratios[phase] = mine / theirs
        row = tracking.ROWS[phase][0]
        table.add_row(
            row,
            f"{mine:,.0f} pts/s",
            f"{theirs:,.0f} pts/s",
            f"{ratios[phase]:,.1f}×",
            f"≥ {TARGETS[phase]:g}×",
        )
    lookup_ratio = lookups["mlyard"]["requests_per_s"] / max(lookups["MLflow"]["requests_per_s"], 1e-9)
    table.add_row(
        f"model version lookup ({args.connections} connections, {lookups['mlyard']['tool']})",
        _lookup_cell(lookups["mlyard"]),
        _lookup_cell(lookups["MLflow"]),
        f"{lookup_ratio:,.1f}×",
        "reported",
    )
    console.print(table)
    for line in problems or ["verification: every point logged through the server is stored"]:
        console.print(line, style="red" if problems else "green")
    tracking.RESULTS_DIR.mkdir(exist_ok=True)
    path = tracking.RESULTS_DIR / f"tracking-remote-{datetime.now():%Y%m%d-%H%M%S}.json"
    document = {
        "results": {phase: {label: vars(m) for label, m in by.items()} for phase, by in results.items()},
        "ratios": ratios,
        "lookups": lookups,
        "problems": problems,
    }
    path.write_text(json.dumps(document, indent=2, default=str))
    console.print(f"results written to {path}")
    return 1 if problems else 0


def _lookup_cell(found: dict[str, float]) -> str:
    return (
        f"{found['requests_per_s']:,.0f} req/s\nP50 {found['p50_ms']:.1f} ms · P99 {found['p99_ms']:.1f} ms"
    )


if __name__ == "__main__":
    sys.exit(main())
