"""A tracked run as the training script sees it, and which run is active in this process.

Inside a job started by mlyard (`MLYARD_JOB_ID` set by the runner) the active run is that job;
outside one, the first logging call starts a local run. A run started here is ended at
interpreter exit if the script did not end it: Failed if the script died of an exception.

Logging must not slow training down, so params, tags and metric points collect in memory and are
written in one transaction when the buffer is large or old enough, when the run ends, before any
read through the SDK, at interpreter exit and when the `with` block raises. Validation happens at
the call, so a bad value fails where it was logged, not at the next flush; a batch the store
still refuses (a param another writer set differently) is written piece by piece, so the good
values are kept and the run still ends.
"""

from __future__ import annotations

import atexit
import io
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from mlyard.client.run_buffer import add_pending, discard_pending, flush_pending
from mlyard.entities.jobs.job import ENV_JOB_ID, Job, JobStatus, Metric
from mlyard.entities.registry.model import ModelVersion
from mlyard.errors import Conflict, MlyardError
from mlyard.flavors import guess_flavor
from mlyard.services.model_registry import models as model_service
from mlyard.services.tracking import jobs as job_service
from mlyard.services.tracking.run_context import code_snapshot, runtime_info

if TYPE_CHECKING:
    from mlyard.client.mlclient import MLClient

FLUSH_POINTS = 5_000
FLUSH_SECONDS = 2.0

__all__ = ["Run", "active_run", "end_run", "flush_pending", "start_run"]


