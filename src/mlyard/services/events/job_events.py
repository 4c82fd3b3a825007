"""Job status changes as Azure ML's run events: `RunStatusChanged` at every change, and
`RunCompleted` too when a job completes, with Azure's data fields (experimentId,
experimentName, runId, runType, runTags, runProperties, runStatus)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlyard.entities.automation.event import RUN_COMPLETED, RUN_STATUS_CHANGED
from mlyard.entities.jobs.job import JobStatus
from mlyard.services.events.outbox import emit
from mlyard.store.tables import ExperimentRow, JobRow, TagRow

DEPTH_TAG = "mlyard.trigger_depth"  # on jobs an event trigger created: how deep the chain is


def emit_job_status(session: Session, job_id: str, status: JobStatus | str) -> None:
    """Emit the status change of `job_id` in the caller's transaction (which made the change)."""
    status = JobStatus(status)
    found = session.execute(
        select(
            JobRow.type, JobRow.experiment_id, ExperimentRow.name, JobRow.display_name, JobRow.parent_job_id
        )
        .join(ExperimentRow, ExperimentRow.id == JobRow.experiment_id)
        .where(JobRow.id == job_id)
    ).first()
    if found is None:
        return
    job_type, experiment_id, experiment, display_name, parent = found
    tags = {
        key: value
        for key, value in session.execute(select(TagRow.key, TagRow.value).where(TagRow.job_id == job_id))
    }
    data = {
        "experimentId": str(experiment_id),
        "experimentName": experiment,
        "runId": job_id,
        "runType": job_type,
        "runTags": tags,
        "runProperties": {"displayName": display_name, "parentRunId": parent},
    }
    subject = f"experiments/{experiment_id}/runs/{job_id}"
    depth = job_depth(tags)
    emit(session, RUN_STATUS_CHANGED, subject, {**data, "runStatus": status.value}, depth)
    if status == JobStatus.COMPLETED:
        emit(session, RUN_COMPLETED, subject, data, depth)


def job_depth(tags: dict[str, str]) -> int:
    try:
        return int(tags.get(DEPTH_TAG, 0))
    except ValueError:
        return 0


def depth_of_job(session: Session, job_id: str | None) -> int:
    """The trigger depth of the job behind a change (0 for none): its events carry it on."""
    if job_id is None:
        return 0
    value = session.execute(
        select(TagRow.value).where(TagRow.job_id == job_id, TagRow.key == DEPTH_TAG)
    ).scalar()
    return job_depth({DEPTH_TAG: value}) if value is not None else 0
