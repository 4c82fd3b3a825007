"""Pipeline benchmark: mlyard against Metaflow (local runtime) on the same no-op pipelines, side by side.

Same run, same machine, everything in one temporary folder (workspaces, flow files, Metaflow's
datastore and config, job scratch folders, Ray's session). Phases:

    linear   10 no-op steps chained output → input (Metaflow: start, s1…s10, end)
    fanout   1 → 8 → 1 (Metaflow: start, foreach over 8 items, join, end)
    rerun    the unchanged 10-step pipeline submitted again: mlyard reuses every step
    ray      the 10-step pipeline on the Ray executor vs the local one: per-task overhead

mlyard is timed two ways: end to end as a user runs it (`mlyard job create --stream`, a
subprocess: CLI start-up, detached runner, log following) and the engine in this process
(`submit_job_file` + `run_job`). Metaflow is timed as `python flow.py run`, a subprocess.
Speed is reported, never asserted; the exit code is non-zero only if a run failed or did not
run (or reuse) the steps it should have.

    python bench/pipelines.py                        # all phases, 3 repeats (a few minutes)
    python bench/pipelines.py --phases linear --repeat 1
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import psutil
from rich.console import Console
from rich.table import Table

import mlyard
from mlyard.entities.jobs.job import JobStatus
from mlyard.runtime.launch import run_job
from mlyard.services.execution import job_runs
from mlyard.services.submission.dispatch import submit_job_file
from mlyard.services.tracking.jobs import get_job
from mlyard.services.workspaces.workspace import Workspace, open_workspace

PHASES = ("linear", "fanout", "rerun", "ray")
LINEAR_STEPS = 10
FAN_WIDTH = 8
SPEEDUP_TARGET = 3.0  # × faster than Metaflow, linear and fanout
RERUN_TARGET_SECONDS = 1.0  # in-process unchanged re-run
BARE_RAY_CALLS = 20
RESULTS_DIR = Path(__file__).resolve().parent / "results"
console = Console(highlight=False, width=None if sys.stdout.isatty() else 140)


class BenchError(Exception):
    """A run failed or did not do the work it should have: its figure means nothing."""


# --- the work ----------------------------------------------------------------------------------


def linear_pipeline(*, force_rerun: bool, compute: str = "local", steps: int = LINEAR_STEPS) -> str:
    """`steps` no-op steps, each reading the previous one's output so they run one after another.

    Each command names its step: otherwise steps 3… would have the signature of step 2 (same
    command, same empty input) and reuse would take them from it within the first run.
    """
    lines = [
        "type: pipeline",
        "display_name: bench-linear",
        f"settings: {{default_compute: {compute}, force_rerun: {str(force_rerun).lower()}}}",
        "jobs:",
        "  s1:",
        "    command: python -c pass s1",
        "    outputs: {out: {type: uri_folder}}",
    ]
    for i in range(2, steps + 1):
        lines += [
            f"  s{i}:",
            f"    command: python -c pass s{i} ${{{{inputs.x}}}}",
            f'    inputs: {{x: "${{{{parent.jobs.s{i - 1}.outputs.out}}}}"}}',
            "    outputs: {out: {type: uri_folder}}",
        ]
    return "\n".join(lines) + "\n"


def fanout_pipeline() -> str:
    """One start step, `FAN_WIDTH` middle steps reading its output, one join step reading all of theirs."""
    lines = [
        "type: pipeline",
        "display_name: bench-fanout",
        f"settings: {{max_concurrency: {FAN_WIDTH}, force_rerun: true}}",
        "jobs:",
        "  start:",
        "    command: python -c pass start",
        "    outputs: {out: {type: uri_folder}}",
    ]
    for i in range(FAN_WIDTH):
        lines += [
            f"  m{i}:",
            f"    command: python -c pass m{i} ${{{{inputs.x}}}}",
            '    inputs: {x: "${{parent.jobs.start.outputs.out}}"}',
            "    outputs: {out: {type: uri_folder}}",
        ]
    reads = " ".join(f"${{{{inputs.i{i}}}}}" for i in range(FAN_WIDTH))
    bindings = ", ".join(f'i{i}: "${{{{parent.jobs.m{i}.outputs.out}}}}"' for i in range(FAN_WIDTH))
    lines += ["  join:", f"    command: python -c pass join {reads}", f"    inputs: {{{bindings}}}"]
    return "\n".join(lines) + "\n"


def linear_flow() -> str:
    """Metaflow: start → s1 … s10 → end, 12 no-op steps (the shape the issue measured)."""
    names = ["start", *(f"s{i}" for i in range(1, LINEAR_STEPS + 1))]
    body = "".join(
        f"    @step\n    def {name}(self):\n        self.next(self.{after})\n\n"
        for name, after in zip(names, [*names[1:], "end"], strict=True)
    )
    return _flow("LinearFlow", body)


def fanout_flow() -> str:
    """Metaflow: start → foreach over 8 items → join → end."""
    body = (
        "    @step\n    def start(self):\n"
        f"        self.items = list(range({FAN_WIDTH}))\n"
        "        self.next(self.middle, foreach='items')\n\n"
        "    @step\n    def middle(self):\n        self.next(self.join)\n\n"
        "    @step\n    def join(self, inputs):\n        self.next(self.end)\n\n"
    )
    return _flow("FanoutFlow", body)


def _flow(name: str, body: str) -> str:
    return (
        f"from metaflow import FlowSpec, step\n\n\nclass {name}(FlowSpec):\n{body}"
        "    @step\n    def end(self):\n        pass\n\n\n"
        f'if __name__ == "__main__":\n    {name}()\n'
    )


def _noop() -> None:
    return None


# --- the systems -------------------------------------------------------------------------------


@dataclass
class Mlyard:
    """mlyard's workspaces and the two ways of running a pipeline: the CLI and the engine in-process."""

    root: Path

    def workspace(self, name: str) -> Workspace:
        """A fresh workspace (created and migrated here, untimed)."""
        return open_workspace(self.root / "workspaces" / name)

    def write(self, name: str, text: str) -> Path:
        path = self.root / "pipelines" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def in_process(self, workspace: Workspace, pipeline: Path) -> tuple[float, str]:
        """Seconds from submission to the end of `run_job`, and the job id."""
        gc.collect()
        start = time.perf_counter()
        job = submit_job_file(workspace, pipeline)
        result = run_job(workspace, job.id)
        elapsed = time.perf_counter() - start
        if result.status != JobStatus.COMPLETED:
            raise BenchError(f"in-process pipeline {job.id} ended {result.status.value}: {result.error}")
        return elapsed, job.id

    def cli(self, workspace: Workspace, pipeline: Path) -> tuple[float, str]:
        """Seconds `mlyard job create --file … --stream` takes, as a user runs it, and the job id."""
        command = [
            str(Path(sys.executable).parent / "mlyard"),
            "--workspace", str(workspace.path),
            "job", "create", "--file", str(pipeline), "--stream",
        ]  # fmt: skip
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
        elapsed = time.perf_counter() - start
        found = re.search(r"job (\S+) \(pipeline\) started", done.stderr)
        if done.returncode != 0 or found is None:
            raise BenchError(
                f"mlyard job create exited {done.returncode}: {_tail(done.stderr + done.stdout)}"
            )
        return elapsed, found.group(1)

    @staticmethod
    def check(workspace: Workspace, job_id: str, steps: int, reused: int) -> None:
        """The job ran `steps` steps, `reused` of them taken from an earlier run, all completed."""
        children = job_runs.children(workspace, job_id)
        completed = sum(status == JobStatus.COMPLETED for _, status, _ in children)
        taken = sum(get_job(workspace, child).reused_from is not None for child, _, _ in children)
        if (len(children), completed, taken) != (steps, steps, reused):
            raise BenchError(
                f"job {job_id}: {len(children)} steps, {completed} completed, {taken} reused; "
                f"expected {steps} steps, all completed, {reused} reused"
            )


