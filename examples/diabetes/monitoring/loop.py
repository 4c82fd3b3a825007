"""The loop, shown: a served model is monitored, drift raises an alert, the alert retrains it.

`make demo-loop` runs it in a fresh workspace (build/demo-loop/workspace). Each step is the
`mlyard` command a user would type, printed before it runs, so it doubles as the README's
walkthrough:

 1. train and register the production model (the quickstart, one run);
 2. `mlyard server start` (loopback, a free port): the gateway, the scheduler, the event delivery;
 3. deploy it to an online endpoint with data collection (endpoint.yml, blue.yml);
 4. normal traffic (the training rows; their answers become the prediction-drift reference),
    then drifted traffic (bmi and bp shifted by about one standard deviation);
 5. the monitor (monitor.yml) and the retraining trigger (retrain-on-alert.yml);
 6. `mlyard monitor run`: drift breached → an `mlyard.monitor.alert` event → the trigger starts the
    retraining pipeline, whose gate registers a challenger and opens a promotion request.

The server is stopped at the end, also on failure.

    python examples/diabetes/monitoring/loop.py [--workspace PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
QUICKSTART = HERE.parent / "quickstart.py"
MONITOR = "diabetes-monitor"
MODEL = "diabetes-ridge"
# quickstart.py --seed 2 draws alpha 2.2: a weak production model that the retraining (alpha 0.25) beats.
SEED = "2"
DRIFT = {"bmi": 0.05, "bp": 0.05}  # both columns have a standard deviation of 0.048
DRIFTED_REQUESTS = 60
ROWS_PER_REQUEST = 20
TIMEOUT = 150.0


STARTED = time.monotonic()


def shown(path: Path) -> str:
    """`path` as a user in the repository's folder would type it."""
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def step(title: str) -> None:
    print(f"\n\033[1m── {title}\033[0m   [{time.monotonic() - STARTED:.0f} s]", flush=True)


class Mlyard:
    """Runs `mlyard --workspace WS …` as a user would, printing the command first."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        beside = Path(sys.executable).parent / "mlyard"  # the venv's, even when it is not on PATH
        self.program = [str(beside)] if beside.exists() else [sys.executable, "-m", "mlyard.cli.main"]
        self.env = {**os.environ, "MLYARD_WORKSPACE": str(workspace)}

    def __call__(self, *args: str, show: bool = True) -> str:
        if show:
            print(f"$ mlyard {shlex.join(args)}", flush=True)
        done = subprocess.run([*self.program, *args], capture_output=True, text=True, env=self.env)
        if show:
            print(done.stdout + done.stderr, end="", flush=True)
        if done.returncode != 0:
            raise SystemExit(
                f"`mlyard {shlex.join(args)}` failed ({done.returncode}):\n{done.stdout}{done.stderr}"
            )
        return done.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "-o", "json", show=False))


class Server:
    """`mlyard server start --port 0` in the background, until `stop`."""

    def __init__(self, mlyard: Mlyard, log: Path) -> None:
        command = [*mlyard.program, "server", "start", "--port", "0"]
        print(f"$ mlyard server start --port 0 &      # log: {log}", flush=True)
        self.log = log
        with log.open("wb") as sink:
            self.process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=mlyard.env)
        self.url = self._announced()
        print(f"server listening on {self.url}", flush=True)

    def _announced(self) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited with {self.process.returncode}:\n{self.log.read_text()}")
            found = re.search(r"listening on (http://\S+) ", self.log.read_text(errors="replace"))
            if found:
                return found.group(1)
            time.sleep(0.2)
        raise SystemExit(f"the server did not start within 60 s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def send_traffic(
    scoring_uri: str, key: str, frame: Any, requests: int, shift: dict[str, float]
) -> list[float]:
    """`requests` scoring calls of ROWS_PER_REQUEST rows each (rows drawn from `frame`, `shift`
    added), in Azure's input_data shape; returns the predictions."""
    import httpx
    import numpy as np

    rng = np.random.default_rng(len(shift))
    predictions: list[float] = []
    with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=30) as http:
        for start in range(requests):
            if requests * ROWS_PER_REQUEST == len(frame):  # every row once, in order
                rows = frame.iloc[start * ROWS_PER_REQUEST : (start + 1) * ROWS_PER_REQUEST].copy()
            else:
                rows = frame.iloc[rng.integers(0, len(frame), ROWS_PER_REQUEST)].copy()
            for column, offset in shift.items():
                rows[column] = rows[column] + offset
            body = {
                "input_data": {
                    "columns": list(rows.columns),
                    "index": list(range(len(rows))),
                    "data": rows.to_numpy().tolist(),
                }
            }
            answer = http.post(scoring_uri, json=body)
            answer.raise_for_status()
            predictions.extend(answer.json())
    return predictions


def collected_rows(workspace: Path) -> int:
    import pyarrow.parquet as pq

    folder = workspace / "artifacts" / "endpoints" / "diabetes" / "blue" / "collected" / "model_inputs"
    return sum(pq.read_metadata(path).num_rows for path in folder.rglob("*.parquet"))


