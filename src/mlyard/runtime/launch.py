"""Starting runners: in this process (`run_job`) or as a detached process (`launch_detached`).

`mlyard job create` records a Queued job and starts `python -m mlyard.runtime.launch JOB_ID` in
its own session, so the job outlives the command that submitted it (as an Azure ML job outlives
`az ml job create`), and `job stream` / `job cancel` work from any terminal.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import traceback

from mlyard.entities.jobs.job import JobStatus
from mlyard.errors import Conflict, MlyardError
from mlyard.runtime.command_runner import run_command_job
from mlyard.runtime.job_log import LogCallback, RunResult
from mlyard.runtime.runner_process import WAIT_FOR_JOB, PendingRunner
from mlyard.services.execution import job_runs
from mlyard.services.tracking.jobs import end_job
from mlyard.services.workspaces.workspace import ENV_WORKSPACE, Workspace, open_workspace


def run_job(workspace: Workspace, job_id: str, on_log: LogCallback | None = None) -> RunResult:
    """Run a queued job of any type in this process, to its end."""
    spec = job_runs.get_spec(workspace, job_id)
    job_type = spec.get("type")
    if job_type == "command":
        from mlyard.entities.jobs.job_spec import ResolvedCommandJob
        from mlyard.runtime.executors import LocalExecutor, executor_for

        job = ResolvedCommandJob.model_validate(spec)
        executor = executor_for(workspace, job.compute)
        if isinstance(executor, LocalExecutor):
            return run_command_job(workspace, job_id, job, on_log, container=executor.container)
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
    if job_type == "batch":
        from mlyard.runtime.batch_runner import run_batch_job

        return run_batch_job(workspace, job_id, spec, on_log)
    if job_type == "monitor":
        from mlyard.runtime.monitor_runner import run_monitor_job

        return run_monitor_job(workspace, job_id, spec, on_log)
    raise MlyardError(f"job {job_id} has type {job_type!r}, which no runner knows")


def launch_detached(workspace: Workspace, job_id: str) -> int:
    """Start a runner process for a queued job and return its pid; the job records who runs it."""
    with PendingRunner(workspace.path) as runner:
        return runner.assign(workspace, job_id)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(f"usage: python -m mlyard.runtime.launch JOB_ID | {WAIT_FOR_JOB}", file=sys.stderr)
        return 2
    if args[0] == WAIT_FOR_JOB:
        _warm_up()
        job_id = sys.stdin.readline().strip()
        if not job_id:
            return 0  # abandoned: the submission failed
    else:
        job_id = args[0]
    # Opened only now: a first command may be creating the workspace while this process starts.
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
    finally:
        gc.freeze()  # nothing left to collect: skip the costly teardown of every object at exit
    return 0 if result.status == JobStatus.COMPLETED else 1


def _warm_up() -> None:
    """Import what any job needs while the submitter is still recording the job."""
    import fsspec  # noqa: F401  (the artifact store's; its plugin scan is ~40 ms of opening a workspace)

    import mlyard.entities.jobs.job_spec  # noqa: F401
    import mlyard.runtime.executors  # noqa: F401
    import mlyard.runtime.pipeline_runner  # noqa: F401


if __name__ == "__main__":
    sys.exit(main())