@dataclass
class Metaflow:
    """Flows run as `python flow.py --no-pylint --quiet run`, with every Metaflow folder in `root`."""

    root: Path

    def __post_init__(self) -> None:
        self.env = {
            **os.environ,
            "METAFLOW_HOME": str(self.root / "metaflow-home"),  # no ~/.metaflowconfig is read
            "METAFLOW_DATASTORE_SYSROOT_LOCAL": str(self.root / "metaflow-store"),
            "METAFLOW_DEFAULT_METADATA": "local",
            "METAFLOW_DEFAULT_DATASTORE": "local",
            "METAFLOW_DEFAULT_ENVIRONMENT": "local",
            "USERNAME": "bench",
        }

    def write(self, name: str, text: str) -> Path:
        path = self.root / "flows" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def run(self, flow: Path, *command: str, tasks: int, word: str = "Task finished successfully") -> float:
        """Seconds the flow command takes; it must report `word` for `tasks` tasks."""
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, str(flow), "--no-pylint", "--quiet", *(command or ("run",))],
            cwd=flow.parent, env=self.env, capture_output=True, text=True, timeout=600,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        elapsed = time.perf_counter() - start
        output = done.stdout + done.stderr
        if done.returncode != 0 or output.count(word) != tasks:
            raise BenchError(
                f"metaflow {flow.name} {' '.join(command)} exited {done.returncode} with "
                f"{output.count(word)} × {word!r} (expected {tasks}): {_tail(output)}"
            )
        return elapsed


