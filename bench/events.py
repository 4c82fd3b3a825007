"""Events benchmark: model registrations with one webhook subscription to a local receiver.

In one run, on this machine, over an embedded SQLite workspace:

  outbox cost   registrations with the outbox against the same registrations with `emit`
                replaced by a no-op (alternating batches, medians): what one event adds
  latency       `mlyard server start` (a separate process, as a team would run it) delivers
                every event of N registrations to a receiver on 127.0.0.1 as they happen: the
                latency from each registration's commit to its arrival (P50, P95, P99)
  throughput    a backlog of M events committed while no server runs, delivered by a server
                started afterwards: deliveries/s from its start to the last arrival

Targets (issue 13): P99 commit-to-delivery ≤ 1 s, outbox cost ≤ 10 % of a registration. Every
event must arrive, each with a valid signature; a missing or bad one exits non-zero. Speed is
reported, never asserted.

    python bench/events.py                    # 10,000 registrations
    python bench/events.py --registrations 1000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


class Receiver:
    """Records when each event arrived, by the model version it announces."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.bodies: list[tuple[dict[str, str], bytes, float]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                data = json.loads(body)["data"]
                receiver.arrivals.setdefault(f"{data['ModelName']}:{data['ModelVersion']}", time.time())
                receiver.bodies.append(({k.lower(): v for k, v in self.headers.items()}, body, time.time()))
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def _no_event(*args: Any, **kwargs: Any) -> str:
    return ""


def outbox_cost(workspace: Any, folder: Path, rounds: int, per_round: int) -> dict[str, float]:
    """Median seconds per registration with and without the outbox's INSERT."""
    from mlyard.services.model_registry import models

    real_emit = models.emit
    with_outbox, without = [], []
    for index in range(rounds):
        for enabled in (True, False) if index % 2 == 0 else (False, True):
            models.emit = real_emit if enabled else _no_event  # type: ignore[assignment]
            started = time.perf_counter()
            for number in range(per_round):
                (folder / "n.txt").write_text(f"{index}-{enabled}-{number}")  # new content: a new version
                models.register_model_folder(workspace, f"cost-{index}", folder)
            (with_outbox if enabled else without).append((time.perf_counter() - started) / per_round)
    models.emit = real_emit
    a, b = statistics.median(with_outbox), statistics.median(without)
    return {"with_outbox_ms": a * 1000, "without_outbox_ms": b * 1000, "added_percent": (a - b) / b * 100}


def start_server(path: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLYARD_")}
    sink = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "mlyard.cli.main", "--workspace", str(path), "server", "start", "--port", "0",
         "--no-worker"],
        stdout=sink, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"listening on (http://\S+) ", log.read_text(errors="replace"))
        if found:
            return process, found.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise SystemExit(f"the server did not start:\n{log.read_text(errors='replace')}")


def drain_backlog(
    workspace: Any, folder: Path, receiver: Receiver, count: int, root: Path
) -> dict[str, float]:
    """Events committed while no server runs, then one server started: how fast it catches up."""
    from mlyard.services.model_registry import models

    before = set(receiver.arrivals)
    for number in range(count):
        (folder / "n.txt").write_text(f"backlog-{number}")  # new content: a new version, a new event
        models.register_model_folder(workspace, "backlog", folder)
    started = time.time()
    server, _ = start_server(root / "ws", root / "server-backlog.log")
    try:
        deadline = time.monotonic() + 300
        while len(receiver.arrivals) < len(before) + count and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        server.terminate()
        server.wait(timeout=30)
    arrivals = [at for key, at in receiver.arrivals.items() if key not in before]
    if len(arrivals) < count:
        raise SystemExit(f"{count - len(arrivals)} backlog events never arrived")
    first, last = min(arrivals), max(arrivals)
    return {
        "events": count,
        "seconds": last - started,
        "deliveries_per_s": count / max(last - first, 1e-9),
        "first_arrival_after_start_s": first - started,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--registrations", type=int, default=10_000)
    parser.add_argument("--cost-rounds", type=int, default=6)
    parser.add_argument("--cost-per-round", type=int, default=200)
    parser.add_argument("--backlog", type=int, default=2000)
    args = parser.parse_args()

    import mlyard
    from mlyard.services.events.subscriptions import create_subscription
    from mlyard.services.model_registry import models
    from mlyard.services.workspaces.workspace import create_workspace, open_workspace

    with tempfile.TemporaryDirectory(prefix="mlyard-bench-events-") as scratch:
        root = Path(scratch)
        folder = root / "model"
        folder.mkdir()
        (folder / "weights.txt").write_text("0.5")
        create_workspace(root / "ws")
        workspace = open_workspace(root / "ws")

        cost = outbox_cost(workspace, folder, args.cost_rounds, args.cost_per_round)
        print(f"outbox cost: {cost['with_outbox_ms']:.2f} ms vs {cost['without_outbox_ms']:.2f} ms per "
              f"registration: +{cost['added_percent']:.1f} % (target ≤ 10 %)")  # fmt: skip

        from mlyard.services.events.dispatch import fan_out

        while fan_out(workspace):  # the cost phase's events go nowhere: no subscription yet
            pass
        receiver = Receiver()
        secret = create_subscription(workspace, "bench", ["ModelRegistered"], webhook_url=receiver.url).secret
        assert secret is not None
        server, url = start_server(root / "ws", root / "server.log")
        try:
            commits: dict[str, float] = {}
            started = time.time()
            for number in range(args.registrations):
                (folder / "n.txt").write_text(f"bench-{number}")  # new content: a new version, a new event
                version = models.register_model_folder(workspace, "bench", folder).version
                commits[f"bench:{version}"] = time.time()
            registered = time.time()
            deadline = time.monotonic() + 120
            while len(receiver.arrivals) < args.registrations and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            server.terminate()
            server.wait(timeout=30)
        missing = set(commits) - set(receiver.arrivals)
        if missing:
            print(f"{len(missing)} events never arrived", file=sys.stderr)
            return 1
        for headers, body, arrived in receiver.bodies[:: max(1, len(receiver.bodies) // 200)]:
            mlyard.events.verify(headers, body, secret, now=arrived)
        latencies = sorted(receiver.arrivals[v] - commits[v] for v in commits)
        first, last = min(receiver.arrivals.values()), max(receiver.arrivals.values())
        backlog = drain_backlog(workspace, folder, receiver, args.backlog, root)

        def pct(q: float) -> float:
            return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

        delivery = {
            "registrations": args.registrations,
            "registrations_per_s": args.registrations / (registered - started),
            "deliveries_per_s": args.registrations / max(last - first, 1e-9),
            "latency_ms": {"p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99), "max": latencies[-1] * 1000},
            "backlog": backlog,
        }
        print(f"delivery: {args.registrations} registrations at {delivery['registrations_per_s']:.0f}/s, "
              f"delivered at {delivery['deliveries_per_s']:.0f}/s; commit → delivery P50 "
              f"{pct(0.5):.0f} ms, P95 {pct(0.95):.0f} ms, P99 {pct(0.99):.0f} ms, target ≤ 1 s")  # fmt: skip

        rate, wait = backlog["deliveries_per_s"], backlog["first_arrival_after_start_s"]
        print(f"throughput: a backlog of {args.backlog} events delivered at {rate:.0f}/s "
              f"(the first {wait:.1f} s after the server's start)")  # fmt: skip

    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"events-{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    summary = {"machine": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version(),
               "load_average": os.getloadavg(), "outbox_cost": cost, "delivery": delivery}  # fmt: skip
    out.write_text(json.dumps(summary, indent=2))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
