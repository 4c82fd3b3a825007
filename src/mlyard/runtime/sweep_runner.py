"""Runs a sweep job on Optuna: trials as child command jobs, early termination, the best trial surfaced.

Each trial asks the study for values, runs the trial command with `${{search_space.x}}` filled
in (the values are also the trial's params), and reports the primary metric through
`mlyard.log_metric`. While trials run, the early-termination rule looks at what each has
reported and cancels those it judges hopeless. When the sweep ends, its own record carries the
best trial: its params, the best value of the primary metric, and the `best_child_run_id` tag.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from mlyard.entities.jobs.job import JobStatus, RunSummary
from mlyard.entities.jobs.job_spec import ResolvedCommandJob
from mlyard.entities.jobs.sweep_spec import SweepJobSpec
from mlyard.errors import Conflict, MlyardError, NotFound
from mlyard.runtime.child_jobs import CancelWatch, cancel_children, run_child, start_child
from mlyard.runtime.early_termination import TrialHistory, termination_rule
from mlyard.runtime.job_host import LocalJobHost
from mlyard.runtime.job_log import JobLog, LogCallback, RunResult
from mlyard.runtime.run_to_end import run_to_end
from mlyard.runtime.sweep_sampling import make_sampler, suggest
from mlyard.services.execution import job_runs
from mlyard.services.tracking.jobs import (
    get_job,
    make_metric,
    metric_history,
    set_tags,
)
from mlyard.services.workspaces.workspace import Workspace

POLL_SECONDS = 0.5


@dataclass
class Trial:
    number: int
    job_id: str
    optuna_trial: Any
    values: dict[str, Any]
    stopped_early: str | None = None
    result: RunResult | None = None


def run_sweep_job(
    workspace: Workspace, job_id: str, spec: dict[str, Any], on_log: LogCallback | None = None
) -> RunResult:
    sweep = SweepJobSpec.model_validate(spec["sweep"])
    trial = ResolvedCommandJob.model_validate(spec["trial"])
    return run_to_end(
        LocalJobHost(workspace), job_id, "sweep",
        lambda log, _: SweepEngine(workspace, job_id, sweep, trial, log), on_log,
    )  # fmt: skip


class SweepEngine:
    def __init__(
        self, workspace: Workspace, job_id: str, sweep: SweepJobSpec, trial: ResolvedCommandJob, log: JobLog
    ) -> None:
        self.workspace = workspace
        self.job_id = job_id
        self.sweep = sweep
        self.trial = trial
        self.log = log
        self.experiment = get_job(workspace, job_id).experiment
        self.metric = sweep.objective.primary_metric
        self.goal = sweep.objective.goal
        self.rule = termination_rule(sweep)
        self.trials: list[Trial] = []
        self.best: Trial | None = None
        self.best_value: float | None = None

    def run(self) -> RunResult:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(direction=self.goal, sampler=make_sampler(self.sweep))
        total = self.sweep.total_trials
        explicit = self.sweep.limits.max_concurrent_trials
        concurrent = min(explicit or (os.cpu_count() or 1), total)
        deadline = time.monotonic() + self.sweep.limits.timeout if self.sweep.limits.timeout else None
        self.say(f"[sweep] up to {total} trials, {concurrent} at once, {self.goal} {self.metric}")
        watch = CancelWatch(self.workspace, self.job_id)
        stopping: str | None = None
        running: dict[Future[RunResult], Trial] = {}
        with ThreadPoolExecutor(max_workers=concurrent, thread_name_prefix=f"sweep-{self.job_id}") as pool:
            while running or (stopping is None and len(self.trials) < total):
                while stopping is None and len(self.trials) < total and len(running) < concurrent:
                    trial = self._start_trial(study)
                    running[pool.submit(self._run_trial, trial)] = trial
                finished, _ = wait(list(running), timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
                for future in finished:
                    trial = running.pop(future)
                    trial.result = _result_of(future)
                    self._finish_trial(study, trial)
                if self.rule is not None and running:
                    self._terminate_early(list(running.values()))
                if stopping is None and watch.check():
                    stopping = "canceled"
                    self.say("[sweep] cancel requested: stopping running trials")
                    cancel_children(self.workspace, self.job_id)
                elif stopping is None and deadline is not None and time.monotonic() > deadline:
                    stopping = "timeout"
                    self.say(
                        f"[sweep] limits.timeout of {self.sweep.limits.timeout} s reached: stopping trials"
                    )
                    cancel_children(self.workspace, self.job_id)
        if stopping == "canceled":
            return RunResult(JobStatus.CANCELED, "canceled by request")
        if self.best is None:
            failures = [t for t in self.trials if t.result and t.result.status == JobStatus.FAILED]
            detail = f"; first failure: {failures[0].result.error}" if failures and failures[0].result else ""
            return RunResult(
                JobStatus.FAILED, f"no trial reported the primary metric {self.metric!r}{detail}"
            )
        self.say(
            f"[sweep] best trial: {self.best.job_id} with {self.metric} {self.best_value} "
            f"at {self._shown(self.best.values)}"
        )
        return RunResult(JobStatus.COMPLETED)

    # --- trials ----------------------------------------------------------------------------

    def _start_trial(self, study: Any) -> Trial:
        optuna_trial = study.ask()
        values = suggest(optuna_trial, self.sweep.search_space, log_base=self.sweep.log_base)
        number = len(self.trials)
        job = self.trial.model_copy(update={"search_space": values})
        child = start_child(
            self.workspace,
            self.job_id,
            self.experiment,
            job,
            f"trial {number}",
            {"mlyard.trial": str(number)},
        )
        # The sampled values become the trial's params with the job (services.jobs.input_params).
        trial = Trial(number, child, optuna_trial, values)
        self.trials.append(trial)
        self.say(f"[trial {number}] Running as job {child}: {self._shown(values)}")
        return trial

    def _run_trial(self, trial: Trial) -> RunResult:
        job = self.trial.model_copy(update={"search_space": trial.values})
        return run_child(self.workspace, trial.job_id, job, self.sweep.compute)

    def _finish_trial(self, study: Any, trial: Trial) -> None:
        import optuna

        assert trial.result is not None
        points = self._history(trial.job_id)
        value = points[-1][1] if points else None
        if trial.stopped_early is not None:
            study.tell(trial.optuna_trial, state=optuna.trial.TrialState.PRUNED)
            self.say(f"[trial {trial.number}] stopped early: {trial.stopped_early}")
        elif trial.result.status == JobStatus.COMPLETED and value is not None and not math.isnan(value):
            study.tell(trial.optuna_trial, value)
            self.say(f"[trial {trial.number}] Completed: {self.metric} {value}")
        else:
            study.tell(trial.optuna_trial, state=optuna.trial.TrialState.FAIL)
            if trial.result.status != JobStatus.COMPLETED:
                why = trial.result.status.value
            elif value is None:
                why = "it logged no " + self.metric
            else:  # a diverged trial: Optuna cannot rank NaN, so it counts as failed
                why = f"its last {self.metric} is NaN"
            self.say(f"[trial {trial.number}] {why}")
            return
        if value is not None and (self.best_value is None or self._better(value, self.best_value)):
            self.best, self.best_value = trial, value

    def _terminate_early(self, running: list[Trial]) -> None:
        assert self.rule is not None
        histories = {
            trial.job_id: TrialHistory(self._history(trial.job_id), finished=trial.result is not None)
            for trial in self.trials
        }
        for trial in running:
            if trial.stopped_early is not None:
                continue
            reason = self.rule.should_stop(trial.job_id, histories)
            if reason is not None:
                trial.stopped_early = reason
                set_tags(self.workspace, trial.job_id, {"mlyard.early_terminated": reason[:8000]})
                with contextlib.suppress(Conflict):
                    job_runs.request_cancel(self.workspace, trial.job_id)

    def _history(self, job_id: str) -> list[tuple[int, float]]:
        """The primary metric's points so far; none yet is not an error while a trial starts."""
        try:
            return [
                (point.step, point.value) for point in metric_history(self.workspace, job_id, self.metric)
            ]
        except NotFound:
            return []

    # --- the sweep's own record ------------------------------------------------------------

    def summary(self) -> RunSummary | None:
        """Params, metric and tags that surface the best trial on the sweep job."""
        if self.best is None or self.best_value is None:
            return None
        return RunSummary(
            params=get_job(self.workspace, self.best.job_id).params,  # sampled values and inputs
            metrics=(make_metric(self.metric, self.best_value),),
            tags={"best_child_run_id": self.best.job_id, "mlyard.trials": str(len(self.trials))},
        )

    def close(self) -> None:
        pass  # trials are stopped by `run` however it ends

    def _better(self, value: float, than: float) -> bool:
        return value > than if self.goal == "maximize" else value < than

    @staticmethod
    def _shown(values: dict[str, Any]) -> str:
        return ", ".join(f"{key}={value}" for key, value in values.items())

    def say(self, line: str) -> None:
        self.log.write(line + "\n")
        self.log.sync()


def _result_of(future: Future[RunResult]) -> RunResult:
    try:
        return future.result()
    except MlyardError as exc:
        return RunResult(JobStatus.FAILED, exc.message)
    except Exception as exc:  # a runner bug in one trial must not hang the sweep
        return RunResult(JobStatus.FAILED, f"runner error: {exc!r}")