def retraining_job(mlyard: Mlyard) -> str | None:
    """The job the alert's firing created; a failed firing stops the demo with its error."""
    for firing in mlyard.json("schedule", "show", "--name", "retrain-on-alert")["firings"]:
        if firing["error"]:
            raise SystemExit(f"the retraining schedule's firing failed: {firing['error']}")
        if firing["job_id"]:
            return str(firing["job_id"])
    return None


def wait_for(what: str, condition: Any, timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workspace",
        default="build/demo-loop/workspace",
        help="a workspace folder, emptied first (default build/demo-loop/workspace)",
    )
    args = parser.parse_args()
    workspace = Path(args.workspace).resolve()
    shutil.rmtree(workspace, ignore_errors=True)
    workspace.parent.mkdir(parents=True, exist_ok=True)
    mlyard = Mlyard(workspace)
    print(f"$ export MLYARD_WORKSPACE={workspace}      # mlyard is {mlyard.program[0]}", flush=True)

    step("1. train and register the production model (the quickstart, one run)")
    print(f"$ python {shown(QUICKSTART)} --runs 1 --seed {SEED}", flush=True)
    subprocess.run(
        [sys.executable, str(QUICKSTART), "--workspace", str(workspace), "--runs", "1", "--seed", SEED],
        check=True,
        env=mlyard.env,
        stdout=subprocess.DEVNULL,
    )
    mlyard("model", "list", MODEL)

    step("2. a server for this workspace: the endpoint gateway, the scheduler, the event delivery")
    server = Server(mlyard, workspace.parent / "server.log")
    try:
        run_loop(mlyard, workspace, server)
    finally:
        server.stop()
    print(f"\n(the loop took {time.monotonic() - STARTED:.0f} s; the server is stopped)")
    print(f"see it in the studio: MLYARD_WORKSPACE={workspace} mlyard server start   # then open its URL")


def run_loop(mlyard: Mlyard, workspace: Path, server: Server) -> None:
    from sklearn.datasets import load_diabetes

    step("3. deploy the production model with data collection")
    mlyard("online-endpoint", "create", "--file", shown(HERE / "endpoint.yml"), "-o", "none")
    mlyard("online-deployment", "create", "--file", shown(HERE / "blue.yml"), "--all-traffic", "-o", "none")
    key = mlyard.json("online-endpoint", "get-credentials", "--name", "diabetes")["primaryKey"]
    scoring_uri = mlyard.json("online-endpoint", "show", "--name", "diabetes")["scoring_uri"]

    features = load_diabetes(as_frame=True).data
    step(f"4a. normal traffic: 440 training rows, {ROWS_PER_REQUEST} a request, to {scoring_uri}")
    predictions = send_traffic(scoring_uri, key, features.head(440), 440 // ROWS_PER_REQUEST, {})
    reference = workspace.parent / "diabetes-predictions.csv"
    reference.write_text("prediction\n" + "\n".join(f"{p!r}" for p in predictions) + "\n")
    print("their answers are the reference for prediction drift:")
    mlyard(
        "data",
        "create",
        "--name",
        "diabetes-predictions",
        "--path",
        str(reference),
        "--type",
        "uri_file",
        "-o",
        "none",
    )
    shifted = ", ".join(f"{column} +{offset}" for column, offset in DRIFT.items())
    step(f"4b. drifted traffic: {DRIFTED_REQUESTS * ROWS_PER_REQUEST} rows with {shifted}")
    send_traffic(scoring_uri, key, features, DRIFTED_REQUESTS, DRIFT)
    expected = 440 + DRIFTED_REQUESTS * ROWS_PER_REQUEST
    wait_for("the data collector to write every request", lambda: collected_rows(workspace) >= expected, 30)
    print(f"collected: {workspace}/artifacts/endpoints/diabetes/blue/collected/ ({expected} rows)")

    step("5. the monitor, and the schedule that retrains on its drift alert")
    mlyard("monitor", "create", "--file", shown(HERE / "monitor.yml"))
    mlyard("schedule", "create", "--file", shown(HERE / "retrain-on-alert.yml"), "-o", "none")

    step("6. run the monitor: drift breaches and raises an alert")
    mlyard("monitor", "run", "--name", MONITOR)
    mlyard("monitor", "show", "--name", MONITOR, "--query", "[?breached]", "-o", "table")
    mlyard("event", "list", "--type", "monitor.alert")

    step("7. the alert's event trigger started the retraining pipeline")
    job_id = wait_for("the retraining pipeline to be created", lambda: retraining_job(mlyard))
    print(f"retraining pipeline: job {job_id}", flush=True)
    mlyard("job", "stream", job_id)
    mlyard("model", "list", MODEL)
    mlyard("model", "promotion", "list", MODEL)

    step("where to look")
    print(f"studio (while a server runs): {server.url}/  — jobs, models, promotions, events, schedules")
    for command in (
        f"monitor show --name {MONITOR}",
        f"monitor history --name {MONITOR} --signal drift --feature bmi",
        "event list --type monitor.alert -o json",
        "schedule show --name retrain-on-alert",
        f"model promotion list {MODEL}",
        "model approve <request id>   # as another operator",
    ):
        print(f"  mlyard {command}")


if __name__ == "__main__":
    main()
