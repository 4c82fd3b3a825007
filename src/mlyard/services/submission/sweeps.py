"""Submitting sweep jobs: the trial resolved like a command job, the search space checked — then queued."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlyard.entities.jobs.job import Job
from mlyard.entities.jobs.sweep_spec import SweepTrial, sweep_job_from_dict
from mlyard.errors import InvalidSpec
from mlyard.services.submission.references import Submission, queue_submission, resolve_command_job
from mlyard.services.workspaces.workspace import Workspace


def submit_sweep_job(
    workspace: Workspace, data: dict[str, Any], base_dir: Path, source: str, parent_job_id: str | None = None
) -> Job:
    return queue_submission(workspace, sweep_submission(workspace, data, base_dir, source), parent_job_id)


def sweep_submission(workspace: Workspace, data: dict[str, Any], base_dir: Path, source: str) -> Submission:
    spec = sweep_job_from_dict(data, source)
    if not isinstance(spec.trial, SweepTrial):
        raise InvalidSpec(
            f"{source}: trial: a component reference ({spec.trial}) is not supported for sweep jobs yet; "
            "write the trial inline (code, command, environment)"
        )
    trial = resolve_command_job(workspace, spec.trial_command_job(), base_dir, source)
    stored = {"type": "sweep", "sweep": spec.model_dump(mode="json"), "trial": trial.model_dump(mode="json")}
    return Submission("sweep", stored, spec.experiment_name, spec.display_name, spec.tags)
