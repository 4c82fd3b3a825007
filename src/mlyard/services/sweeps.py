"""Submitting sweep jobs: the trial resolved like a command job, the search space checked — then queued."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlyard.entities.job import Job
from mlyard.entities.sweep_spec import SweepTrial, sweep_job_from_dict
from mlyard.errors import InvalidSpec
from mlyard.services.job_submission import queue_job, resolve_command_job
from mlyard.services.workspace import Workspace


def submit_sweep_job(
    workspace: Workspace, data: dict[str, Any], base_dir: Path, source: str, parent_job_id: str | None = None
) -> Job:
    spec = sweep_job_from_dict(data, source)
    if not isinstance(spec.trial, SweepTrial):
        raise InvalidSpec(
            f"{source}: trial: a component reference ({spec.trial}) is not supported for sweep jobs yet; "
            "write the trial inline (code, command, environment)"
        )
    trial = resolve_command_job(workspace, spec.trial_command_job(), base_dir, source)
    stored = {"type": "sweep", "sweep": spec.model_dump(mode="json"), "trial": trial.model_dump(mode="json")}
    return queue_job(
        workspace, stored, "sweep", spec.experiment_name, spec.display_name, spec.tags, parent_job_id
    )