def _tail(text: str, lines: int = 8) -> str:
    return " | ".join(text.strip().splitlines()[-lines:])


# --- measuring and reporting -------------------------------------------------------------------


@dataclass
class Row:
    """One line of a phase's table: what was run, its timings, and the target it is held to."""

    system: str
    how: str
    seconds: list[float] = field(default_factory=list)
    target: str = ""
    met: bool | None = None
    speedup: float | None = None  # Metaflow's median ÷ this median

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None


@dataclass
class Phase:
    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    load: dict[str, Any] = field(default_factory=dict)

    def row(self, system: str, how: str, target: str = "") -> Row:
        found = Row(system, how, target=target)
        self.rows.append(found)
        return found


def load_now() -> dict[str, Any]:
    """Load average and the other processes busy right now (what else competes for the CPUs)."""
    ours = {os.getpid(), *(p.pid for p in psutil.Process().children(recursive=True))}
    busy = []
    for process in psutil.process_iter(["pid", "name", "cpu_percent"]):
        if process.info["pid"] not in ours and (process.info["cpu_percent"] or 0) >= 10:
            busy.append(f"{process.info['name']} ({process.info['cpu_percent']:.0f}%)")
    return {"loadavg_1_5_15": [round(x, 2) for x in os.getloadavg()], "busy_others": busy[:8]}


def prime_cpu_percent() -> None:
    """psutil's per-process cpu_percent compares with the previous call; make a first one."""
    for _ in psutil.process_iter(["cpu_percent"]):
        pass


def repeat(times: int, *actions: Callable[[], None]) -> None:
    """Run the actions interleaved, `times` rounds, so a load spike spreads over every system."""
    for _ in range(times):
        for action in actions:
            action()


def fmt(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds * 1000:,.1f} ms" if seconds < 0.1 else f"{seconds:,.2f} s"


def print_phase(phase: Phase) -> None:
    table = Table(title=phase.title, title_justify="left")
    for name, justify in (
        ("system", "left"), ("how", "left"), ("median", "right"), ("min – max", "right"),
        ("n", "right"), ("Metaflow ÷ this", "right"), ("target", "left"), ("met", "left"),
    ):  # fmt: skip
        table.add_column(name, justify=justify)
    for row in phase.rows:
        spread = f"{fmt(min(row.seconds))} – {fmt(max(row.seconds))}" if len(row.seconds) > 1 else ""
        table.add_row(
            row.system,
            row.how,
            fmt(row.median),
            spread,
            str(len(row.seconds)),
            "—" if row.speedup is None else f"{row.speedup:.2f}×",
            row.target,
            {True: "yes", False: "NO", None: ""}[row.met],
        )
    console.print(table)
    for note in phase.notes:
        console.print(f"  {note}")
    console.print(f"  load: {phase.load}")


def compare(phase: Phase, reference: Row | None, *rows: Row, target: float | None) -> None:
    """Speed-ups against Metaflow's median, and whether they reach `target`."""
    base = reference.median if reference is not None else None
    for row in rows:
        if base is not None and row.median:
            row.speedup = base / row.median
            row.met = row.speedup >= target if target is not None else None


# --- the phases --------------------------------------------------------------------------------


