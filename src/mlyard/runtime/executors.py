"""Executors: where a command job's process runs — on this machine (in a container on a compute of
type docker), or as a task on a Ray cluster.

Both run the same command runner, so a step, trial or partition behaves the same on either;
only the machine that runs the subprocess differs. On Ray the task reopens the workspace by its
folder, database URL and artifact URL: for a cluster beyond this machine, use a PostgreSQL
workspace and an artifact store every node reaches.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from mlyard.entities.assets.compute import Compute
from mlyard.entities.jobs.job import JobStatus
from mlyard.entities.jobs.job_spec import ResolvedCommandJob
from mlyard.errors import InvalidArgument
from mlyard.runtime.command_runner import run_command_job
from mlyard.runtime.job_log import RunResult
from mlyard.services.assets.computes import check_compute
from mlyard.services.workspaces.workspace import Workspace


class Executor(Protocol):
    def run(self, workspace: Workspace, job_id: str, job: ResolvedCommandJob) -> RunResult: ...


@dataclass
class LocalExecutor:
    """The job's process runs on this machine, managed by a thread of this runner — in its
    environment's container when `container` is a compute of type docker (runtime/containers.py)."""

    container: Compute | None = None

    def run(self, workspace: Workspace, job_id: str, job: ResolvedCommandJob) -> RunResult:
        return run_command_job(workspace, job_id, job, container=self.container)


@dataclass
class RayExecutor:
    """The job runs as a Ray task (the task starts the job's process on the node Ray picks)."""

    address: str | None  # None: start (or join) a Ray instance on this machine

    def run(self, workspace: Workspace, job_id: str, job: ResolvedCommandJob) -> RunResult:
        import ray

        connect_ray(self.address)
        resources = job.resources or {}
        options: dict[str, Any] = {"num_cpus": float(resources.get("cpu", 1))}
        if resources.get("gpu"):
            options["num_gpus"] = float(resources["gpu"])
        if resources.get("memory"):
            options["memory"] = _bytes(resources["memory"])
        task = _ray_task().options(**options)
        reference = task.remote(
            str(workspace.path),
            workspace.db_url,
            workspace.artifacts.root_url,
            job_id,
            job.model_dump(mode="json"),
        )
        status, error, exit_code = ray.get(reference)
        return RunResult(JobStatus(status), error, exit_code)


_ray_lock = threading.Lock()
_ray_function: Any = None


def connect_ray(address: str | None) -> None:
    """Join the Ray cluster at `address`, or start a private instance here; once per process.

    A Ray instance started here has its processes die with the *thread* that started them (Linux
    ties PR_SET_PDEATHSIG to the thread), and steps run in short-lived worker threads; so the
    start happens in the main thread, or in a keeper thread that lives as long as the process.
    """
    import ray

    with _ray_lock:
        if ray.is_initialized():
            return
        if threading.current_thread() is threading.main_thread():
            _init_ray(address)
            return
        started: queue.Queue[BaseException | None] = queue.Queue()

        def keep() -> None:
            try:
                _init_ray(address)
            except BaseException as exc:
                started.put(exc)
                return
            started.put(None)
            threading.Event().wait()

        threading.Thread(target=keep, name="ray-keeper", daemon=True).start()
        failure = started.get()
        if failure is not None:
            raise failure


def _init_ray(address: str | None) -> None:
    import ray

    ray.init(
        address=address,
        include_dashboard=False,
        log_to_driver=False,
        ignore_reinit_error=True,
        configure_logging=False,
    )


def _ray_task() -> Any:
    global _ray_function
    with _ray_lock:
        if _ray_function is None:
            import ray

            _ray_function = ray.remote(max_retries=0)(_run_on_node)
        return _ray_function


def _run_on_node(
    path: str, db_url: str, artifacts_url: str, job_id: str, job: dict[str, Any]
) -> tuple[str, str | None, int | None]:
    """Runs inside a Ray worker: reopen the workspace and run the job like the local executor."""
    from mlyard.services.workspaces.workspace import CONFIG_FILE, open_workspace

    if (Path(path) / CONFIG_FILE).is_file():  # this node shares the workspace folder
        workspace = open_workspace(path, create=False)
    else:  # another machine: the same database and artifact store, a local folder for caches
        workspace = open_workspace(path, db=db_url, artifacts=artifacts_url)
    result = run_command_job(workspace, job_id, ResolvedCommandJob.model_validate(job))
    return result.status.value, result.error, result.exit_code


def _bytes(value: Any) -> int:
    """`2Gi`, `512Mi`, `1G`, or a number of bytes."""
    text = str(value).strip()
    units = {
        "ki": 2**10,
        "mi": 2**20,
        "gi": 2**30,
        "ti": 2**40,
        "k": 10**3,
        "m": 10**6,
        "g": 10**9,
        "t": 10**12,
    }
    for suffix, factor in sorted(units.items(), key=lambda item: -len(item[0])):
        if text.lower().endswith(suffix):
            return int(float(text[: -len(suffix)]) * factor)
    try:
        return int(float(text))
    except ValueError:
        raise InvalidArgument(f"resources.memory: expected bytes or a size like 2Gi, got {value!r}") from None


def executor_for(workspace: Workspace, compute: str | None) -> Executor:
    target: Compute = check_compute(workspace, compute, "compute")
    if target.type == "ray":
        return RayExecutor(target.address)
    return LocalExecutor(target if target.type == "docker" else None)
