"""`mlyard.start_run()`, `mlyard.log_metric()` and friends: the active-run API for scripts.

Inside a job started by mlyard (`MLYARD_JOB_ID` set by the runner) the calls write to that job;
outside one, the first call starts a local run. Whatever is buffered is written at interpreter
exit, and a run started here is ended then too: Failed if the script died of an exception.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from mlyard.client.run import Run, flush_pending
from mlyard.entities.job import JobStatus
from mlyard.entities.model import ModelVersion
from mlyard.errors import Conflict
from mlyard.services import jobs as job_service
from mlyard.services.run_context import code_snapshot, runtime_info
from mlyard.services.workspace import open_workspace

ENV_JOB_ID = "MLYARD_JOB_ID"

_lock = threading.RLock()
_active: list[Run] = []
_uncaught: list[str] = []
_exit_hook_installed = False


def start_run(
    experiment: str | None = None,
    display_name: str | None = None,
    tags: dict[str, Any] | None = None,
    workspace: str | os.PathLike[str] | None = None,
    nested: bool = False,
    job_id: str | None = None,
) -> Run:
    """Start a run (or attach to job `job_id`) and make it the active one; use it as `with`."""
    with _lock:
        if _active and not nested and job_id is None:
            raise Conflict(
                f"run {_active[-1].id} is already active; end it with mlyard.end_run() or pass "
                "nested=True to start a child run"
            )
        ws = open_workspace(workspace)
        if job_id is not None:
            job_service.get_job(ws, job_id)
            run = Run(ws, job_id, owns_job=False)
        else:
            parent = _active[-1].id if (_active and nested) else None
            job = job_service.start_job(
                ws,
                experiment=experiment or os.environ.get("MLYARD_EXPERIMENT_NAME"),
                display_name=display_name,
                tags=job_service.check_tags(tags or {}),
                code=code_snapshot(),
                runtime=runtime_info(),
                parent_job_id=parent,
            )
            run = Run(ws, job.id)
        _active.append(run)
        _install_exit_hook()
        return run


def active_run() -> Run | None:
    with _lock:
        return _active[-1] if _active else None


def active_run_or_start() -> Run:
    with _lock:
        if _active:
            return _active[-1]
        job_id = os.environ.get(ENV_JOB_ID)
        return start_run(job_id=job_id) if job_id else start_run()


def end_run(status: JobStatus | str = JobStatus.COMPLETED) -> None:
    with _lock:
        if not _active:
            return
        run = _active[-1]
    run.end(JobStatus(status))
    forget_run(run)


def forget_run(run: Run) -> None:
    with _lock:
        if run in _active:
            _active.remove(run)


def log_param(key: str, value: Any) -> None:
    active_run_or_start().log_param(key, value)


def log_params(params: dict[str, Any]) -> None:
    active_run_or_start().log_params(params)


def log_metric(key: str, value: Any, step: int | None = None, timestamp: int | None = None) -> None:
    active_run_or_start().log_metric(key, value, step, timestamp)


def log_metrics(metrics: dict[str, Any], step: int | None = None, timestamp: int | None = None) -> None:
    active_run_or_start().log_metrics(metrics, step, timestamp)


def set_tag(key: str, value: Any) -> None:
    active_run_or_start().set_tag(key, value)


def set_tags(tags: dict[str, Any]) -> None:
    active_run_or_start().set_tags(tags)


def log_artifact(local_path: str | os.PathLike[str], artifact_path: str | None = None) -> str:
    return active_run_or_start().log_artifact(local_path, artifact_path)


def log_artifacts(local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> str:
    return active_run_or_start().log_artifacts(local_dir, artifact_path)


def log_dict(dictionary: dict[str, Any], artifact_file: str) -> str:
    return active_run_or_start().log_dict(dictionary, artifact_file)


def log_text(text: str, artifact_file: str) -> str:
    return active_run_or_start().log_text(text, artifact_file)


def log_figure(figure: Any, artifact_file: str) -> str:
    return active_run_or_start().log_figure(figure, artifact_file)


def log_model(
    model: Any,
    name: str,
    flavor: str | None = None,
    register: bool = True,
    input_example: Any = None,
    description: str | None = None,
    tags: dict[str, str] | None = None,
    properties: dict[str, str] | None = None,
) -> ModelVersion | str:
    return active_run_or_start().log_model(
        model, name, flavor, register, input_example, description, tags, properties
    )


def use_data(ref: str) -> Path:
    return active_run_or_start().use_data(ref)


def _install_exit_hook() -> None:
    global _exit_hook_installed
    if _exit_hook_installed:
        return
    _exit_hook_installed = True
    previous_hook = sys.excepthook

    def record_uncaught(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        _uncaught.append(f"{kind.__name__}: {value}")
        previous_hook(kind, value, tb)

    sys.excepthook = record_uncaught
    atexit.register(_at_exit)


def _at_exit() -> None:
    """Write what is buffered and end the runs this process started."""
    try:
        flush_pending()
    except Exception as exc:  # noqa: BLE001 - at exit, report rather than raise
        print(f"mlyard: could not write buffered run data at exit: {exc}", file=sys.stderr)
    with _lock:
        runs = list(reversed(_active))
        _active.clear()
    for run in runs:
        try:
            if _uncaught:
                run.end(JobStatus.FAILED, _uncaught[-1])
            else:
                run.end(JobStatus.COMPLETED)
        except Exception as exc:  # noqa: BLE001
            print(f"mlyard: could not end run {run.id} at exit: {exc}", file=sys.stderr)