def first_run_phase(
    name: str, args: argparse.Namespace, mlyard_side: Mlyard, flows: Metaflow | None
) -> Phase:
    """linear or fanout: every run starts from nothing (force_rerun), interleaved across systems."""
    if name == "linear":
        title = f"linear: {LINEAR_STEPS} no-op steps in a chain (Metaflow: start, s1…s{LINEAR_STEPS}, end)"
        pipeline, flow_text, steps, tasks = linear_pipeline(force_rerun=True), linear_flow(), LINEAR_STEPS, 12
    else:
        title = f"fanout: 1 → {FAN_WIDTH} → 1 no-op steps (Metaflow: start, foreach ×{FAN_WIDTH}, join, end)"
        pipeline, flow_text, steps, tasks = fanout_pipeline(), fanout_flow(), FAN_WIDTH + 2, FAN_WIDTH + 3
    phase = Phase(name, title)
    target = f"≥ {SPEEDUP_TARGET:g}× faster"
    path = mlyard_side.write(f"{name}.yml", pipeline)
    cli = phase.row("mlyard", "CLI: job create --stream (end to end)", target)
    engine = phase.row("mlyard", "in-process: submit_job_file + run_job", target)
    reference = phase.row("Metaflow", f"python flow.py run ({tasks} tasks)") if flows else None
    ws_cli, ws_engine = mlyard_side.workspace(f"{name}-cli"), mlyard_side.workspace(f"{name}-engine")
    flow = flows.write(f"{name}_flow.py", flow_text) if flows else None

    def by_cli() -> None:
        seconds, job_id = mlyard_side.cli(ws_cli, path)
        Mlyard.check(ws_cli, job_id, steps, reused=0)
        cli.seconds.append(seconds)

    def in_process() -> None:
        seconds, job_id = mlyard_side.in_process(ws_engine, path)
        Mlyard.check(ws_engine, job_id, steps, reused=0)
        engine.seconds.append(seconds)

    def metaflow() -> None:
        assert flows is not None and flow is not None and reference is not None
        reference.seconds.append(flows.run(flow, tasks=tasks))

    actions = [by_cli, in_process] + ([metaflow] if flows else [])
    repeat(args.repeat, *actions)
    compare(phase, reference, cli, engine, target=SPEEDUP_TARGET)
    if name == "fanout":
        phase.notes.append(
            f"mlyard runs up to {FAN_WIDTH} steps at once (settings.max_concurrency); Metaflow's "
            f"default --max-workers is 16; the machine has {os.cpu_count()} CPUs"
        )
    return phase


def rerun_phase(args: argparse.Namespace, mlyard_side: Mlyard, flows: Metaflow | None) -> Phase:
    """The unchanged 10-step pipeline again: mlyard reuses every step; Metaflow reruns or resumes."""
    phase = Phase("rerun", f"rerun: the unchanged {LINEAR_STEPS}-step pipeline submitted again (reuse on)")
    path = mlyard_side.write("rerun.yml", linear_pipeline(force_rerun=False))
    engine = phase.row("mlyard", "in-process rerun, every step reused", f"< {RERUN_TARGET_SECONDS:g} s")
    cli = phase.row("mlyard", "CLI rerun, every step reused", "(< 1 s is for in-process)")
    ws_engine, ws_cli = mlyard_side.workspace("rerun-engine"), mlyard_side.workspace("rerun-cli")
    # The first run of each workspace (untimed) is what the reruns reuse.
    Mlyard.check(ws_engine, mlyard_side.in_process(ws_engine, path)[1], LINEAR_STEPS, reused=0)
    Mlyard.check(ws_cli, mlyard_side.cli(ws_cli, path)[1], LINEAR_STEPS, reused=0)

    def in_process() -> None:
        seconds, job_id = mlyard_side.in_process(ws_engine, path)
        Mlyard.check(ws_engine, job_id, LINEAR_STEPS, reused=LINEAR_STEPS)
        engine.seconds.append(seconds)

    def by_cli() -> None:
        seconds, job_id = mlyard_side.cli(ws_cli, path)
        Mlyard.check(ws_cli, job_id, LINEAR_STEPS, reused=LINEAR_STEPS)
        cli.seconds.append(seconds)

    actions: list[Callable[[], None]] = [in_process, by_cli]
    full = resume = None
    if flows is not None:
        flow = flows.write("rerun_flow.py", linear_flow())
        flows.run(flow, tasks=12)  # the run that `resume` resumes (untimed)
        full = phase.row("Metaflow", "python flow.py run again (no step reuse: all 12 tasks run)")
        resume = phase.row("Metaflow", "python flow.py resume of the successful run (clones all 12)")
        actions.append(lambda: full.seconds.append(flows.run(flow, tasks=12)))
        actions.append(
            lambda: resume.seconds.append(
                flows.run(flow, "resume", tasks=12, word="Cloning previously run task")
            )
        )
    repeat(args.repeat, *actions)
    compare(phase, full, engine, cli, target=None)
    if resume is not None and full is not None:
        compare(phase, full, resume, target=None)
    engine.met = engine.median is not None and engine.median < RERUN_TARGET_SECONDS
    if flows is not None:
        phase.notes.append(
            "Metaflow has no step reuse for a new run; `resume` of a run that succeeded clones every "
            "task (runs none), the closest it has to an unchanged re-run. 'Metaflow ÷ this' is against "
            "its full run."
        )
    return phase


