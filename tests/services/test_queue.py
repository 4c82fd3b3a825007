"""The job queue's rules on SQLite and PostgreSQL: one claimer per job, leases, lost workers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from mlyard.entities.jobs.job import QUEUE, JobStatus
from mlyard.errors import LeaseLost
from mlyard.services.execution import queue
from mlyard.services.submission.references import queue_job
from mlyard.services.tracking import jobs

SPEC = {"type": "command", "command": "true", "inputs": {}, "outputs": {}}


def _queue(workspace, count: int, compute: str | None = None) -> list[str]:
    spec = SPEC | ({"compute": compute} if compute else {})
    return [queue_job(workspace, spec, "command", "q", None, None, None, QUEUE).id for _ in range(count)]


def test_concurrent_workers_claim_every_job_exactly_once(workspace):
    queued = set(_queue(workspace, 30))
    claimed: list[str] = []
    lock = threading.Lock()

    def work(worker: str) -> None:
        while (job := queue.claim_next(workspace, worker, "host")) is not None:
            with lock:
                claimed.append(job.job_id)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(queued)  # every job, none twice
    assert {jobs.get_job(workspace, job_id).status for job_id in queued} == {JobStatus.RUNNING}


def test_a_worker_claims_only_jobs_of_its_compute_kind(workspace):
    [local] = _queue(workspace, 1)
    [on_ray] = _queue(workspace, 1, compute="ray")
    assert queue.claim_next(workspace, "w", "host", compute_kinds=("ray",)).job_id == on_ray
    assert queue.claim_next(workspace, "w", "host", compute_kinds=("ray",)) is None
    assert queue.claim_next(workspace, "w", "host").job_id == local


def _clock() -> Callable[[float], datetime]:
    """A clock the test moves: `at(seconds)` is that many seconds after the test began."""
    start = datetime.now(UTC)
    return lambda seconds: start + timedelta(seconds=seconds)


def test_an_expired_lease_requeues_the_job_and_the_old_worker_is_refused(workspace):
    at = _clock()
    [job_id] = _queue(workspace, 1)
    first = queue.claim_next(workspace, "old", "host", lease_seconds=30, now=at(0))
    assert first is not None and first.attempt == 1
    assert queue.expire_leases(workspace, default_retries=1, now=at(29)) == []  # still held
    assert queue.expire_leases(workspace, default_retries=1, now=at(31)) == [
        (job_id, "requeued (attempt 2 of 2)")
    ]
    with pytest.raises(LeaseLost, match="no longer held by worker old"):
        queue.renew_lease(workspace, job_id, "old", now=at(31))
    second = queue.claim_next(workspace, "new", "host", lease_seconds=30, now=at(32))
    assert second is not None and (second.job_id, second.attempt) == (job_id, 2)
    with pytest.raises(LeaseLost):
        queue.finish(workspace, job_id, "old", JobStatus.COMPLETED, None)
    [(_, outcome)] = queue.expire_leases(workspace, default_retries=1, now=at(63))
    assert outcome == "failed"
    found = jobs.get_job(workspace, job_id)
    assert found.status == JobStatus.FAILED and "worker new stopped renewing its lease" in (found.error or "")


def test_a_renewed_lease_keeps_the_job_and_reports_a_cancel(workspace):
    at = _clock()
    [job_id] = _queue(workspace, 1)
    queue.claim_next(workspace, "w", "host", lease_seconds=30, now=at(0))
    for seconds in (20, 40, 60):  # each renewal lands before the lease it extends runs out
        assert (
            queue.renew_lease(workspace, job_id, "w", lease_seconds=30, now=at(seconds)) == JobStatus.RUNNING
        )
    # Long past the first lease (ended at 30 s), within the last renewal's (ends at 90 s):
    assert queue.expire_leases(workspace, now=at(89)) == []
    from mlyard.services.execution.job_runs import request_cancel

    request_cancel(workspace, job_id)
    assert queue.renew_lease(workspace, job_id, "w") == JobStatus.CANCEL_REQUESTED
    queue.finish(workspace, job_id, "w", JobStatus.CANCELED, "canceled by request")
    assert jobs.get_job(workspace, job_id).status == JobStatus.CANCELED