class Run:
    """One run record being written; use `mlyard.start_run()` to get one."""

    def __init__(self, client: MLClient, job_id: str, owns_job: bool = True) -> None:
        self.client = client
        self.id = job_id
        # False when attached to a job started elsewhere (a runner); then we never end it.
        self.owns_job = owns_job
        self.ended = False
        self._lock = threading.Lock()
        self._params: dict[str, str] = {}
        self._logged_params: dict[str, str] = {}
        self._tags: dict[str, str] = {}
        self._metrics: list[Metric] = []
        self._last_flush = time.monotonic()
        self._registered = False  # whether this run is in `_pending`

    # --- params, metrics, tags -----------------------------------------------------------------

    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    def log_params(self, params: dict[str, Any]) -> None:
        checked = job_service.check_params(params)
        with self._lock:
            for key, value in checked.items():
                before = self._logged_params.get(key)
                if before is not None and not job_service.same_param_value(before, value):
                    raise Conflict(
                        f"param {key!r} of job {self.id} is already {before!r}, cannot change it "
                        f"to {value!r}; params are immutable: log a metric or tag instead"
                    )
            self._logged_params.update(checked)
            self._params.update(checked)
        self._touch()

    def log_metric(self, key: str, value: Any, step: int | None = None, timestamp: int | None = None) -> None:
        point = job_service.make_metric(key, value, step, timestamp)
        with self._lock:
            self._metrics.append(point)
            full = len(self._metrics) >= FLUSH_POINTS
        self._touch(force=full)

    def log_metrics(
        self, metrics: dict[str, Any], step: int | None = None, timestamp: int | None = None
    ) -> None:
        stamp = timestamp if timestamp is not None else int(time.time() * 1000)
        points = [job_service.make_metric(k, v, step, stamp) for k, v in metrics.items()]
        with self._lock:
            self._metrics.extend(points)
            full = len(self._metrics) >= FLUSH_POINTS
        self._touch(force=full)

    def set_tag(self, key: str, value: Any) -> None:
        self.set_tags({key: value})

    def set_tags(self, tags: dict[str, Any]) -> None:
        checked = job_service.check_tags(tags)
        with self._lock:
            self._tags.update(checked)
        self._touch()

    # --- artifacts, data, models ---------------------------------------------------------------

    def log_artifact(self, local_path: str | os.PathLike[str], artifact_path: str | None = None) -> str:
        return self.client.jobs.log_artifact(self.id, Path(local_path), artifact_path)

    def log_artifacts(self, local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> str:
        return self.client.jobs.log_artifacts(self.id, Path(local_dir), artifact_path)

    def log_text(self, text: str, artifact_file: str) -> str:
        return self.client.jobs.log_bytes(self.id, text.encode(), artifact_file)

    def log_dict(self, dictionary: dict[str, Any], artifact_file: str) -> str:
        """Store a dict as JSON, or YAML when `artifact_file` ends in .yml/.yaml."""
        if artifact_file.endswith((".yml", ".yaml")):
            import yaml

            text = yaml.safe_dump(dictionary, sort_keys=False)
        else:
            text = json.dumps(dictionary, indent=2, default=str)
        return self.log_text(text, artifact_file)

    def log_figure(self, figure: Any, artifact_file: str) -> str:
        """Store a matplotlib figure as an image; the format follows the file's suffix."""
        buffer = io.BytesIO()
        suffix = Path(artifact_file).suffix.lstrip(".") or "png"
        figure.savefig(buffer, format=suffix)
        return self.client.jobs.log_bytes(self.id, buffer.getvalue(), artifact_file)

    def use_data(self, ref: str) -> Path:
        """Resolve a data asset to a local path and record that this run read it."""
        asset = self.client.data.get(ref)
        self.client.jobs.log_input(self.id, "data", asset.name, asset.version)
        return self.client.data.local_path(asset.ref)

    def log_model(
        self,
        model: Any,
        name: str,
        flavor: str | None = None,
        register: bool = True,
        input_example: Any = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
    ) -> ModelVersion | str:
        """Save `model` with its flavor; register a new version of `name` (the default) linked
        to this run, or keep it as a run artifact under `name/` when `register=False`."""
        chosen = flavor or guess_flavor(model)
        self.flush()
        if register:
            return self.client.models.log(
                model, name, chosen, input_example, description, tags, properties, job_id=self.id
            )
        with tempfile.TemporaryDirectory(prefix="mlyard-model-") as staging:
            folder = Path(staging) / name
            folder.mkdir()
            model_service.save_model_folder(model, folder, chosen, input_example)
            return self.log_artifact(folder)

    # --- lifecycle -----------------------------------------------------------------------------

    @property
    def info(self) -> Job:
        self.flush()
        return self.client.jobs.get(self.id)

    def flush(self) -> None:
        """Write what is buffered. A refused batch is written again piece by piece, so a refused
        value (a param another writer set differently, say) cannot take the good ones with it;
        the first refusal is then raised, and the refused values are not retried."""
        params, tags, metrics = self._take_buffer()
        if not (params or tags or metrics):
            return
        try:
            self.client.jobs.log_batch(self.id, params, metrics, tags)
            return
        except BaseException as exc:
            if not _is_refusal(exc):
                self._restore_buffer(params, tags, metrics)  # a later flush retries it
                raise
        refusals = self._write_apart(params, tags, metrics)
        if refusals:
            raise refusals[0]

    def end(self, status: JobStatus = JobStatus.COMPLETED, error: str | None = None) -> None:
        """Write what is buffered and, if this run started its job, end it (one transaction).

        If that transaction is refused, the data is written piece by piece and the run is ended
        anyway, so one refused value never leaves it Running; the first refusal is then raised.
        """
        if self.ended:
            return
        if not self.owns_job:
            self.flush()
            self._forget()
            return
        params, tags, metrics = self._take_buffer()
        refusals: list[BaseException] = []
        try:
            self.client.jobs.end_run(self.id, status, error, params, metrics, tags)
        except BaseException as exc:
            if not _is_refusal(exc):
                self._restore_buffer(params, tags, metrics)
                raise
            refusals = self._write_apart(params, tags, metrics)
            self.client.jobs.end_run(self.id, status, error)  # a refused end itself raises here
        self._forget()
        if refusals:
            raise refusals[0]

    def _forget(self) -> None:
        self.ended = True
        discard_pending(self)
        self._registered = False

    def _write_apart(
        self, params: dict[str, str], tags: dict[str, str], metrics: list[Metric]
    ) -> list[BaseException]:
        """Write a refused batch as metrics and tags together, then each param alone; returns
        the refusals. A failure that is not a refusal puts what is unwritten back and raises."""
        pieces = [({}, metrics, tags), *(({key: value}, [], {}) for key, value in params.items())]
        refusals: list[BaseException] = []
        for index, (some_params, some_metrics, some_tags) in enumerate(pieces):
            if not (some_params or some_metrics or some_tags):
                continue
            try:
                self.client.jobs.log_batch(self.id, some_params, some_metrics, some_tags)
            except BaseException as exc:
                if not _is_refusal(exc):
                    for rest_params, rest_metrics, rest_tags in pieces[index:]:
                        self._restore_buffer(rest_params, rest_tags, rest_metrics)
                    raise
                refusals.append(exc)
        return refusals

    def _take_buffer(self) -> tuple[dict[str, str], dict[str, str], list[Metric]]:
        with self._lock:
            taken = self._params, self._tags, self._metrics
            self._params, self._tags, self._metrics = {}, {}, []
            self._last_flush = time.monotonic()
        return taken

    def _restore_buffer(self, params: dict[str, str], tags: dict[str, str], metrics: list[Metric]) -> None:
        """Put unwritten data back so a retry (or the exit flush) can still write it."""
        with self._lock:
            self._params = {**params, **self._params}
            self._tags = {**tags, **self._tags}
            self._metrics = metrics + self._metrics

    def _touch(self, force: bool = False) -> None:
        if not self._registered:
            add_pending(self)
            self._registered = True
        if force or time.monotonic() - self._last_flush >= FLUSH_SECONDS:
            self.flush()

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self.end(JobStatus.COMPLETED)
            elif issubclass(exc_type, KeyboardInterrupt):
                self.end(JobStatus.CANCELED, "interrupted (KeyboardInterrupt)")
            else:
                self.end(JobStatus.FAILED, f"{exc_type.__name__}: {exc}")
        finally:
            forget_run(self)

    def __repr__(self) -> str:
        return f"<mlyard.Run id={self.id!r}>"

    @classmethod
    def get_context(cls) -> Run:
        """The run of the job this code runs in, or the active run, or a new local run."""
        return active_run_or_start()


def _is_refusal(exc: BaseException) -> bool:
    """The store or server refused the data itself (a 4xx): sending it again gets the same answer.
    Anything else (an unreachable server, a locked database) may pass, so the data is kept."""
    return isinstance(exc, MlyardError) and exc.http_status < 500


# --- the active run: the one piece of process-wide state -------------------------------------


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
        from mlyard.client.mlclient import client_for

        client = client_for(workspace)
        if job_id is not None:
            client.jobs.get(job_id)
            run = Run(client, job_id, owns_job=False)
        else:
            parent = _active[-1].id if (_active and nested) else None
            if experiment is None and parent is None:
                experiment = os.environ.get("MLYARD_EXPERIMENT_NAME")
            job = client.jobs.create_run(
                experiment=experiment,  # a nested run without one joins its parent's (services)
                display_name=display_name,
                tags=tags,
                parent_job_id=parent,
                code=code_snapshot(),
                runtime=runtime_info(),
            )
            run = Run(client, job.id)
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
    try:
        run.end(JobStatus(status))
    finally:
        if run.ended:  # ended, even if some of its data was refused; else kept to retry at exit
            forget_run(run)


def forget_run(run: Run) -> None:
    with _lock:
        if run in _active:
            _active.remove(run)


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
