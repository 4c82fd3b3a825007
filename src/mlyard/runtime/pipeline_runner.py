"""Runs a pipeline job: ready steps in parallel as child command jobs, with step reuse.

A step is ready when every step it reads from has completed. Up to `max_concurrency` steps
(default: one per CPU core) run at once, each a child job run by the command runner in a
thread of this process. A deterministic step whose signature — command, code hash, environment
hash, input contents, parameters, outputs — matches an earlier completed step is not run: it is
recorded as Completed with that step's outputs (`reused_from`), unless `force_rerun` is set.

A parallel step (`type: parallel`) runs as a child parallel job, whose mini-batches are its own
children; its merged outputs are the step's outputs, and it is reused like any other step.

A failing step fails the pipeline and cancels the steps still running, unless
`continue_on_step_failure` is set: then only the steps downstream of it are skipped. The
pipeline's own log lists each step's status change as it happens (what `--stream` shows).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlyard.entities.jobs.job import QUEUE, JobOutputInfo, JobStatus, RunSummary
from mlyard.entities.jobs.job_spec import JobOutput, ResolvedCommandJob, ResolvedInput
from mlyard.entities.jobs.parallel_spec import ParallelRun, ResolvedParallelJob
from mlyard.entities.jobs.resolved_pipeline import ResolvedPipeline, ResolvedStep, StepInput
from mlyard.errors import MlyardError
from mlyard.runtime.child_jobs import CancelWatch, cancel_children, run_child, start_child, wait_for_end
from mlyard.runtime.job_host import LocalJobHost
from mlyard.runtime.job_log import JobLog, LogCallback, RunResult
from mlyard.runtime.parallel_runner import run_parallel_job
from mlyard.runtime.run_to_end import run_to_end
from mlyard.services.execution import job_runs, queue
from mlyard.services.execution.job_outputs import register_output
from mlyard.services.tracking.jobs import get_job
from mlyard.services.workspaces.workspace import Workspace

CHECK_SECONDS = 0.5


@dataclass(frozen=True)
class StepOutcome:
    status: JobStatus
    job_id: str | None
    reused_from: str | None = None
    error: str | None = None


def run_pipeline_job(
    workspace: Workspace, job_id: str, spec: dict[str, Any], on_log: LogCallback | None = None
) -> RunResult:
    pipeline = ResolvedPipeline.model_validate(spec)
    return run_to_end(
        LocalJobHost(workspace), job_id, "pipeline",
        lambda log, _: PipelineEngine(workspace, job_id, pipeline, log), on_log,
    )  # fmt: skip


class PipelineEngine:
    def __init__(self, workspace: Workspace, job_id: str, pipeline: ResolvedPipeline, log: JobLog) -> None:
        self.workspace = workspace
        self.job_id = job_id
        self.pipeline = pipeline
        self.log = log
        self.experiment = get_job(workspace, job_id).experiment
        self.outcomes: dict[str, StepOutcome] = {}
        self.outputs: dict[str, dict[str, JobOutputInfo]] = {}  # step → its outputs, once completed
        self._hash_cache: dict[str, str] = {}
        self._lock = threading.Lock()

    def summary(self) -> RunSummary | None:
        return None

    def close(self) -> None:
        pass  # children are stopped by `run` however it ends

    def run(self) -> RunResult:
        steps = self.pipeline.steps
        pending = list(self.pipeline.order)
        skipped: set[str] = set()
        stopping: str | None = None  # why no further step starts
        workers = self.pipeline.max_concurrency or os.cpu_count() or 1
        self.say(f"[pipeline] {len(steps)} steps, up to {workers} at once")
        running: dict[Future[StepOutcome], str] = {}
        watch = CancelWatch(self.workspace, self.job_id)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"pipeline-{self.job_id}") as pool:
            while pending or running:
                if stopping is None:
                    for name in [n for n in pending if self._ready(n)]:
                        if len(running) >= workers:
                            break
                        pending.remove(name)
                        running[pool.submit(self._run_step, steps[name])] = name
                if not running:
                    # Nothing can start: what is left waits on failed, skipped or canceled steps.
                    skipped.update(pending)
                    pending.clear()
                    break
                finished, _ = wait(list(running), timeout=CHECK_SECONDS, return_when=FIRST_COMPLETED)
                for future in finished:
                    name = running.pop(future)
                    outcome = _outcome_of(future)
                    self.outcomes[name] = outcome
                    if outcome.status != JobStatus.COMPLETED and stopping is None:
                        if self.pipeline.continue_on_step_failure and outcome.status == JobStatus.FAILED:
                            later = self._downstream(name) & set(pending)
                            for step in later:
                                pending.remove(step)
                                self.say(f"[{step}] Skipped: step {name} did not complete")
                            skipped.update(later)
                        else:
                            stopping = f"step {name} {outcome.status.value}"
                            cancel_children(self.workspace, self.job_id)
                if stopping != "canceled" and watch.check():
                    stopping = "canceled"
                    self.say("[pipeline] cancel requested: stopping running steps")
                    cancel_children(self.workspace, self.job_id)
        for name in skipped:
            self.outcomes.setdefault(name, StepOutcome(JobStatus.CANCELED, None, error="not run"))
        return self._result(stopping, skipped)

    # --- one step --------------------------------------------------------------------------

    def _run_step(self, step: ResolvedStep) -> StepOutcome:
        job = self._command_job(step) if step.parallel is None else self._parallel_job(step)
        key = self._reuse_key(job) if step.deterministic else None
        spec = job.model_dump(mode="json")
        if key is not None and not self.pipeline.force_rerun:
            earlier = job_runs.find_reusable(self.workspace, key)
            if earlier is not None:
                child = job_runs.record_reused_job(
                    self.workspace, self.job_id, step.display_name or step.name, spec, key, earlier,
                    step.tags, spec["type"],
                )  # fmt: skip
                self._keep_outputs(step, child)
                self.say(
                    f"[{step.name}] Completed: reused the outputs of job {earlier} "
                    "(same component, code, environment, inputs and parameters)"
                )
                return StepOutcome(JobStatus.COMPLETED, child, reused_from=earlier)
        attempts = step.retry + 1
        outcome = StepOutcome(JobStatus.FAILED, None, error="not run")
        for attempt in range(attempts):
            label = step.display_name or step.name
            label = label if attempt == 0 else f"{label} (retry {attempt})"
            child = start_child(self.workspace, self.job_id, self.experiment, job, label, step.tags)
            if key is not None:
                job_runs.set_reuse(self.workspace, child, key, None)
            kind = "parallel job" if isinstance(job, ResolvedParallelJob) else "job"
            self.say(f"[{step.name}] Running as {kind} {child}" + (f" (retry {attempt})" if attempt else ""))
            started = time.monotonic()
            result = self._run_child(child, job)
            took = time.monotonic() - started
            outcome = StepOutcome(result.status, child, error=result.error)
            if result.status == JobStatus.COMPLETED:
                self._keep_outputs(step, child)
                self.say(f"[{step.name}] Completed in {took:.1f}s")
                return outcome
            self.say(f"[{step.name}] {result.status.value}: {_first_line(result.error)}")
            if result.status == JobStatus.CANCELED or job_runs.status_of(self.workspace, self.job_id) in (
                JobStatus.CANCEL_REQUESTED,
                JobStatus.CANCELED,
            ):
                break
        return outcome

    def _run_child(self, child: str, job: ResolvedCommandJob | ResolvedParallelJob) -> RunResult:
        if isinstance(job, ResolvedCommandJob):
            return run_child(self.workspace, child, job, self.pipeline.compute)
        if queue.dispatch_of(self.workspace, child) == QUEUE:
            return wait_for_end(self.workspace, child)  # the team server orchestrates it
        return run_parallel_job(self.workspace, child, job.model_dump(mode="json"))

    def _parallel_job(self, step: ResolvedStep) -> ResolvedParallelJob:
        """The child parallel job of a parallel step, its inputs bound to what they now are."""
        assert step.parallel is not None
        command = self._command_job(step)
        return ResolvedParallelJob(
            **step.parallel.model_dump(),
            inputs=command.inputs,
            outputs=command.outputs,
            code=command.code,
            code_hash=command.code_hash,
            code_artifact=command.code_artifact,
            environment=command.environment,
            environment_ref=command.environment_ref,
            environment_variables=command.environment_variables,
            compute=step.compute or self.pipeline.compute,
        )

    def _command_job(self, step: ResolvedStep) -> ResolvedCommandJob:
        inputs = {name: self._input(step, name, given) for name, given in step.inputs.items()}
        outputs = {
            name: JobOutput.model_validate(
                {**(output.registration.model_dump() if output.registration else {}), "type": output.type}
            )
            for name, output in step.outputs.items()
        }
        return ResolvedCommandJob(
            command=step.command,
            code=step.code,
            code_hash=step.code_hash,
            code_artifact=step.code_artifact,
            inputs=inputs,
            outputs=outputs,
            environment=step.environment,
            environment_ref=step.environment_ref,
            environment_variables=step.environment_variables,
            compute=step.compute,
            timeout_seconds=step.timeout_seconds,
        )

    def _input(self, step: ResolvedStep, name: str, given: StepInput | None) -> ResolvedInput | None:
        if given is None:
            return None
        if given.source == "resolved":
            return given.value
        if given.source == "parent_input":
            assert given.parent_input is not None
            value = self.pipeline.inputs.get(given.parent_input)
            if value is None:
                return None
            return value if value.source == "literal" else value.model_copy(update={"type": given.type})
        assert given.step is not None and given.output is not None
        produced = self.outputs[given.step][given.output]
        producer = self.outcomes[given.step].job_id
        return ResolvedInput(
            type=given.type,
            source="job_output",
            job_id=producer,
            output=given.output,
            content_hash=produced.content_hash,
        )

    def _reuse_key(self, job: ResolvedCommandJob | ResolvedParallelJob) -> str:
        """The step's signature: equal signatures mean an earlier run's outputs can stand in."""
        environment = (job.environment or {}).get("spec_hash") or f"inherit:{platform.python_version()}"
        inputs: dict[str, Any] = {}
        for name, given in job.inputs.items():
            if given is None:
                inputs[name] = None
            elif given.source == "literal":
                inputs[name] = [given.type, given.value]
            else:
                inputs[name] = [given.type, given.content_hash or self._local_hash(given), given.mode]
        signature: dict[str, Any] = {
            "code": job.code_hash,
            "environment": environment,
            "environment_variables": job.environment_variables,
            "inputs": inputs,
            "outputs": {name: output.type for name, output in job.outputs.items()},
        }
        if isinstance(job, ResolvedCommandJob):
            signature["command"] = job.command
        else:  # how the input is split and run: entry script, arguments, mini-batches, thresholds
            signature["parallel"] = job.model_dump(include=set(ParallelRun.model_fields))
        return hashlib.sha256(json.dumps(signature, sort_keys=True, default=str).encode()).hexdigest()

    def _local_hash(self, given: ResolvedInput) -> str:
        from mlyard.artifacts.hashing import hash_path

        assert given.path is not None
        with self._lock:
            if given.path not in self._hash_cache:
                self._hash_cache[given.path] = hash_path(Path(given.path)).sha256
            return self._hash_cache[given.path]

    def _keep_outputs(self, step: ResolvedStep, child_id: str) -> None:
        found = {output.name: output for output in job_runs.job_outputs(self.workspace, child_id)}
        with self._lock:
            self.outputs[step.name] = found

    # --- the whole pipeline ----------------------------------------------------------------

    def _ready(self, name: str) -> bool:
        return all(
            self.outcomes.get(before, StepOutcome(JobStatus.QUEUED, None)).status == JobStatus.COMPLETED
            for before in self.pipeline.steps[name].depends_on
        )

    def _downstream(self, name: str) -> set[str]:
        found: set[str] = set()
        pending = [name]
        while pending:
            current = pending.pop()
            for step in self.pipeline.steps.values():
                if current in step.depends_on and step.name not in found:
                    found.add(step.name)
                    pending.append(step.name)
        return found

    def _result(self, stopping: str | None, skipped: set[str]) -> RunResult:
        if stopping == "canceled":
            return RunResult(JobStatus.CANCELED, "canceled by request")
        failed = [
            n
            for n in self.pipeline.order
            if n in self.outcomes and self.outcomes[n].status == JobStatus.FAILED
        ]
        if failed:
            details = "; ".join(
                f"{n} (job {self.outcomes[n].job_id}): {_first_line(self.outcomes[n].error) or 'failed'}"
                for n in failed
            )
            extra = f"; skipped: {', '.join(sorted(skipped))}" if skipped else ""
            return RunResult(JobStatus.FAILED, f"step(s) failed: {details}{extra}")
        if stopping is not None:
            return RunResult(JobStatus.FAILED, stopping)
        self._publish_outputs()
        reused = sum(1 for o in self.outcomes.values() if o.reused_from)
        self.say(f"[pipeline] Completed: {len(self.outcomes)} steps, {reused} reused")
        return RunResult(JobStatus.COMPLETED)

    def _publish_outputs(self) -> None:
        """The pipeline's own outputs are its steps' outputs bound to them (registered if named)."""
        for step in self.pipeline.steps.values():
            for name, output in step.outputs.items():
                if output.parent_output is None:
                    continue
                produced = self.outputs.get(step.name, {}).get(name)
                if produced is None:
                    continue
                info = produced.model_copy(update={"name": output.parent_output})
                declared = self.pipeline.outputs.get(output.parent_output)
                if declared is not None and declared.name and not produced.asset_name:
                    info = register_output(self.workspace, self.job_id, output.parent_output, declared, info)
                    self.say(f"[pipeline] output {output.parent_output} registered as {info.asset_ref}")
                job_runs.record_output(self.workspace, self.job_id, info)

    def say(self, line: str) -> None:
        self.log.write(line + "\n")
        self.log.sync()


def _first_line(text: str | None) -> str:
    """The gist of a step's error: its first line, and the log's last line when it carries one."""
    lines = [line for line in (text or "").splitlines() if line.strip()]
    if not lines:
        return ""
    head = lines[0].removesuffix("; last lines of the log:")
    return head if len(lines) == 1 else f"{head}: {lines[-1].strip()}"


def _outcome_of(future: Future[StepOutcome]) -> StepOutcome:
    try:
        return future.result()
    except MlyardError as exc:
        return StepOutcome(JobStatus.FAILED, None, error=exc.message)
    except Exception as exc:  # a bug in one step must not hang the pipeline
        return StepOutcome(JobStatus.FAILED, None, error=f"runner error: {exc!r}")
