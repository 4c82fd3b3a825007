"""Every runner ends its job through `run_to_end`: one behaviour for errors, bugs and cleanup."""

from __future__ import annotations

from pathlib import Path

from mlyard.entities.jobs.job import JobStatus, RunSummary
from mlyard.errors import InvalidArgument
from mlyard.runtime.job_host import LocalJobHost
from mlyard.runtime.job_log import JobLog, RunResult
from mlyard.runtime.run_to_end import run_to_end
from mlyard.services.execution import job_runs
from mlyard.services.tracking.jobs import get_job, make_metric, start_job
from mlyard.services.workspaces.workspace import Workspace


class _Engine:
    def __init__(self, log: JobLog, outcome: RunResult | BaseException, summary: RunSummary | None) -> None:
        self.log, self.outcome, self._summary = log, outcome, summary
        self.closed = False

    def run(self) -> RunResult:
        self.log.write("working\n")
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome

    def close(self) -> None:
        self.closed = True

    def summary(self) -> RunSummary | None:
        return self._summary


def _run(workspace: Workspace, outcome: RunResult | BaseException, summary: RunSummary | None = None):  # type: ignore[no-untyped-def]
    job = start_job(workspace, experiment="wrap", job_type="pipeline", status=JobStatus.QUEUED, spec={})
    engines: list[_Engine] = []

    def start(log: JobLog, workdir: Path) -> _Engine:
        engines.append(_Engine(log, outcome, summary))
        return engines[0]

    result = run_to_end(LocalJobHost(workspace), job.id, "pipeline", start)
    log = workspace.artifacts.get_bytes(job_runs.log_path(job.id)).decode()
    return result, get_job(workspace, job.id), log, engines[0]


def test_a_runner_bug_fails_the_job_with_the_reason_and_still_cleans_up(workspace: Workspace) -> None:
    result, job, log, engine = _run(workspace, RuntimeError("boom"))
    assert result.status == JobStatus.FAILED
    assert job.status == JobStatus.FAILED and job.error == "runner error: RuntimeError('boom')"
    assert "[pipeline] runner error: RuntimeError('boom')" in log
    assert engine.closed


def test_an_error_of_ours_fails_the_job_with_its_message(workspace: Workspace) -> None:
    result, job, log, engine = _run(workspace, InvalidArgument("input x holds nothing"))
    assert job.status == JobStatus.FAILED and job.error == "input x holds nothing"
    assert "working\n[pipeline] input x holds nothing" in log
    assert engine.closed


def test_the_summary_is_recorded_with_the_outcome(workspace: Workspace) -> None:
    summary = RunSummary({"alpha": "0.5"}, (make_metric("mse", 2.0),), {"best_child_run_id": "trial_1"})
    result, job, _, _ = _run(workspace, RunResult(JobStatus.COMPLETED), summary)
    assert job.status == JobStatus.COMPLETED
    assert job.params == {"alpha": "0.5"} and job.metrics["mse"] == 2.0
    assert job.tags["best_child_run_id"] == "trial_1"
