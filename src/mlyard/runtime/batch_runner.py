"""Runs a batch scoring job: its input in mini-batches, scored by a pool of long-lived workers.

    input ──► mini-batches (rows of a table, groups of files) ──► N workers ──► part files ──► predictions.csv

`instance_count × max_concurrency_per_instance` workers — processes on this machine, or actors
on a Ray cluster — each load the model (or run score.py's init()) once and then score one
mini-batch after another. A mini-batch that fails is tried again up to `retry_settings.max_retries`
times; one that overruns `retry_settings.timeout` has its worker stopped and replaced; once more
items failed than `error_threshold` (-1: any number), the job stops and fails. Every finished
mini-batch is kept in a part file at once (services/batch_results), so a resumed job scores only
the rest. Progress goes to the job's log as `[batch] progress: …` lines (the CLI's progress bar).
"""

from __future__ import annotations

import contextlib
import functools
import json
import queue
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlyard.entities.endpoints.batch_job import RESULT_TAG, ResolvedBatchJob
from mlyard.entities.jobs.job import DataInput, JobStatus, Metric, RunSummary
from mlyard.entities.jobs.job_spec import JobOutput
from mlyard.errors import MlyardError
from mlyard.runtime.batch_output import Plan, failed_rows, plan_mini_batches, write_predictions
from mlyard.runtime.batch_pool import (
    LocalWorker,
    RayWorker,
    ScoringWorker,
    WorkerInitFailed,
    WorkerLost,
    worker_environment,
    worker_python,
)
from mlyard.runtime.child_jobs import CancelWatch
from mlyard.runtime.job_host import LocalJobHost
from mlyard.runtime.job_log import JobLog, LogCallback, RunResult
from mlyard.runtime.run_to_end import run_to_end
from mlyard.runtime.runner_process import scratch_root
from mlyard.services.assets.code_snapshots import code_folder
from mlyard.services.assets.computes import check_compute
from mlyard.services.batch import batch_results as batch_state
from mlyard.services.execution.job_inputs import input_path
from mlyard.services.execution.job_outputs import store_output
from mlyard.services.model_registry.model_layout import scoring_model_dir
from mlyard.services.model_registry.models import get_model_version
from mlyard.services.tracking.jobs import record_input, record_run_data
from mlyard.services.workspaces.workspace import Workspace

PROGRESS_SECONDS = 1.0
TICK_SECONDS = 0.1


def run_batch_job(
    workspace: Workspace, job_id: str, spec: dict[str, Any], on_log: LogCallback | None = None
) -> RunResult:
    job = ResolvedBatchJob.model_validate(spec)
    return run_to_end(
        LocalJobHost(workspace), job_id, "batch",
        lambda log, workdir: BatchEngine(workspace, job_id, job, log, workdir), on_log,
    )  # fmt: skip


