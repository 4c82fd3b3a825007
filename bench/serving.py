"""Serving benchmark: one model behind mlyard's instance, MLflow's and MLServer's servers and a raw
ASGI reference, under the same load generator, on this machine, in this run.

The model is scikit-learn's bundled diabetes data fitted with Ridge (no download). Each system
is started on 127.0.0.1, checked to answer the predictions `model.predict` gives, warmed up, then
loaded by `wrk` (one thread, a Lua script POSTing the body) for a bounded time per case: 1-row
and 100-row requests, 16 and 64 connections. Systems run one at a time. Speed is reported,
never asserted; the exit code is non-zero only if a system answers wrong predictions.

    python bench/serving.py                         # the issue's cases, 10 s each (~6 minutes)
    python bench/serving.py --duration 3 --systems mlyard,reference
    python bench/serving.py --help
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SYSTEMS = ("reference", "mlyard-endpoint", "mlyard", "mlyard-v2", "mlyard-forwarded", "mlflow", "mlserver")
LABELS = {
    "reference": "raw ASGI reference (uvicorn+httptools+uvloop, 1 worker)",
    "mlyard-endpoint": "mlyard online endpoint URL, key auth (server gateway → 1 instance over UDS)",
    "mlyard": "mlyard instance, TCP, POST /score",
    "mlyard-v2": "mlyard instance, TCP, V2 infer",
    "mlyard-forwarded": "mlyard instance behind the minimal UDS forwarder (gateway stand-in)",
    "mlflow": "mlflow models serve --env-manager local (1 worker)",
    "mlserver": "MLServer + mlserver-sklearn, V2 (parallel_workers 0)",
}
TARGETS = {"mlflow": 5.0, "mlserver": 2.0, "reference": 0.6, "p99_ms": 10.0}
MODEL_NAME = "diabetes"


# --- the model and the request bodies -----------------------------------------------------------


@dataclass
class Workload:
    model: Any
    features: np.ndarray
    columns: list[str]

    def rows(self, count: int) -> np.ndarray:
        return self.features[:count]

    def body(self, kind: str, count: int) -> bytes:
        rows = self.rows(count).tolist()
        if kind == "azure":
            document: Any = {
                "input_data": {"columns": self.columns, "index": list(range(count)), "data": rows}
            }
        elif kind == "mlflow":
            # MLflow's tensor shape: ~3x faster for it than dataframe_split (pandas) on this model,
            # so the anchor is MLflow at its best.
            document = {"inputs": rows}
        else:  # V2
            flat = self.rows(count).ravel().tolist()
            document = {
                "inputs": [
                    {"name": "predict", "shape": [count, len(self.columns)], "datatype": "FP64", "data": flat}
                ]
            }
        return json.dumps(document).encode()


def make_workload() -> Workload:
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    data = load_diabetes()
    model = Ridge(alpha=0.5).fit(data.data, data.target)
    return Workload(model, np.ascontiguousarray(data.data), list(data.feature_names))


def predictions_of(kind: str, answer: Any) -> list[float]:
    if kind == "mlflow":
        return list(answer["predictions"])
    if kind == "v2":
        return list(answer["outputs"][0]["data"])
    return list(answer)


# --- starting the systems -----------------------------------------------------------------------

REFERENCE_APP = '''
"""The physical-limit reference: parse the JSON, model.predict, answer JSON. Nothing else."""
import joblib, numpy as np, orjson

model = joblib.load(__import__("os").environ["REFERENCE_MODEL"])


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    rows = np.asarray(orjson.loads(body)["input_data"]["data"], dtype=np.float64)
    payload = orjson.dumps(model.predict(rows), option=orjson.OPT_SERIALIZE_NUMPY)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
'''


@dataclass
class Server:
    """One started system: where to send requests, how, and its processes (stopped by us)."""

    name: str
    url: str
    path: str
    kind: str  # body and answer format: "azure", "mlflow", "v2"
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    log: Path | None = None
    watched: dict[str, int] = field(default_factory=dict)  # role → pid whose CPU time is measured
    headers: dict[str, str] = field(default_factory=dict)  # sent with every request (the endpoint key)

    def __post_init__(self) -> None:
        if not self.watched and self.processes:
            self.watched = {"server": self.processes[0].pid}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def spawn(
    command: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    # This venv's bin first: `mlflow models serve` execs `uvicorn` by name.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    with log.open("ab") as out:
        return subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PATH": path, **(env or {})},
            cwd=cwd,
            start_new_session=True,  # its own process group: stopped as a group (mlflow forks uvicorn)
        )


def wait_until(url: str, seconds: float, processes: list[subprocess.Popen[bytes]], log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, ValueError):  # URLError, refused, reset, timeout
            pass
        if any(process.poll() is not None for process in processes):
            break
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    raise RuntimeError(f"{url} did not become ready within {seconds:.0f} s\n{tail}")


def stop(server: Server) -> None:
    for process in reversed(server.processes):
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in reversed(server.processes):
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def prepare_models(workload: Workload, folder: Path) -> dict[str, Path]:
    """The model saved once per system, in each one's own format (untimed)."""
    import joblib

    from mlyard.entities.registry.model import ModelMetadata
    from mlyard.flavors import get_flavor
    from mlyard.flavors.metadata import write_metadata
    from mlyard.flavors.signature import infer_signature

    paths = {}
    flavor = get_flavor("sklearn")
    paths["mlyard"] = folder / "mlyard-model"
    model_file = flavor.save(workload.model, paths["mlyard"])
    signature = infer_signature(workload.rows(5))
    write_metadata(
        paths["mlyard"], ModelMetadata(flavor="sklearn", model_file=model_file, signature=signature)
    )
    paths["reference"] = folder / "reference" / "model.joblib"
    paths["reference"].parent.mkdir()
    joblib.dump(workload.model, paths["reference"])
    (paths["reference"].parent / "reference_app.py").write_text(REFERENCE_APP)
    try:
        import warnings

        import mlflow.sklearn
        from mlflow.models import infer_signature as mlflow_signature

        paths["mlflow"] = folder / "mlflow-model"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sample = workload.rows(5)
            mlflow.sklearn.save_model(
                workload.model,
                str(paths["mlflow"]),
                signature=mlflow_signature(sample, workload.model.predict(sample)),
            )
    except ImportError:
        pass
    paths["mlserver"] = folder / "mlserver" / MODEL_NAME
    paths["mlserver"].mkdir(parents=True)
    joblib.dump(workload.model, paths["mlserver"] / "model.joblib")
    settings = {
        "name": MODEL_NAME,
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": "./model.joblib", "version": "v1"},
    }
    (paths["mlserver"] / "model-settings.json").write_text(json.dumps(settings))
    return paths


