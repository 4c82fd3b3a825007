"""One way every runner takes a job from claimed to ended, whatever happens in between.

    claim → log opened → engine started → engine.run() → engine closed, log closed, scratch removed
          → the outcome recorded (Completed | Failed | Canceled, with the reason)

An error of ours (`MlyardError`) fails the job with its message; anything else is a runner bug,
which must still end the job — with `runner error: …` as the reason — rather than leave it
Running. A job that was already ended (canceled while it waited) keeps its outcome.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from mlyard.entities.jobs.job import JobStatus, RunSummary
from mlyard.errors import Conflict, MlyardError
from mlyard.runtime.job_host import JobHost
from mlyard.runtime.job_log import JobLog, LogCallback, RunResult
from mlyard.runtime.runner_process import scratch_root


class Engine(Protocol):
    """What runs one job type once the job is claimed and its log is open."""

    def run(self) -> RunResult:
        """Run the job to its outcome; raise `MlyardError` for a reason the user should read."""

    def close(self) -> None:
        """Release what the engine started (workers, threads), whether `run` returned or raised."""

    def summary(self) -> RunSummary | None:
        """Params, metrics and tags to record with the outcome (a sweep's best trial), or None."""


def run_to_end(
    host: JobHost,
    job_id: str,
    label: str,
    start: Callable[[JobLog, Path], Engine],
    on_log: LogCallback | None = None,
    claim: bool = True,
) -> RunResult:
    """Claim `job_id`, run the engine `start(log, workdir)` builds, and record the outcome.

    `label` prefixes the runner's own lines in the job's log (`[pipeline] …`). Never raises for
    the job's faults: the result says how it ended.
    """
    if claim:
        host.claim(job_id)
    log = JobLog(host, job_id, on_log)
    workdir = scratch_root() / job_id
    engine: Engine | None = None
    try:
        engine = start(log, workdir)
        result = engine.run()
    except MlyardError as exc:
        log.write(f"[{label}] {exc.message}\n")
        result = RunResult(JobStatus.FAILED, exc.message)
    except Exception as exc:  # a runner bug must still end the job, with the reason
        log.write(f"[{label}] runner error: {exc!r}\n")
        result = RunResult(JobStatus.FAILED, f"runner error: {exc!r}")
    finally:
        if engine is not None:
            engine.close()
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)
    summary = engine.summary() if engine is not None else None
    with contextlib.suppress(Conflict):  # already ended: canceled before it was claimed
        host.end(job_id, result.status, result.error, summary)
    return result
