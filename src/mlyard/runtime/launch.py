"""Starting runners: in this process (`run_job`) or as a detached process (`launch_detached`).

`mlyard job create` records a Queued job and starts `python -m mlyard.runtime.launch JOB_ID` in
its own session, so the job outlives the command that submitted it (as an Azure ML job outlives
`az ml job create`), and `job stream` / `job cancel` work from any terminal.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import traceback
from pathlib import Path

from mlyard.entities.job import JobStatus
from mlyard.errors import Conflict, MlyardError
from mlyard.runtime.command_runner import LogCallback, RunResult, run_command_job, scratch_root
from mlyard.services import job_runs
from mlyard.services.jobs import end_job
from mlyard.services.workspace import ENV_WORKSPACE, Workspace, open_workspace


def run_job(workspace: Workspace, job_id: str, on_log: LogCallback | None = None) -> RunResult:
    """Run a queued job of any type in this process, to its end."""
    spec = job_runs.get_spec(workspace, job_id)
    job_type = spec.get("type")
    if job_type == "command":
        from mlyard.entities.job_spec import ResolvedCommandJob
        from mlyard.runtime.executors import LocalExecutor, executor_for

        job = ResolvedCommandJob.model_validate(spec)
        executor = executor_for(workspace, job.compute)
        if isinstance(executor, LocalExecutor):
            return run_command_job(workspace, job_id, job, on_log)
        return executor.run(workspace, job_id, job)
    if job_type == "pipeline":
        from mlyard.runtime.pipeline_runner import run_pipeline_job

        return run_pipeline_job(workspace, job_id, spec, on_log)
    if job_type == "sweep":
        from mlyard.runtime.sweep_runner import run_sweep_job

        return run_sweep_job(workspace, job_id, spec, on_log)
    if job_type == "parallel":
        from mlyard.runtime.parallel_runner import run_parallel_job

        return run_parallel_job(workspace, job_id, spec, on_log)
    raise MlyardError(f"job {job_id} has type {job_type!r}, which no runner knows")


def launch_detached(workspace: Workspace, job_id: str) -> int:
    """Start a runner process for a queued job and return its pid; the job records who runs it."""
    logs = scratch_root() / "runners"
    logs.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env[ENV_WORKSPACE] = str(workspace.path)
    with open(logs / f"{job_id}.log", "ab") as runner_log:
        process = subprocess.Popen(
            [sys.executable, "-m", "mlyard.runtime.launch", job_id],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=runner_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C on the submitting terminal does not stop the job
            close_fds=True,
        )
    # Reap it when it ends, so a long-lived submitter (a notebook, a server) collects no zombies.
    threading.Thread(target=process.wait, name=f"reap-{job_id}", daemon=True).start()
    job_runs.note_runner(workspace, job_id, process.pid)
    return process.pid


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m mlyard.runtime.launch JOB_ID", file=sys.stderr)
        return 2
    job_id = args[0]
    workspace = open_workspace(os.environ.get(ENV_WORKSPACE), create=False)
    try:
        result = run_job(workspace, job_id)
    except Conflict as exc:
        print(f"mlyard runner: {exc.message}", file=sys.stderr)
        return 4
    except BaseException as exc:
        # Whatever happened, the job must not stay Queued or Running: record why it ended.
        reason = exc.message if isinstance(exc, MlyardError) else traceback.format_exc(limit=5)
        with contextlib.suppress(MlyardError):  # the database itself may be what failed
            end_job(workspace, job_id, JobStatus.FAILED, f"runner error: {reason}")
        print(f"mlyard runner: {reason}", file=sys.stderr)
        return 1
    return 0 if result.status == JobStatus.COMPLETED else 1


def runner_log(job_id: str) -> Path:
    return scratch_root() / "runners" / f"{job_id}.log"


if __name__ == "__main__":
    sys.exit(main())