def ray_phase(args: argparse.Namespace, mlyard_side: Mlyard) -> Phase:
    """The 10-step pipeline with `default_compute: ray` vs local, in-process, after Ray is up."""
    import ray

    from mlyard.runtime.executors import connect_ray

    phase = Phase("ray", f"ray: Ray executor overhead, {LINEAR_STEPS}-step pipeline in-process")
    workspace = mlyard_side.workspace("ray")
    local_path = mlyard_side.write("ray-local.yml", linear_pipeline(force_rerun=True))
    ray_path = mlyard_side.write("ray-ray.yml", linear_pipeline(force_rerun=True, compute="ray"))
    warm_path = mlyard_side.write("ray-warm.yml", linear_pipeline(force_rerun=True, compute="ray", steps=1))
    try:
        start = time.perf_counter()
        connect_ray(None)  # the executor's own ray.init, once per process
        phase.row("Ray", "ray.init (local instance, once per process)").seconds.append(
            time.perf_counter() - start
        )
        seconds, job_id = mlyard_side.in_process(workspace, warm_path)
        Mlyard.check(workspace, job_id, 1, reused=0)
        phase.row("mlyard", "first 1-step Ray job (worker start, imports)").seconds.append(seconds)
        local = phase.row("mlyard", f"{LINEAR_STEPS} steps, local executor")
        on_ray = phase.row("mlyard", f"{LINEAR_STEPS} steps, Ray executor")

        def run(row: Row, path: Path) -> Callable[[], None]:
            def action() -> None:
                seconds, job_id = mlyard_side.in_process(workspace, path)
                Mlyard.check(workspace, job_id, LINEAR_STEPS, reused=0)
                row.seconds.append(seconds)

            return action

        repeat(args.repeat, run(local, local_path), run(on_ray, ray_path))
        overhead = phase.row("mlyard", "per-task overhead = (Ray − local) ÷ steps", "reported")
        if local.median is not None and on_ray.median is not None:
            overhead.seconds.append((on_ray.median - local.median) / LINEAR_STEPS)
        noop = ray.remote(_noop)
        ray.get(noop.remote())  # a worker ready for it
        bare = phase.row("Ray", "bare ray.get(noop.remote()) round trip", "reference")
        for _ in range(BARE_RAY_CALLS):
            start = time.perf_counter()
            ray.get(noop.remote())
            bare.seconds.append(time.perf_counter() - start)
    finally:
        ray.shutdown()
    phase.notes.append(
        "Ray runs each step's command runner in a Ray worker process instead of a thread of the "
        "pipeline's process; both figures include the runner's own per-step costs (process start, "
        "polling, records), so the overhead is what Ray adds or saves on top of them."
    )
    return phase


# --- main --------------------------------------------------------------------------------------


