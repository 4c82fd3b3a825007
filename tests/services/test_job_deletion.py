"""Deleting a job for good (MLflow's gc), on SQLite and PostgreSQL: rows and files of the job and
the jobs below it go; a non-admin, a running job, a model version's producing run and files
another job reuses are refused with nothing removed."""

from __future__ import annotations

import pytest

from mlyard.entities.governance.access import Actor, Role
from mlyard.entities.jobs.job import Metric
from mlyard.errors import Conflict, NotFound, PermissionDenied
from mlyard.services.execution import job_runs
from mlyard.services.model_registry import models
from mlyard.services.tracking import job_artifacts, job_deletion, jobs
from mlyard.services.workspaces import audit


def _ended(workspace, **options):  # type: ignore[no-untyped-def]
    job = jobs.start_job(workspace, experiment="e", **options)
    job_artifacts.log_bytes(workspace, job.id, b"x", "a.txt")
    jobs.end_job(workspace, job.id, params={"p": "1"}, metrics=[Metric("m", 1.0, 0, 0)], tags={"t": "v"})
    return job.id


def test_a_pipeline_goes_with_its_steps_rows_and_files(workspace):
    parent = _ended(workspace)
    steps = [_ended(workspace, parent_job_id=parent) for _ in range(2)]
    kept = _ended(workspace)
    deleted = job_deletion.delete_job_permanently(workspace, parent)
    assert deleted.job_ids[0] == parent and set(deleted.job_ids) == {parent, *steps}
    for job_id in deleted.job_ids:
        with pytest.raises(NotFound):
            jobs.get_job(workspace, job_id)
        assert not workspace.artifacts.exists(f"jobs/{job_id}")
    assert jobs.get_job(workspace, kept).metrics == {"m": 1.0}
    [event] = audit.list_events(workspace, None, None, None, "job", parent, ["job.delete"], 10)
    assert event.action == "job.delete" and "2 job(s) below it" in event.summary


def test_refusals_leave_everything(workspace, tmp_path):
    running = jobs.start_job(workspace, experiment="e").id
    with pytest.raises(Conflict, match="has not ended; cancel it first"):
        job_deletion.delete_job_permanently(workspace, running)
    producer = _ended(workspace)
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "w.txt").write_text("1")
    models.register_model_folder(workspace, "churn", folder, job_id=producer)
    with pytest.raises(Conflict, match=r"produced model version\(s\) churn:1"):
        job_deletion.delete_job_permanently(workspace, producer)
    reused = _ended(workspace)
    later = _ended(workspace)
    job_runs.record_output(workspace, later, _output(reused))  # a reused step shares the earlier files
    with pytest.raises(Conflict, match=f"used by job {later}'s output"):
        job_deletion.delete_job_permanently(workspace, reused)
    operator = Actor(name="olga", role=Role.OPERATOR)
    with audit.acting_as(operator), pytest.raises(PermissionDenied, match="needs admin"):
        job_deletion.delete_job_permanently(workspace, later)
    for job_id in (running, producer, reused, later):
        assert jobs.get_job(workspace, job_id).id == job_id
    assert workspace.artifacts.exists(f"jobs/{reused}/artifacts/a.txt")
    with pytest.raises(NotFound, match="does not exist"):
        job_deletion.delete_job_permanently(workspace, "no-such-job")


def _output(job_id: str):  # type: ignore[no-untyped-def]
    from mlyard.entities.jobs.job import JobOutputInfo

    return JobOutputInfo(name="model", type="uri_folder", artifact_path=job_runs.output_path(job_id, "model"),
                         content_hash="0" * 64)  # fmt: skip