def start_endpoint(paths: dict[str, Path], folder: Path, log: Path) -> Server:
    """`mlyard server start` over a new workspace, the model registered and deployed behind an
    online endpoint with key auth: one deployment, one instance, every request through the URL."""
    import mlyard

    port = free_port()
    command = [
        sys.executable, "-m", "mlyard.cli.main", "--workspace", str(folder / "ws"),
        "server", "start", "--port", str(port), "--no-worker",
    ]  # fmt: skip
    process = spawn(command, log)
    url = f"http://127.0.0.1:{port}"
    wait_until(f"{url}/healthz", 60, [process], log)
    with mlyard.MLClient(url=url) as client:
        client.models.create(MODEL_NAME, paths["mlyard"], type="sklearn")
        client.online_endpoints.create({"name": MODEL_NAME, "auth_mode": "key"})
        deployment = {
            "name": "blue", "endpoint_name": MODEL_NAME, "model": f"azureml:{MODEL_NAME}:1",
            "instance_count": 1,
            # Above the connection count, as for the instance alone: wrk's connections are not to be refused.
            "request_settings": {"max_concurrent_requests_per_instance": 1024, "request_timeout_ms": 60000},
        }  # fmt: skip
        client.online_deployments.create(deployment, all_traffic=True, timeout=120)
        key = client.online_endpoints.get_credentials(MODEL_NAME).primary_key
    headers = {"Authorization": f"Bearer {key}"}
    path = f"/endpoints/{MODEL_NAME}/score"
    return Server(
        "mlyard-endpoint", url, path, "azure", [process], log, {"server+instance": process.pid}, headers
    )