def environment(root: Path, has_metaflow: bool, has_ray: bool) -> dict[str, Any]:
    versions = {"mlyard": mlyard.__version__}
    for name, present in (("metaflow", has_metaflow), ("ray", has_ray)):
        if present:
            versions[name] = version(name)
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        **versions,
        "cpu_count": os.cpu_count(),
        "usable_cpus": affinity,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "temp_root": str(root),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per system and row (default 3)")
    parser.add_argument(
        "--phases", default=",".join(PHASES), help=f"comma list of: {', '.join(PHASES)} (default all)"
    )
    parser.add_argument("--tmp-dir", type=Path, default=None, help="where the temp folder goes")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print where")
    args = parser.parse_args(argv)
    args.phases = [p.strip().lower() for p in args.phases.split(",") if p.strip()]
    if not args.phases or set(args.phases) - set(PHASES):
        parser.error(f"--phases takes a comma list of {', '.join(PHASES)}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def isolate(root: Path) -> None:
    """Keep every file this run makes under `root`, and keep Ray off the network."""
    for name in ("MLYARD_WORKSPACE", "MLYARD_DB", "MLYARD_ARTIFACTS", "MLYARD_JOB_ID", "RAY_ADDRESS"):
        os.environ.pop(name, None)
    os.environ["MLYARD_SCRATCH"] = str(root / "scratch")  # job folders and runner logs
    os.environ["RAY_TMPDIR"] = str(root)  # Ray's session folder (sockets: keep the path short)
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"


def warm_up(mlyard_side: Mlyard, flows: Metaflow | None) -> None:
    """One untimed run per way of running: imports, .pyc files, lazy caches, the OS file cache."""
    path = mlyard_side.write("warm.yml", linear_pipeline(force_rerun=True, steps=2))
    seconds, _ = mlyard_side.in_process(mlyard_side.workspace("warm-engine"), path)
    console.print(f"  warm-up mlyard in-process: {seconds:.2f} s (untimed)")
    seconds, _ = mlyard_side.cli(mlyard_side.workspace("warm-cli"), path)
    console.print(f"  warm-up mlyard CLI:        {seconds:.2f} s (untimed)")
    if flows is not None:
        seconds = flows.run(flows.write("warm_flow.py", linear_flow()), tasks=12)
        console.print(f"  warm-up Metaflow:          {seconds:.2f} s (untimed)")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="mlyard-pipe-", dir=args.tmp_dir))
    isolate(root)
    has_metaflow = importlib.util.find_spec("metaflow") is not None
    has_ray = importlib.util.find_spec("ray") is not None
    for name, present, what in (
        ("Metaflow", has_metaflow, "the Metaflow column"),
        ("Ray", has_ray, "the ray phase"),
    ):
        if not present:
            console.print(
                f"{name} is not importable in {sys.executable}: skipping {what}. "
                "`make bench-pipelines` runs this in .venv-bench, which `make bench` / "
                "`pip install -e '.[bench]'` installs with it.",
                style="yellow",
                markup=False,  # keep the [bench] of the pip command
            )
    env = environment(root, has_metaflow, has_ray)
    console.print("[bold]environment[/bold]")
    for key, value in env.items():
        console.print(f"  {key:12} {value}")
    prime_cpu_percent()
    time.sleep(1.0)
    env["load_at_start"] = load_now()
    console.print(f"  load         {env['load_at_start']}")
    mlyard_side = Mlyard(root)
    flows = Metaflow(root) if has_metaflow else None
    phases: list[Phase] = []
    problems: list[str] = []
    try:
        warm_up(mlyard_side, flows)
        for name in (p for p in PHASES if p in args.phases):
            if name == "ray" and not has_ray:
                continue
            prime_cpu_percent()
            started = time.perf_counter()
            try:
                if name in ("linear", "fanout"):
                    phase = first_run_phase(name, args, mlyard_side, flows)
                elif name == "rerun":
                    phase = rerun_phase(args, mlyard_side, flows)
                else:
                    phase = ray_phase(args, mlyard_side)
            except BenchError as exc:
                problems.append(f"{name}: {exc}")
                console.print(f"[red]{name}: {exc}[/red]")
                continue
            phase.load = {**load_now(), "phase_seconds": round(time.perf_counter() - started, 1)}
            phases.append(phase)
            print_phase(phase)
    finally:
        if args.keep:
            console.print(f"temporary folder kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    write_json(env, args, phases, problems)
    return 1 if problems else 0


def write_json(
    env: dict[str, Any], args: argparse.Namespace, phases: list[Phase], problems: list[str]
) -> None:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"pipelines-{datetime.now():%Y%m%d-%H%M%S}.json"
    document = {
        "environment": env,
        "config": {"repeat": args.repeat, "phases": args.phases},
        "phases": {
            phase.name: {
                "title": phase.title,
                "rows": [{**asdict(row), "median": row.median} for row in phase.rows],
                "notes": phase.notes,
                "load": phase.load,
            }
            for phase in phases
        },
        "problems": problems,
    }
    path.write_text(json.dumps(document, indent=2))
    shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
    console.print(f"results written to {shown}")


if __name__ == "__main__":
    sys.exit(main())
