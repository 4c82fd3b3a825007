"""Runs one command job in a subprocess: the heart of every job type (pipeline steps, sweep trials…).

    claim → environment → working copy of the code → inputs → command → process
          → live log → outputs uploaded (and registered) → Completed | Failed | Canceled

The process gets `MLYARD_JOB_ID` and `MLYARD_WORKSPACE`, so `mlyard.log_metric` inside it writes
to this job, and — when its interpreter has mlflow — `MLFLOW_TRACKING_URI` and `MLFLOW_RUN_ID`,
so `mlflow.log_metric` does too (runtime/mlflow_tracking.py). It runs in its own process group:
a cancel (seen through the database, so it may come from any process or machine) or a timeout
sends SIGTERM to the whole group and SIGKILL after a grace period. On a `docker` compute, a job
whose environment is an image runs in that container (runtime/containers.py).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from mlyard.entities.assets.compute import Compute
from mlyard.entities.assets.environment_spec import ResolvedEnvironment
from mlyard.entities.jobs.job import ENV_JOB_ID, CodeSnapshot, DataInput, JobStatus, RunSummary
from mlyard.entities.jobs.job_spec import JobOutput, ResolvedCommandJob, ResolvedInput
from mlyard.entities.specs.command_line import render_command
from mlyard.runtime.containers import find_runtime
from mlyard.runtime.job_host import JobHost, as_host
from mlyard.runtime.job_log import JobLog, LogCallback, RunResult
from mlyard.runtime.mlflow_tracking import ENV_TRACKING_URI, INHERITED_VARIABLES, has_mlflow, mlflow_variables
from mlyard.runtime.run_to_end import run_to_end
from mlyard.runtime.runner_process import scratch_root
from mlyard.services.tracking.source_code import copy_source_tree
from mlyard.services.workspaces.workspace import Workspace

PLACE_VARIABLES = (
    "MLYARD_WORKSPACE", "MLYARD_DB", "MLYARD_ARTIFACTS", "MLYARD_URL", "MLYARD_KEY", "MLYARD_WORKSPACE_NAME",
)  # fmt: skip
CANCEL_GRACE_SECONDS = float(os.environ.get("MLYARD_CANCEL_GRACE", "10"))
POLL_SECONDS = 0.2
STATUS_CHECK_SECONDS = 0.5


def run_command_job(
    place: Workspace | JobHost,
    job_id: str,
    job: ResolvedCommandJob,
    on_log: LogCallback | None = None,
    claim: bool = True,
    container: Compute | None = None,
) -> RunResult:
    """Execute a queued command job to its end and record the outcome; never raises for the job's faults.

    `place` is the workspace the job is recorded in, or a `JobHost` (a team server's worker);
    `container` a compute of type docker, on which a job whose environment is an image runs in it.
    """
    host = as_host(place)
    return run_to_end(
        host,
        job_id,
        "mlyard",
        lambda log, workdir: _CommandEngine(host, job_id, job, log, workdir, container),
        on_log,
        claim,
    )


@dataclass
class _CommandEngine:
    host: JobHost
    job_id: str
    job: ResolvedCommandJob
    log: JobLog
    workdir: Path
    container: Compute | None

    def run(self) -> RunResult:
        return _execute(self.host, self.job_id, self.job, self.log, self.workdir, self.container)

    def close(self) -> None:
        pass  # the process is stopped by `_run_process` however it ends

    def summary(self) -> RunSummary | None:
        return None


def _execute(
    host: JobHost, job_id: str, job: ResolvedCommandJob, log: JobLog, workdir: Path, container: Compute | None
) -> RunResult:
    workdir.mkdir(parents=True, exist_ok=True)
    image = _container_environment(job, container)
    python = Path(sys.executable) if image else job_python(host.build_log_workspace(), job, log)
    code_dir = _working_copy(host, job, workdir)
    if job.code is not None:
        host.set_code(job_id, _code_record(job).model_dump(mode="json"))
    input_values = {
        name: _materialize(host, job_id, name, given, workdir) for name, given in job.inputs.items()
    }
    output_paths = {name: _output_path(workdir, name, output) for name, output in job.outputs.items()}
    command = render_command(
        job.command, input_values, {k: str(v) for k, v in output_paths.items()},
        {key: str(value) for key, value in job.search_space.items()},
    )  # fmt: skip
    log.write(f"[mlyard] running in {code_dir}: {command}\n")
    env = _process_env(host, job_id, job, python, in_container=image is not None)
    argv = None
    if image is not None and container is not None:
        runtime = find_runtime(container.address, container.name)
        tag = runtime.image_for(image, log.write)
        mounts = [workdir, *(Path(value).parent for value in _input_paths(job, input_values))]
        argv = runtime.run_command(
            tag, command, code_dir, mounts, env, job.environment_variables, f"mlyard-{job_id}"
        )
        log.write(f"[mlyard] in a container of image {tag} ({runtime.name})\n")
    result = _run_process(host, job_id, command, code_dir, env, job, log, argv)
    if result.status == JobStatus.COMPLETED:
        for name, output in job.outputs.items():
            info = host.store_output(job_id, name, output, output_paths[name])
            if info.asset_kind:
                log.write(f"[mlyard] output {name} registered as {info.asset_kind} {info.asset_ref}\n")
    return result


def job_python(workspace: Workspace | None, job: ResolvedCommandJob, log: JobLog) -> Path:
    """The interpreter a job runs with: its environment's (built on first use), or mlyard's own.

    An environment that is only an image runs on a plain environment of this machine's Python:
    the log says so first, in the one line the environment carries (`assumed`)."""
    if job.environment is None:
        return Path(sys.executable)
    from mlyard.runtime.environments import prepare_environment

    environment = ResolvedEnvironment.model_validate(job.environment)
    if environment.assumed:
        log.write(f"[mlyard] warning: {environment.assumed}\n")
    return prepare_environment(workspace, environment, log=log.write).python


def _container_environment(job: ResolvedCommandJob, container: Compute | None) -> ResolvedEnvironment | None:
    """The environment to run in its container: on a docker compute, one that names an image."""
    if container is None or job.environment is None:
        return None
    environment = ResolvedEnvironment.model_validate(job.environment)
    return environment if (environment.image or environment.build_context) else None


def _input_paths(job: ResolvedCommandJob, values: dict[str, str | None]) -> list[str]:
    """The local paths of asset inputs (literal inputs are no paths to mount)."""
    return [
        value for name, value in values.items()
        if value is not None and (given := job.inputs.get(name)) is not None and given.source != "literal"
    ]  # fmt: skip


def _run_process(
    host: JobHost,
    job_id: str,
    command: str,
    cwd: Path,
    env: dict[str, str],
    job: ResolvedCommandJob,
    log: JobLog,
    container_argv: list[str] | None = None,
) -> RunResult:
    shell = "/bin/bash" if Path("/bin/bash").exists() else "/bin/sh"
    argv = container_argv or [shell, "-c", command]
    if host.guards_processes:  # a worker's job must not outlive the worker
        argv = [sys.executable, "-m", "mlyard.runtime.process_guard", str(os.getpid()), *argv]
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: signals reach everything it starts
    )
    pump = threading.Thread(target=log.pump, args=(process,), name=f"log-{job_id}", daemon=True)
    pump.start()
    started = time.monotonic()
    last_check = last_beat = started
    stop_reason: tuple[JobStatus, str] | None = None
    while True:
        try:  # returns the moment the process ends: a quick step costs no polling delay
            process.wait(timeout=POLL_SECONDS)
            break
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if job.timeout_seconds is not None and now - started > job.timeout_seconds:
            stop_reason = (JobStatus.FAILED, f"timed out after {job.timeout_seconds} s (limits.timeout)")
        elif now - last_check >= STATUS_CHECK_SECONDS:
            last_check = now
            beat = now - last_beat >= host.heartbeat_seconds
            status = host.check(job_id, heartbeat=beat)
            last_beat = now if beat else last_beat
            if status == JobStatus.CANCEL_REQUESTED or status.is_terminal:
                stop_reason = (JobStatus.CANCELED, "canceled by request")
        if stop_reason is not None:
            log.write(f"[mlyard] stopping the job: {stop_reason[1]}\n")
            _stop(process)
            break
        log.sync_if_due()
    process.wait()
    pump.join(timeout=5)
    if process.stdout is not None:
        process.stdout.close()
    if stop_reason is not None:
        return RunResult(stop_reason[0], stop_reason[1], process.returncode)
    if process.returncode != 0:
        tail = log.tail()
        return RunResult(
            JobStatus.FAILED,
            f"command exited with code {process.returncode}; last lines of the log:\n{tail}",
            process.returncode,
        )
    return RunResult(JobStatus.COMPLETED, None, 0)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group, SIGKILL if it is still there after the grace period."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=CANCEL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _process_env(
    host: JobHost, job_id: str, job: ResolvedCommandJob, python: Path, in_container: bool = False
) -> dict[str, str]:
    # Where the job logs is the host's to say, never inherited from whoever started the runner.
    inherited = (*PLACE_VARIABLES, *INHERITED_VARIABLES)
    env = {key: value for key, value in os.environ.items() if key not in inherited}
    env.update(job.environment_variables)
    env.update(host.process_environment(job_id))
    # An image's own Python cannot be asked cheaply: in a container the variables are always set.
    if ENV_TRACKING_URI not in job.environment_variables and (in_container or has_mlflow(python)):
        # As Azure ML does: mlflow.log_* and autolog inside the job write to it.
        env.update(mlflow_variables(host.mlflow_target(), job_id))
    env[ENV_JOB_ID] = job_id
    env["AZUREML_RUN_ID"] = job_id  # scripts written for Azure ML read it
    env["PYTHONUNBUFFERED"] = "1"  # so the log streams as the job prints
    # `python` in the command is the environment's interpreter.
    env["PATH"] = os.pathsep.join([str(python.parent), env.get("PATH", "")])
    env.pop("VIRTUAL_ENV", None)
    return env


def _working_copy(host: JobHost, job: ResolvedCommandJob, workdir: Path) -> Path:
    """The job runs in its own copy of the code, so editing the source meanwhile changes nothing.

    Stored code (`code_artifact`) wins over the folder it came from, which may be on another machine.
    """
    target = workdir / "code"
    if job.code is None:
        target.mkdir(parents=True, exist_ok=True)
        return target
    source = Path(job.code)
    if job.code_artifact is not None:
        # A single-file `code:` is stored as a folder holding that file: copying it gives the same.
        digest = job.code_hash or job.code_artifact.rsplit("/", 1)[-1]
        source = host.code_folder(job.code_artifact, digest, scratch_root() / "code-cache")
    if source.is_file():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / source.name)
    else:
        copy_source_tree(source, target)
    return target


def _code_record(job: ResolvedCommandJob) -> CodeSnapshot:
    from mlyard.services.tracking.run_context import git_state

    assert job.code is not None
    folder = Path(job.code)
    commit, branch, dirty = git_state(folder if folder.is_dir() else folder.parent)
    return CodeSnapshot(
        source_dir=str(folder),
        source_hash=job.code_hash,
        git_commit=commit,
        git_branch=branch,
        git_dirty=dirty,
    )


def _materialize(
    host: JobHost, job_id: str, name: str, given: ResolvedInput | None, workdir: Path
) -> str | None:
    """The value a command's `${{inputs.name}}` becomes: a literal, or a local path to the data."""
    if given is None:
        return None
    if given.source == "literal":
        return str(given.value)
    path = host.input_path(given, workdir / "inputs" / name)
    if given.source in ("data", "model"):
        assert given.name is not None and given.version is not None
        host.record_input(job_id, DataInput(kind=given.source, name=given.name, version=given.version))
    if given.mode in ("download", "rw_mount") and not path.is_relative_to(workdir):
        # The job may change a writable input; it gets its own copy, never the stored one.
        copy = workdir / "inputs" / name / path.name
        copy.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            shutil.copytree(path, copy)
        else:
            shutil.copy2(path, copy)
        path = copy
    return str(path)


def _output_path(workdir: Path, name: str, output: JobOutput) -> Path:
    """Where the job writes an output: a folder, or for `uri_file` a file named after the output."""
    folder = workdir / "outputs" / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name if output.type == "uri_file" else folder