def start(name: str, paths: dict[str, Path], folder: Path, running: dict[str, Server]) -> Server:
    python = sys.executable
    log = folder / f"{name}.log"
    if name == "mlyard-endpoint":
        return start_endpoint(paths, folder, log)
    if name in ("mlyard", "mlyard-v2", "mlyard-forwarded"):
        instance = running.get("mlyard-instance")
        if instance is None:
            port, uds = free_port(), folder / "instance.sock"
            command = [
                python,
                "-m",
                "mlyard.serving.instance",
                "--model-dir",
                str(paths["mlyard"]),
                "--name",
                MODEL_NAME,
                "--port",
                str(port),
                "--uds",
                str(uds),
                # Above the connection count: wrk's connections are not to be refused here.
                "--max-concurrent-requests",
                "1024",
                "--request-timeout-ms",
                "60000",
            ]
            process = spawn(command, folder / "mlyard-instance.log")
            instance = Server("mlyard-instance", f"http://127.0.0.1:{port}", "/score", "azure", [process])
            wait_until(f"{instance.url}/ready", 60, instance.processes, folder / "mlyard-instance.log")
            running["mlyard-instance"] = instance
        watched = {"instance": instance.processes[0].pid}
        if name == "mlyard":
            return Server(name, instance.url, "/score", "azure", watched=watched)
        if name == "mlyard-v2":
            return Server(name, instance.url, f"/v2/models/{MODEL_NAME}/infer", "v2", watched=watched)
        port = free_port()
        command = [
            python,
            "-m",
            "mlyard.serving.upstream",
            "--upstream-uds",
            str(folder / "instance.sock"),
            "--port",
            str(port),
        ]
        forwarder = spawn(command, log)
        watched |= {"forwarder": forwarder.pid}
        server = Server(name, f"http://127.0.0.1:{port}", "/score", "azure", [forwarder], log, watched)
        wait_until(f"{server.url}/ready", 30, server.processes, log)
        return server
    if name == "reference":
        port = free_port()
        command = [
            python,
            "-m",
            "uvicorn",
            "reference_app:app",
            "--app-dir",
            str(paths["reference"].parent),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--http",
            "httptools",
            "--loop",
            "uvloop",
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        process = spawn(command, log, env={"REFERENCE_MODEL": str(paths["reference"])})
        server = Server(name, f"http://127.0.0.1:{port}", "/", "azure", [process], log)
        wait_until_post(server, paths, log)
        return server
    if name == "mlflow":
        port = free_port()
        mlflow = shutil.which("mlflow", path=str(Path(python).parent)) or "mlflow"
        command = [
            mlflow,
            "models",
            "serve",
            "-m",
            str(paths["mlflow"]),
            "--env-manager",
            "local",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-w",
            "1",
        ]
        env = {"MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true"}  # MLflow 3 refuses to load models otherwise
        server = Server(
            name, f"http://127.0.0.1:{port}", "/invocations", "mlflow", [spawn(command, log, env)], log
        )
        wait_until(f"{server.url}/ping", 120, server.processes, log)
        return server
    if name == "mlserver":
        root = paths["mlserver"].parent
        http, grpc, metrics = free_port(), free_port(), free_port()
        # parallel_workers 0: inference in the server process. MLServer 1.7's worker processes call
        # asyncio.get_event_loop(), which uvloop >= 0.22 refuses, so they die at start; in-process
        # inference also skips a queue hop per request, which makes this anchor faster, not slower.
        settings = {
            "host": "127.0.0.1",
            "http_port": http,
            "grpc_port": grpc,
            "metrics_port": metrics,
            "parallel_workers": 0,
        }
        (root / "settings.json").write_text(json.dumps(settings))
        mlserver = shutil.which("mlserver", path=str(Path(python).parent)) or "mlserver"
        server = Server(
            name,
            f"http://127.0.0.1:{http}",
            f"/v2/models/{MODEL_NAME}/infer",
            "v2",
            [spawn([mlserver, "start", str(root)], log, cwd=root)],
            log,
        )
        wait_until(f"{server.url}/v2/models/{MODEL_NAME}/ready", 120, server.processes, log)
        return server
    raise ValueError(f"unknown system {name!r}")


def wait_until_post(server: Server, paths: dict[str, Path], log: Path) -> None:
    # The reference has no health route: its first answered request is its readiness.
    deadline = time.monotonic() + 60
    body = json.dumps({"input_data": {"data": [[0.0] * 10]}}).encode()
    while time.monotonic() < deadline:
        try:
            post(server, body)
            return
        except (OSError, ValueError):  # refused, reset, or half-started
            time.sleep(0.2)
    raise RuntimeError(f"the reference did not answer within 60 s\n{log.read_text(errors='replace')[-3000:]}")


def post(server: Server, body: bytes) -> Any:
    request = urllib.request.Request(
        server.url + server.path,
        data=body,
        headers={"Content-Type": "application/json", **server.headers},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def check_predictions(server: Server, workload: Workload, counts: list[int]) -> str | None:
    """None when the system answers model.predict for each row count; else what is wrong."""
    for count in counts:
        try:
            answer = post(server, workload.body(server.kind, count))
        except urllib.error.HTTPError as exc:
            return f"{count}-row request answered HTTP {exc.code}: {exc.read()[:300]!r}"
        got = np.asarray(predictions_of(server.kind, answer), dtype=np.float64).ravel()
        expected = workload.model.predict(workload.rows(count))
        if got.shape != expected.shape or not np.allclose(got, expected, rtol=1e-9, atol=0):
            return f"{count}-row request: got {got[:3]}..., model.predict gives {expected[:3]}..."
    return None


# --- load ---------------------------------------------------------------------------------------

WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
{headers}
local file = io.open("{body}", "rb")
wrk.body = file:read("*a")
file:close()
done = function(summary, latency, requests)
  io.write(string.format(
    "WRKJSON {{\\"requests\\": %d, \\"duration_us\\": %d, \\"non2xx\\": %d, \\"socket_errors\\": %d, " ..
    "\\"p50_us\\": %d, \\"p90_us\\": %d, \\"p99_us\\": %d, \\"mean_us\\": %.1f}}\\n",
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
"""


@dataclass
class Measurement:
    system: str
    rows: int
    connections: int
    requests_per_second: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    requests: int
    non2xx: int
    socket_errors: int
    load_average: float
    cpu_us_per_request: dict[str, float] = field(default_factory=dict)  # by role, process + children


def run_wrk(
    server: Server, workload: Workload, rows: int, connections: int, seconds: float, folder: Path
) -> Measurement:
    body = folder / f"{server.kind}-{rows}.json"
    body.write_bytes(workload.body(server.kind, rows))
    script = folder / f"{server.kind}-{rows}.lua"
    headers = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in server.headers.items())
    script.write_text(WRK_SCRIPT.format(body=body, headers=headers))
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        server.url + server.path,
    ]
    cpu_before = {role: cpu_seconds(pid) for role, pid in server.watched.items()}
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    cpu_after = {role: cpu_seconds(pid) for role, pid in server.watched.items()}
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{done.stdout}\n{done.stderr}")
    stats = json.loads(line.removeprefix("WRKJSON "))
    return Measurement(
        system=server.name,
        rows=rows,
        connections=connections,
        requests_per_second=stats["requests"] / (stats["duration_us"] / 1e6),
        p50_ms=stats["p50_us"] / 1000,
        p90_ms=stats["p90_us"] / 1000,
        p99_ms=stats["p99_us"] / 1000,
        requests=stats["requests"],
        non2xx=stats["non2xx"],
        socket_errors=stats["socket_errors"],
        load_average=os.getloadavg()[0],
        cpu_us_per_request={
            role: (cpu_after[role] - cpu_before[role]) * 1e6 / max(1, stats["requests"])
            for role in cpu_before
        },
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and all its children (mlflow forks uvicorn)."""
    import psutil

    try:
        process = psutil.Process(pid)
        total = sum(process.cpu_times()[:2])
        for child in process.children(recursive=True):
            total += sum(child.cpu_times()[:2])
        return float(total)
    except psutil.NoSuchProcess:
        return 0.0


# --- reporting ----------------------------------------------------------------------------------


def cases(measurements: list[Measurement]) -> list[tuple[int, int]]:
    return sorted({(m.rows, m.connections) for m in measurements})


def report(measurements: list[Measurement], console: Any) -> dict[str, Any]:
    from rich.table import Table

    by = {(m.system, m.rows, m.connections): m for m in measurements}
    table = Table(title="requests/s and latency (wrk, 1 thread, 127.0.0.1)")
    for column in ("system", "rows", "conns", "req/s", "P50 ms", "P99 ms", "CPU µs/req", "errors"):
        table.add_column(column, justify="left" if column == "system" else "right")
    for system in SYSTEMS:
        for rows, connections in cases(measurements):
            m = by.get((system, rows, connections))
            if m is not None:
                errors = m.non2xx + m.socket_errors
                table.add_row(
                    LABELS[system],
                    str(rows),
                    str(connections),
                    f"{m.requests_per_second:,.0f}",
                    f"{m.p50_ms:.2f}",
                    f"{m.p99_ms:.2f}",
                    f"{sum(m.cpu_us_per_request.values()):.0f}" if m.cpu_us_per_request else "",
                    str(errors) if errors else "",
                )
    console.print(table)
    console.print(
        "CPU µs/req: user+system CPU time of the serving process(es) and their children during the run, per "
        "answered request (for the forwarded row: instance + forwarder)."
    )
    ratios = {
        system: ratio_table(by, cases(measurements), system, console)
        for system in ("mlyard-endpoint", "mlyard")
        if any(m.system == system for m in measurements)
    }

    hop = hop_cost(by, cases(measurements))
    if hop:
        table = Table(
            title="one forwarding hop: client → raw-ASGI forwarder → instance over UDS (keep-alive pool)"
        )
        for column in (
            "rows",
            "conns",
            "direct req/s",
            "forwarded req/s",
            "+ P50 ms",
            "+ P99 ms",
            "forwarder CPU µs/req",
            "instance CPU µs/req",
        ):
            table.add_column(column, justify="right")
        for key, row in hop.items():
            rows, connections = key.split("x")
            table.add_row(
                rows,
                connections,
                f"{row['direct_rps']:,.0f}",
                f"{row['forwarded_rps']:,.0f}",
                f"{row['extra_p50_ms']:+.3f}",
                f"{row['extra_p99_ms']:+.3f}",
                f"{row['forwarder_cpu_us']:.0f}",
                f"{row['instance_cpu_us']:.0f}",
            )
        console.print(table)
        console.print(
            "At 1 connection the extra P50 is the hop's added latency on an idle path; under load wrk, the "
            "forwarder and the instance share two cores, so the forwarder's CPU µs per request is its budget."
        )
    return {"ratios": ratios.get("mlyard-endpoint", {}), "instance_ratios": ratios.get("mlyard", {}),
            "forwarding_hop": hop}  # fmt: skip


def ratio_table(
    by: dict[tuple[str, int, int], Measurement], keys: list[tuple[int, int]], system: str, console: Any
) -> dict[str, Any]:
    """`system` against the anchors, case by case, with the issue's targets beside each ratio."""
    from rich.table import Table

    ratios: dict[str, Any] = {}
    table = Table(title=f"{LABELS[system]} against the anchors; the issue's targets beside them")
    for column in (
        "rows",
        "conns",
        "× MLflow (≥ 5)",
        "× MLServer (≥ 2)",
        "of reference (≥ 60 %)",
        "P99 (≤ 10 ms)",
    ):
        table.add_column(column, justify="right")
    for rows, connections in keys:
        ours = by.get((system, rows, connections))
        if ours is None or not any(
            by.get((a, rows, connections)) for a in ("mlflow", "mlserver", "reference")
        ):
            continue
        row = {}
        for anchor in ("mlflow", "mlserver", "reference"):
            theirs = by.get((anchor, rows, connections))
            row[anchor] = ours.requests_per_second / theirs.requests_per_second if theirs else None
        ratios[f"{rows}x{connections}"] = {**row, "p99_ms": ours.p99_ms}
        table.add_row(
            str(rows), str(connections), _ratio(row["mlflow"], TARGETS["mlflow"], "×"),
            _ratio(row["mlserver"], TARGETS["mlserver"], "×"),
            _ratio(row["reference"], TARGETS["reference"], "%"),
            f"{ours.p99_ms:.2f} {'met' if ours.p99_ms <= TARGETS['p99_ms'] else 'not met'}",
        )  # fmt: skip
    console.print(table)
    return ratios


def hop_cost(by: dict[tuple[str, int, int], Measurement], keys: list[tuple[int, int]]) -> dict[str, Any]:
    """What the forwarded path adds to the direct one, per case measured for both."""
    hop = {}
    for rows, connections in keys:
        direct, forwarded = (
            by.get(("mlyard", rows, connections)),
            by.get(("mlyard-forwarded", rows, connections)),
        )
        if direct is None or forwarded is None:
            continue
        hop[f"{rows}x{connections}"] = {
            "direct_rps": direct.requests_per_second,
            "forwarded_rps": forwarded.requests_per_second,
            "extra_p50_ms": forwarded.p50_ms - direct.p50_ms,
            "extra_p99_ms": forwarded.p99_ms - direct.p99_ms,
            "forwarder_cpu_us": forwarded.cpu_us_per_request.get("forwarder", 0.0),
            "instance_cpu_us": forwarded.cpu_us_per_request.get("instance", 0.0),
            "direct_instance_cpu_us": direct.cpu_us_per_request.get("instance", 0.0),
        }
    return hop


def _ratio(value: float | None, target: float, unit: str) -> str:
    if value is None:
        return "—"
    met = "met" if value >= target else "not met"
    return f"{value * 100:.0f} % {met}" if unit == "%" else f"{value:.1f}× {met}"


def environment() -> dict[str, Any]:
    versions = {}
    for package in (
        "mlyard",
        "numpy",
        "scikit-learn",
        "uvicorn",
        "httptools",
        "uvloop",
        "orjson",
        "mlflow",
        "mlserver",
        "mlserver-sklearn",
    ):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "versions": versions,
        "wrk": (wrk.stdout or wrk.stderr).splitlines()[0] if (wrk.stdout or wrk.stderr) else None,
        "load_average_at_start": os.getloadavg(),
    }


# --- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per case (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of untimed load per system first")
    parser.add_argument("--rows", default="1,100", help="rows per request, comma-separated")
    parser.add_argument("--connections", default="16,64", help="wrk connections, comma-separated")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help=f"any of {','.join(SYSTEMS)}")
    parser.add_argument(
        "--hop-connections", type=int, default=1, help="connections of the extra hop-latency case (default 1)"
    )
    parser.add_argument(
        "--tmp-dir", type=Path, help="where the models, logs and bodies go (default: a temp folder)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs of every server)")
    return parser.parse_args(argv)


def measure(
    server: Server, workload: Workload, args: argparse.Namespace, folder: Path
) -> tuple[list[Measurement], str | None]:
    """Check, warm up, then load `server` for every case; the measurements and any wrong answer."""
    rows, connections = args.row_counts, args.connection_counts
    problem = check_predictions(server, workload, rows)
    if problem is not None:
        return [], problem
    run_wrk(server, workload, rows[0], connections[0], args.warmup, folder)
    measurements = []
    for count in rows:
        for conns in connections:
            m = run_wrk(server, workload, count, conns, args.duration, folder)
            measurements.append(m)
            print(
                f"  {count:>3} rows, {conns:>2} connections: {m.requests_per_second:>8,.0f} req/s, "
                f"P50 {m.p50_ms:.2f} ms, P99 {m.p99_ms:.2f} ms",
                flush=True,
            )
    if (
        server.name in ("mlyard", "mlyard-forwarded", "mlyard-endpoint")
        and args.hop_connections not in connections
    ):
        for count in rows:  # an idle path: the hop's added latency, not queueing
            m = run_wrk(server, workload, count, args.hop_connections, args.duration, folder)
            measurements.append(m)
            print(
                f"  {count:>3} rows, {args.hop_connections:>2} connection(s): {m.requests_per_second:>8,.0f} "
                f"req/s, P50 {m.p50_ms:.3f} ms, P99 {m.p99_ms:.3f} ms",
                flush=True,
            )
    problem = check_predictions(server, workload, rows)  # still right after the load
    return measurements, None if problem is None else f"after the load: {problem}"


def skip_reason(system: str, paths: dict[str, Path]) -> str | None:
    if system == "mlflow" and "mlflow" not in paths:
        return "mlflow is not importable here (make bench-serving installs it)"
    if system == "mlserver" and shutil.which("mlserver", path=str(Path(sys.executable).parent)) is None:
        return "mlserver is not installed here (make bench-serving installs it)"
    return None


def run_systems(
    systems: list[str], workload: Workload, args: argparse.Namespace, folder: Path, console: Any
) -> tuple[list[Measurement], dict[str, str], dict[str, str]]:
    """Each system in turn; the shared mlyard instance stops after the last system that uses it."""
    paths = prepare_models(workload, folder)
    measurements: list[Measurement] = []
    wrong: dict[str, str] = {}
    skipped: dict[str, str] = {}
    running: dict[str, Server] = {}
    uses_instance = [s for s in systems if s in ("mlyard", "mlyard-v2", "mlyard-forwarded")]
    try:
        for system in systems:
            reason = skip_reason(system, paths)
            if reason is not None:
                skipped[system] = reason
                continue
            console.print(f"[bold]{LABELS[system]}[/bold]: starting (load average {os.getloadavg()[0]:.2f})")
            try:
                server = start(system, paths, folder, running)
            except RuntimeError as exc:
                skipped[system] = f"did not start: {str(exc)[:2000]}"
                console.print(f"  skipped: {skipped[system]}")
                continue
            try:
                measured, problem = measure(server, workload, args, folder)
            finally:
                stop(server)
            measurements += measured
            if problem is not None:
                wrong[system] = problem
                console.print(f"  [red]wrong predictions[/red]: {problem}")
            if uses_instance and system == uses_instance[-1]:
                stop(running.pop("mlyard-instance"))
    finally:
        for server in running.values():
            stop(server)
    return measurements, wrong, skipped


def main(argv: list[str] | None = None) -> int:
    from rich.console import Console

    args = parse_args(argv)
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 150)
    if shutil.which("wrk") is None:
        console.print("wrk is not installed: apt-get install -y wrk (make bench-serving does it)")
        return 2
    args.row_counts = [int(v) for v in args.rows.split(",")]
    args.connection_counts = [int(v) for v in args.connections.split(",")]
    systems = [s for s in args.systems.split(",") if s]
    unknown = sorted(set(systems) - set(SYSTEMS))
    if unknown:
        console.print(f"unknown systems {unknown}; valid ones are {', '.join(SYSTEMS)}")
        return 2
    folder = Path(tempfile.mkdtemp(prefix="mlyard-bench-serving-", dir=args.tmp_dir))
    workload = make_workload()
    measurements, wrong, skipped = run_systems(systems, workload, args, folder, console)
    summary = report(measurements, console) if measurements else {}
    for system, reason in skipped.items():
        console.print(f"skipped {system}: {reason.splitlines()[0]}")
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"serving-{datetime.now():%Y%m%d-%H%M%S}.json"
    results = {
        "environment": environment(),
        "settings": {key: str(value) for key, value in vars(args).items()},
        "labels": LABELS,
        "targets": TARGETS,
        "measurements": [asdict(m) for m in measurements],
        "wrong_predictions": wrong,
        "skipped": skipped,
        **summary,
    }
    out.write_text(json.dumps(results, indent=2, default=str))
    console.print(f"results: {out}")
    if args.keep:
        console.print(f"logs, models and bodies kept in {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    if wrong:
        console.print(f"[red]wrong predictions from: {', '.join(sorted(wrong))}[/red]")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
