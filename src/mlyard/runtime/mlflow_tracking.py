"""MLflow inside jobs: the variables that make `mlflow.log_*` and `autolog` write to the running job.

Azure ML's logging story is MLflow: in a job, the platform sets `MLFLOW_TRACKING_URI` and
`MLFLOW_RUN_ID`, so `mlflow.log_metric(...)` (or `mlflow.start_run()`, which resumes that run)
writes to the job. mlyard does the same for every command job — a submitted one, a pipeline step,
a sweep trial, a parallel mini-batch — whose interpreter can import `mlflow`; `mlyard.log_*`
keep working alongside, both writing to the same job (the job id is the MLflow run id).

Where the URI points is the job host's to say (`JobHost.mlflow_target`):
  - a worker of a team server: that server's MLflow API, with the worker's key as the token;
  - a workspace served by a running team server on this machine (its `server.json`): that server;
  - otherwise an embedded workspace with no server: a loopback MLflow API for this process
    (`python -m mlyard.server.mlflow.loopback`); its port is bound at once and its server started
    when a job first connects, so a job that never calls mlflow pays nothing and a pipeline,
    sweep or parallel job pays the server's start-up (a second or two) once, not per child.

Why a loopback server rather than an MLflow tracking-store plugin (`mlyard:` URIs): the MLflow
client's artifact, logged-model and registry calls (`log_model`, `registered_model_name=`) all
go through the REST API the server already implements and tests against the real client; a plugin
would implement MLflow's store, artifact-repository and registry interfaces a second time, and
would need mlyard's entry points visible from every job environment. The loopback server is the
same code as the team server's, so a job logs the same way embedded and through a server.

A job that sets `MLFLOW_TRACKING_URI` itself (its `environment_variables`) keeps its own.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from mlyard.runtime.runner_process import scratch_root
from mlyard.services.workspaces.server_file import find_server, local_token
from mlyard.services.workspaces.workspace import CONFIG_FILE, Workspace
from mlyard.services.workspaces.workspace_location import ENV_ARTIFACTS, ENV_DB, ENV_WORKSPACE

ENV_TRACKING_URI = "MLFLOW_TRACKING_URI"
ENV_TRACKING_TOKEN = "MLFLOW_TRACKING_TOKEN"
ENV_RUN_ID = "MLFLOW_RUN_ID"
# Inherited from whoever started the runner, these would send the job's logging elsewhere.
INHERITED_VARIABLES = (
    ENV_TRACKING_URI, ENV_TRACKING_TOKEN, ENV_RUN_ID, "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME",
)  # fmt: skip
LOOPBACK_MODULE = "mlyard.server.mlflow.loopback"  # a process of its own: started, never imported
ENV_LISTENER_FD = "MLYARD_LOOPBACK_FD"  # the listening socket it serves (server/mlflow/loopback.py)
SERVED_AS = "default"  # the workspace's name on the loopback server


@dataclass(frozen=True)
class MlflowTarget:
    """An MLflow tracking URI for the job's process, and the bearer token it needs (if any)."""

    uri: str
    token: str | None = None


def mlflow_variables(target: MlflowTarget | None, job_id: str) -> dict[str, str]:
    """What the job's process gets so that the MLflow client writes to job `job_id`."""
    if target is None:
        return {}
    variables = {ENV_TRACKING_URI: target.uri, ENV_RUN_ID: job_id}
    if target.token:
        variables[ENV_TRACKING_TOKEN] = target.token
    return variables


@lru_cache(maxsize=32)
def has_mlflow(python: Path) -> bool:
    """Whether `python` (the job's interpreter) can import mlflow; asked once per interpreter."""
    if Path(sys.executable) == python:
        import importlib.util

        return importlib.util.find_spec("mlflow") is not None
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('mlflow') is None)"
    try:
        return subprocess.run([str(python), "-c", probe], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def workspace_target(workspace: Workspace) -> MlflowTarget:
    """The MLflow API of a workspace this process opened: its team server's when one runs on this
    machine, else this process's loopback server for it (started now if it is not running)."""
    record = find_server(workspace.path)
    if record is not None:
        return MlflowTarget(f"{record.url}/mlflow/{record.workspace}", record.local_token)
    return _loopback(workspace)


def loopback_log() -> Path:
    """What this process's loopback MLflow server printed (beside the runners' own logs)."""
    return scratch_root() / "runners" / f"mlflow-loopback-{os.getpid()}.log"


class _Loopback:
    """A loopback port for one workspace's MLflow API, served from the first connection on.

    The port is bound at once (so jobs get their URI and token without waiting), and a thread
    starts the server process — a second or more of imports — only when a connection is pending;
    that connection waits in the backlog meanwhile. The server holds the listening socket and
    this process holds its stdin: it ends when this process ends.
    """

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.secret = secrets.token_bytes(32)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        port = self.listener.getsockname()[1]
        self.target = MlflowTarget(
            f"http://127.0.0.1:{port}/mlflow/{SERVED_AS}", local_token(self.secret, SERVED_AS)
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.failed = False
        threading.Thread(target=self._start_on_first_connection, name="mlflow-loopback", daemon=True).start()

    def _start_on_first_connection(self) -> None:
        try:
            select.select([self.listener], [], [])
            self.process = self._start()
        except OSError:  # the listener was closed (stop) or the server could not start
            self.failed = True
        finally:
            self.listener.close()  # the server has its own copy; a failed start refuses connections

    def _start(self) -> subprocess.Popen[bytes]:
        workspace = self.workspace
        env = {key: value for key, value in os.environ.items() if key not in (ENV_DB, ENV_ARTIFACTS)}
        env[ENV_WORKSPACE] = str(workspace.path)
        if not (workspace.path / CONFIG_FILE).is_file():  # a workspace given by its URLs alone
            env[ENV_DB], env[ENV_ARTIFACTS] = workspace.db_url, workspace.artifacts.root_url
        env[ENV_LISTENER_FD] = str(self.listener.fileno())
        log = loopback_log()  # why it stopped, if it does: the job's mlflow only sees a closed port
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", LOOPBACK_MODULE],
                env=env,
                stdin=subprocess.PIPE,
                stdout=output,
                stderr=subprocess.STDOUT,
                pass_fds=(self.listener.fileno(),),
                start_new_session=True,  # a cancel signals the job's process group, never this server
            )
        assert process.stdin is not None
        process.stdin.write(self.secret.hex().encode() + b"\n")
        process.stdin.flush()
        return process

    def alive(self) -> bool:
        return not self.failed and (self.process is None or self.process.poll() is None)

    def stop(self) -> None:
        if self.process is None:
            self.listener.close()
            return
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


_loopbacks: dict[str, _Loopback] = {}
_loopbacks_lock = threading.Lock()


def _loopback(workspace: Workspace) -> MlflowTarget:
    key = f"{workspace.path}|{workspace.db_url}"
    with _loopbacks_lock:  # children started at once in threads share one server
        server = _loopbacks.get(key)
        if server is None or not server.alive():
            server = _loopbacks[key] = _Loopback(workspace)
        return server.target


def stop_loopbacks() -> None:
    """Stop this process's loopback servers (they also stop by themselves when it exits)."""
    with _loopbacks_lock:
        servers = list(_loopbacks.values())
        _loopbacks.clear()
    for server in servers:
        server.stop()