class BatchEngine:
    def __init__(
        self, workspace: Workspace, job_id: str, job: ResolvedBatchJob, log: JobLog, workdir: Path
    ) -> None:
        self.workspace, self.job_id, self.job, self.log, self.workdir = workspace, job_id, job, log, workdir
        self.state = batch_state.state_folder(workspace, job_id)
        self.pending: queue.Queue[int] = queue.Queue()
        self.lock = threading.Lock()
        self.attempts: dict[int, int] = {}
        self.failures: dict[int, str] = {}  # mini-batches that failed every attempt
        self.remaining = 0
        self.done = self.items = self.failed_items = 0
        self.stopping: str | None = None
        self.workers: list[ScoringWorker] = []
        self.threads: list[threading.Thread] = []
        self.plan: Plan | None = None
        self.plan_ready = threading.Event()
        self.scoring_seconds = 0.0

    # --- the job ---------------------------------------------------------------------------

    def run(self) -> RunResult:
        job = self.job
        compute = check_compute(self.workspace, job.compute, "compute")
        scorer = f"score.py {job.scoring_script}" if job.scoring_script else "the model's flavor (no-code)"
        self.say(
            f"[batch] endpoint {job.endpoint}, deployment {job.deployment}: model {job.model.name}:"
            f"{job.model.version} scored by {scorer}; {job.workers} worker(s) "
            f"({job.instance_count} × {job.max_concurrency_per_instance}) on {compute.name}"
        )
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.state.mkdir(parents=True, exist_ok=True)
        source = input_path(self.workspace, job.input, self.workdir / "input")
        self._start_pool(self._worker_config(source), compute.type == "ray", compute.address)
        for given in (job.input, job.model):
            if given.source in ("data", "model") and given.name and given.version:
                record_input(self.workspace, self.job_id, DataInput(kind=given.source, name=given.name,
                                                                    version=given.version))  # fmt: skip
        plan = plan_mini_batches(source, job.input.type, job.batch_unit, job.batch_limit, self.workdir)
        finished = self._finished_before(plan)
        unit = "rows" if plan.kind == "rows" else "files"
        per = f"{job.batch_limit:g}{' bytes' if job.batch_unit == 'bytes' else ''}"
        count = len(plan.tasks)
        where = job.input.describe()
        self.say(f"[batch] input {where}: {plan.items} {unit} in {count} mini-batches of up to {per}")
        for record in finished.values():
            self.done += 1
            self.items += record.items
            self.failed_items += record.failed_items
        todo = [i for i in range(len(plan.tasks)) if i not in finished]
        self.remaining = len(todo)
        for index in todo:
            self.pending.put(index)
        self.plan = plan
        started = time.monotonic()
        self.plan_ready.set()
        self._check_threshold()
        result = self._wait(CancelWatch(self.workspace, self.job_id), len(plan.tasks))
        self.scoring_seconds = time.monotonic() - started
        if result is None:
            rate = plan.items / self.scoring_seconds if self.scoring_seconds > 0 else 0.0
            self.say(f"[batch] scored in {self.scoring_seconds:.2f} s ({rate:,.0f} items/s)")
        self.close()
        self._record_metrics(len(plan.tasks))
        return result if result is not None else self._finish(plan)

    def _finished_before(self, plan: Plan) -> dict[int, batch_state.Finished]:
        """The mini-batches this job (an earlier attempt) or the job it resumes already scored."""
        fingerprint = plan.fingerprint(self.job.input.content_hash)
        own = batch_state.read_plan(self.state)
        if own is not None and own != fingerprint:
            self.say("[batch] the input changed since the last attempt: scoring everything again")
            for part in self.state.glob("*.part"):
                part.unlink()
        batch_state.write_plan(self.state, fingerprint)
        if self.job.resume_from is not None:
            old = batch_state.state_folder(self.workspace, self.job.resume_from)
            if batch_state.read_plan(old) != fingerprint:
                self.say(
                    f"[batch] job {self.job.resume_from} left no results for this input: scoring everything"
                )
            else:
                killed = batch_state.wait_for_workers(old, self.job.timeout_seconds + 5.0)
                if killed:
                    self.say(f"[batch] stopped workers of job {self.job.resume_from} still running: {killed}")
                batch_state.adopt(old, self.state, self.job.resume_from)
        finished = batch_state.scan(self.state)
        if finished:
            self.say(f"[batch] resuming: {len(finished)} of {len(plan.tasks)} mini-batches already scored "
                     "are kept; scoring the rest")  # fmt: skip
        return finished

    def _wait(self, watch: CancelWatch, total: int) -> RunResult | None:
        last_progress, shown = 0.0, (-1, -1)
        while True:
            with self.lock:
                settled, stopping = self.remaining == 0, self.stopping
                progress = (self.done, self.failed_items)
            now = time.monotonic()
            if progress != shown and (now - last_progress >= PROGRESS_SECONDS or settled):
                self._progress(total)
                last_progress, shown = now, progress
            if stopping is not None:
                self.kill_workers()
                kind, _, reason = stopping.partition(":")
                status = JobStatus.CANCELED if kind == "canceled" else JobStatus.FAILED
                return RunResult(status, reason.strip())
            if settled:
                return None
            if watch.check():
                self._stop("canceled: canceled by request")
                self.say("[batch] cancel requested: stopping the workers")
            time.sleep(TICK_SECONDS)
            self.log.sync_if_due()

    def _finish(self, plan: Plan) -> RunResult:
        job = self.job
        if self.failures and self.done == 0:
            return RunResult(
                JobStatus.FAILED, f"every mini-batch failed; first failure: {self._first_failure()}"
            )
        output = self.workdir / "output"
        output.mkdir(parents=True, exist_ok=True)
        if job.output_action == "append_row":
            rows = write_predictions(batch_state.scan(self.state), plan, output / job.output_file_name)
            self.say(f"[batch] wrote {rows} rows to {job.output_file_name}")
        info = store_output(
            self.workspace, self.job_id, job.output_name, JobOutput(type="uri_folder"), output
        )
        result = f"complete: {self.items} of {plan.items} items scored"
        if self.failures:
            missing = failed_rows(plan, list(self.failures))
            numbered = " (its `row` column names each input row)" if plan.kind == "rows" else ""
            result = (f"partial: {self.items} of {plan.items} items scored, {self.failed_items} failed "
                      f"({missing}; not in the output{numbered})")  # fmt: skip
            self.say(f"[batch] {len(self.failures)} mini-batch(es) failed and are not in the output: "
                     f"{missing}; first failure: {self._first_failure()}")  # fmt: skip
        elif self.failed_items:
            result = (f"partial: {self.items} of {plan.items} items scored, {self.failed_items} missing "
                      "from run()'s results")  # fmt: skip
        self._summary(result)
        where = (
            f"{info.artifact_path}/{job.output_file_name}"
            if job.output_action == "append_row"
            else info.artifact_path
        )
        local = self.workspace.artifacts.local_path(where)
        self.say(
            f"[batch] Completed: {self.items} items scored, {self.failed_items} failed; "
            f"output {job.output_name}: {local or where}"
        )
        self.say(
            f"[batch] download it with: mlyard job download {self.job_id} --output-name {job.output_name}"
        )
        batch_state.remove(self.state)
        return RunResult(JobStatus.COMPLETED)

    # --- workers ---------------------------------------------------------------------------

    def _worker_config(self, source_root: Path) -> dict[str, Any]:
        job = self.job
        model_dir = input_path(self.workspace, job.model, self.workdir / "model")
        code_dir = None
        if job.scoring_script is not None:
            assert job.code_artifact is not None and job.code_hash is not None
            stored = code_folder(
                self.workspace, job.code_artifact, job.code_hash, scratch_root() / "code-cache"
            )
            code_dir = self.workdir / "code"
            shutil.copytree(stored, code_dir, dirs_exist_ok=True)  # score.py may write where it runs
            model = get_model_version(self.workspace, f"{job.model.name}:{job.model.version}")
            model_dir = scoring_model_dir(model, model_dir, self.workdir / "azureml-models")
        return {
            "model_dir": str(model_dir), "code_dir": str(code_dir) if code_dir else None,
            "scoring_script": job.scoring_script, "table": str(self.workdir / "table.arrow"),
            "input_root": str(source_root if source_root.is_dir() else source_root.parent),
            "output_action": job.output_action, "output_dir": str(self.workdir / "output"),
            "state_dir": str(self.state), "timeout": job.timeout_seconds, "logging_level": job.logging_level,
        }  # fmt: skip

    def _start_pool(self, config: dict[str, Any], on_ray: bool, address: str | None) -> None:
        (self.workdir / "output").mkdir(parents=True, exist_ok=True)
        env = worker_environment(
            self.workspace,
            self.job_id,
            self.job.environment_variables,
            self.workdir / "output",
            self.job.workers,
        )
        python = worker_python(self.workspace, self.job.environment, self.write)
        config_path = self.workdir / "worker.json"
        config_path.write_text(json.dumps(config))
        for slot in range(self.job.workers):
            make: Callable[[], ScoringWorker]
            if on_ray:
                make = functools.partial(
                    self._ray_worker, slot, address, python, {**config, "slot": slot}, env
                )
            else:
                slot_config = self.workdir / f"worker-{slot}.json"
                slot_config.write_text(json.dumps({**config, "slot": slot}))
                make = functools.partial(
                    LocalWorker, slot, python, slot_config, env, self.workdir, self.write
                )

            name = f"batch-{self.job_id}-{slot}"
            thread = threading.Thread(target=self._serve, args=(slot, make), name=name, daemon=True)
            self.threads.append(thread)
            thread.start()

    def _ray_worker(
        self, slot: int, address: str | None, python: Path, config: dict[str, Any], env: dict[str, str]
    ) -> ScoringWorker:
        part = self.state / f"ray{slot}-{uuid.uuid4().hex[:8]}.part"
        return RayWorker(slot, address, python, config, env, part)

    def _serve(self, slot: int, make: Callable[[], ScoringWorker]) -> None:
        """One worker slot: start its worker, then score mini-batches until none are left."""
        worker: ScoringWorker | None = None
        try:
            while self.stopping is None:
                if worker is None:
                    worker = self._launch(slot, make)
                    if worker is None:
                        return
                if not self.plan_ready.wait(TICK_SECONDS):
                    continue
                try:
                    index = self.pending.get(timeout=TICK_SECONDS)
                except queue.Empty:
                    if self.remaining == 0:
                        return
                    continue
                assert self.plan is not None
                try:
                    reply = worker.score(self.plan.tasks[index], float(self.job.timeout_seconds))
                except WorkerLost as exc:
                    worker = None
                    self._attempt_failed(index, f"worker {slot}: {exc}")
                    continue
                if reply.get("ok"):
                    self._succeeded(index, int(reply["items"]), int(reply["failed_items"]))
                else:
                    self._attempt_failed(index, str(reply.get("error")))
        finally:
            if worker is not None:
                worker.stop()

    def _launch(self, slot: int, make: Callable[[], ScoringWorker]) -> ScoringWorker | None:
        worker: ScoringWorker = make()
        with self.lock:
            if self.stopping is not None:
                return None
            self.workers.append(worker)
        try:
            worker.start()
        except WorkerInitFailed as exc:
            what = "init() of the scoring script" if self.job.scoring_script else "loading the model"
            self._stop(f"failed: {what} failed in worker {slot}:\n{exc.detail.rstrip()}")
            self.say(f"[batch] {what} failed in worker {slot}:\n{exc.detail.rstrip()}")
            return None
        return worker

    def _succeeded(self, index: int, items: int, failed_items: int) -> None:
        with self.lock:
            self.done += 1
            self.remaining -= 1
            self.items += items
            self.failed_items += failed_items
        self._check_threshold()

    def _attempt_failed(self, index: int, error: str) -> None:
        if self.stopping is not None:
            return  # stopped workers fail their mini-batch: that is not the mini-batch's fault
        with self.lock:
            attempt = self.attempts[index] = self.attempts.get(index, 0) + 1
            final = attempt > self.job.max_retries
            if final:
                self.failures[index] = error
                self.remaining -= 1
                assert self.plan is not None
                self.failed_items += self.plan.sizes[index]
        gist = error.strip().splitlines()[-1] if error.strip() else "failed"
        if final:
            self.say(f"[batch] mini-batch {index} failed after {attempt} attempt(s): {gist}")
            self._check_threshold()
        else:
            self.say(f"[batch] mini-batch {index} failed (attempt {attempt}), trying again: {gist}")
            self.pending.put(index)

    def _check_threshold(self) -> None:
        limit = self.job.error_threshold
        if limit >= 0 and self.failed_items > limit:
            self._stop(f"failed: {self.failed_items} items failed, more than the error threshold of {limit}; "
                       f"first failure: {self._first_failure()}")  # fmt: skip

    def _stop(self, reason: str) -> None:
        with self.lock:
            if self.stopping is None:
                self.stopping = reason

    def kill_workers(self) -> None:
        with self.lock:
            workers = list(self.workers)
        for worker in workers:
            with contextlib.suppress(Exception):
                kill = getattr(worker, "kill", worker.stop)
                kill()

    def summary(self) -> RunSummary | None:
        return None  # the batch job's counts are logged as it goes (`_record_metrics`)

    def close(self) -> None:
        """Stop the scoring workers, whether the job ended or the engine failed."""
        self._stop("done: done")
        for thread in self.threads:
            thread.join(timeout=30)

    # --- reporting -------------------------------------------------------------------------

    def _first_failure(self) -> str:
        if not self.failures:
            return "none (items missing from run()'s results)"
        index = min(self.failures)
        return f"mini-batch {index}: {self.failures[index].strip()}"

    def _progress(self, total: int) -> None:
        self.say(f"[batch] progress: {self.done}/{total} mini-batches, {self.items} items scored, "
                 f"{self.failed_items} failed")  # fmt: skip

    def _summary(self, result: str) -> None:
        """The outcome in the job's tags (`job show`, `job list`), so a partial Completed is visible."""
        with contextlib.suppress(MlyardError):
            record_run_data(self.workspace, self.job_id, {}, [], {RESULT_TAG: result})

    def _record_metrics(self, total: int) -> None:
        now = int(time.time() * 1000)
        values = {"mini_batches_total": total, "mini_batches_completed": self.done,
                  "mini_batches_failed": len(self.failures), "items_scored": self.items,
                  "items_failed": self.failed_items, "scoring_seconds": self.scoring_seconds}  # fmt: skip
        metrics = [Metric(f"batch.{key}", float(value), 0, now) for key, value in values.items()]
        with contextlib.suppress(MlyardError):
            record_run_data(self.workspace, self.job_id, {}, metrics, {})

    def write(self, text: str) -> None:
        with self.lock:
            self.log.write(text)

    def say(self, line: str) -> None:
        self.write(line + "\n")
        self.log.sync()
