"""The scoring workers of a batch job: processes on this machine, or actors on a Ray cluster.

Both kinds do the same: `start()` loads the model once (init() of score.py) and raises
`WorkerInitFailed` with the traceback when that fails; `score(task, timeout)` scores one
mini-batch and returns the worker's reply, raising `WorkerLost` when the worker died or overran
the timeout (it is then stopped; the runner starts a new one); `stop()` ends it.

A worker is always the process `python -m mlyard.serving.batch_worker`; on Ray, an actor starts
it on the node Ray picks and relays to it (so the actor needs nothing of the serving layer), and
the rows come back with the reply for the runner to keep. Ray beyond this machine needs the
model, code and input paths on every node, as for the Ray executor.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Protocol

from mlyard.entities.jobs.job import ENV_JOB_ID
from mlyard.runtime.command_runner import PLACE_VARIABLES
from mlyard.services.batch.batch_results import PartWriter
from mlyard.services.workspaces.workspace import ENV_WORKSPACE, Workspace

INIT_TIMEOUT_SECONDS = 600.0
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
STOP_GRACE_SECONDS = 5.0


def worker_environment(
    workspace: Workspace, job_id: str, variables: dict[str, str], output: Path, workers: int
) -> dict[str, str]:
    """A worker's variables: the deployment's, the job's (`mlyard.log_metric` in score.py writes to
    it), Azure's (`AZUREML_BI_OUTPUT_PATH`), and a share of the cores for math libraries."""
    env = {key: value for key, value in os.environ.items() if key not in PLACE_VARIABLES}
    threads = str(max(1, (os.cpu_count() or 1) // max(1, workers)))
    for variable in THREAD_VARIABLES:  # N workers share the cores instead of each taking all
        env.setdefault(variable, threads)
    env.update(variables)
    env.update({ENV_WORKSPACE: str(workspace.path), ENV_JOB_ID: job_id, "AZUREML_RUN_ID": job_id,
                "PYTHONUNBUFFERED": "1", "AZUREML_BI_OUTPUT_PATH": str(output)})  # fmt: skip
    return env


def worker_python(
    workspace: Workspace, environment: dict[str, Any] | None, log: Callable[[str], None]
) -> Path:
    """The deployment's environment's interpreter (built on first use), or mlyard's own."""
    if environment is None:
        return Path(sys.executable)
    from mlyard.entities.assets.environment_spec import ResolvedEnvironment
    from mlyard.runtime.environments import prepare_environment

    return prepare_environment(workspace, ResolvedEnvironment.model_validate(environment), log=log).python


class WorkerInitFailed(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class WorkerLost(Exception):
    """The worker died, or did not answer in time (it was stopped)."""


class ScoringWorker(Protocol):
    def start(self) -> None: ...

    def score(self, task: dict[str, Any], timeout: float) -> dict[str, Any]: ...

    def stop(self) -> None: ...


class LocalWorker:
    """`python -m mlyard.serving.batch_worker` in the deployment's environment, over two pipes."""

    def __init__(
        self,
        slot: int,
        python: Path,
        config: Path,
        env: dict[str, str],
        cwd: Path,
        log: Callable[[str], None],
    ) -> None:
        self.slot, self.python, self.config, self.env, self.cwd, self.log = (
            slot,
            python,
            config,
            env,
            cwd,
            log,
        )
        self.process: subprocess.Popen[bytes] | None = None
        self._requests: IO[str] | None = None
        self._replies: queue.Queue[dict[str, Any] | None] = queue.Queue()

    def start(self) -> None:
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        argv = [str(self.python), "-m", "mlyard.serving.batch_worker", str(self.config),
                str(request_read), str(reply_write)]  # fmt: skip
        try:
            self.process = subprocess.Popen(
                argv, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, pass_fds=(request_read, reply_write),
            )  # fmt: skip
        finally:
            os.close(request_read)
            os.close(reply_write)
        self._requests = os.fdopen(request_write, "w", encoding="utf-8")
        replies = os.fdopen(reply_read, "r", encoding="utf-8")
        threading.Thread(target=self._read_replies, args=(replies,), daemon=True).start()
        threading.Thread(target=self._pump_output, daemon=True).start()
        ready = self._next_reply(INIT_TIMEOUT_SECONDS)
        if ready is None or not ready.get("ready"):
            self.kill()
            detail = ready.get("error") if ready else None
            raise WorkerInitFailed(detail or f"the worker exited with code {self._exit_code()} while loading")

    def score(self, task: dict[str, Any], timeout: float) -> dict[str, Any]:
        assert self._requests is not None
        try:
            self._requests.write(json.dumps(task) + "\n")
            self._requests.flush()
        except (BrokenPipeError, OSError):
            self.kill()
            raise WorkerLost(f"the worker had exited (code {self._exit_code()})") from None
        reply = self._next_reply(timeout)
        if reply is None:
            alive = self.process is not None and self.process.poll() is None
            self.kill()
            if alive:
                raise WorkerLost(f"timed out after {timeout:g} s (retry_settings.timeout)")
            raise WorkerLost(f"the worker exited with code {self._exit_code()} while scoring")
        return reply

    def stop(self) -> None:
        if self._requests is not None:
            with contextlib.suppress(OSError):
                self._requests.close()  # end of input: the worker runs shutdown() and exits
            self._requests = None
        if self.process is not None:
            try:
                self.process.wait(STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            self.process.wait()
        if self._requests is not None:
            with contextlib.suppress(OSError):
                self._requests.close()
            self._requests = None

    def _next_reply(self, timeout: float) -> dict[str, Any] | None:
        try:
            return self._replies.get(timeout=timeout)
        except queue.Empty:
            return None

    def _read_replies(self, replies: IO[str]) -> None:
        with replies:
            for line in replies:
                with contextlib.suppress(ValueError):
                    self._replies.put(json.loads(line))
        self._replies.put(None)  # the worker closed its end: it exited

    def _pump_output(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        with self.process.stdout as output:
            for raw in output:
                self.log(f"[worker {self.slot}] {raw.decode('utf-8', errors='replace').rstrip()}\n")

    def _exit_code(self) -> int | None:
        if self.process is None:
            return None
        with contextlib.suppress(subprocess.TimeoutExpired):
            return self.process.wait(1)
        return None


class NodeHost:
    """Inside a Ray actor: a `LocalWorker` on this node, its config in a folder of its own."""

    def __init__(self, slot: int, python: str, config: dict[str, Any], env: dict[str, str]) -> None:
        folder = Path(tempfile.mkdtemp(prefix="mlyard-batch-worker-"))
        path = folder / "worker.json"
        path.write_text(json.dumps({**config, "write_parts": False}))
        interpreter = Path(python) if Path(python).exists() else Path(sys.executable)
        self.worker = LocalWorker(slot, interpreter, path, env, folder, _print)

    def start(self) -> None:
        self.worker.start()

    def score(self, task: dict[str, Any], timeout: float) -> dict[str, Any]:
        return self.worker.score(task, timeout)

    def stop(self) -> None:
        self.worker.stop()


def _print(text: str) -> None:
    print(text, end="", flush=True)


class RayWorker:
    """A `NodeHost` actor on the Ray cluster; the runner writes the rows it returns to its part file."""

    def __init__(
        self,
        slot: int,
        address: str | None,
        python: Path,
        config: dict[str, Any],
        env: dict[str, str],
        part: Path,
    ) -> None:
        self.slot, self.address, self.python, self.config, self.env, self.part = (
            slot, address, python, config, env, part,
        )  # fmt: skip
        self.actor: Any = None
        self.writer: PartWriter | None = None

    def start(self) -> None:
        import ray

        from mlyard.runtime.executors import connect_ray

        connect_ray(self.address)
        actor_class = ray.remote(num_cpus=1, max_restarts=0)(NodeHost)
        self.actor = actor_class.remote(self.slot, str(self.python), self.config, self.env)
        try:
            ray.get(self.actor.start.remote(), timeout=INIT_TIMEOUT_SECONDS)
        except Exception as exc:
            self.stop()
            cause = getattr(exc, "cause", None)
            raise WorkerInitFailed(
                cause.detail if isinstance(cause, WorkerInitFailed) else str(exc)
            ) from None
        self.writer = PartWriter(self.part)

    def score(self, task: dict[str, Any], timeout: float) -> dict[str, Any]:
        import ray

        try:
            reply: dict[str, Any] = ray.get(self.actor.score.remote(task, timeout), timeout=timeout + 30)
        except ray.exceptions.GetTimeoutError:
            self.stop()
            raise WorkerLost(f"timed out after {timeout:g} s (retry_settings.timeout)") from None
        except ray.exceptions.RayError as exc:
            self.stop()
            cause = getattr(exc, "cause", None)
            raise WorkerLost(
                str(cause) if isinstance(cause, WorkerLost) else f"the Ray actor died: {exc}"
            ) from None
        header, rows = reply.pop("header", ""), reply.pop("rows", "")
        if reply.get("ok") and self.writer is not None:
            self.writer.write(
                reply["index"], reply["items"], reply["failed_items"], header.encode(), rows.encode()
            )
        return reply

    def stop(self) -> None:
        import ray

        if self.actor is not None:
            with contextlib.suppress(Exception):
                ray.get(self.actor.stop.remote(), timeout=STOP_GRACE_SECONDS + 5)
            with contextlib.suppress(Exception):
                ray.kill(self.actor)
            self.actor = None
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def kill(self) -> None:
        import ray

        if self.actor is not None:
            with contextlib.suppress(Exception):
                ray.kill(self.actor)  # its worker process sees end of input and exits
            self.actor = None
