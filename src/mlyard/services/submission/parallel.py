"""Submitting parallel jobs: inputs pinned, code, environment and compute checked — then queued."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlyard.entities.jobs.job import Job
from mlyard.entities.jobs.parallel_spec import ResolvedParallelJob, parallel_job_from_dict
from mlyard.entities.specs.local_files import confine
from mlyard.errors import NotFound
from mlyard.services.assets.code_snapshots import code_hash, resolve_code
from mlyard.services.assets.computes import check_compute
from mlyard.services.submission.references import (
    Submission,
    queue_submission,
    resolve_environment,
    resolve_input,
)
from mlyard.services.workspaces.workspace import Workspace


def check_entry_script(code_dir: Path, entry_script: str, where: str) -> None:
    """The entry script must be a file inside the task's code folder."""
    entry = confine(code_dir / entry_script, f"{where}.entry_script")
    if not entry.is_file():
        raise NotFound(f"{where}.entry_script: {entry_script} does not exist (looked for {entry})")


def submit_parallel_job(
    workspace: Workspace, data: dict[str, Any], base_dir: Path, source: str, parent_job_id: str | None = None
) -> Job:
    return queue_submission(workspace, parallel_submission(workspace, data, base_dir, source), parent_job_id)


def parallel_submission(
    workspace: Workspace, data: dict[str, Any], base_dir: Path, source: str
) -> Submission:
    spec = parallel_job_from_dict(data, source)
    check_compute(workspace, spec.compute, f"{source}: compute")
    code, digest = resolve_code(spec.task.code, base_dir, f"{source}: task.code")
    check_entry_script(Path(code) if code else base_dir, spec.task.entry_script, f"{source}: task")
    inputs = {
        name: resolve_input(workspace, given, base_dir, f"{source}: inputs.{name}")
        for name, given in spec.inputs.items()
    }
    environment, environment_ref = resolve_environment(
        workspace, spec.task.environment, base_dir, f"{source}: task"
    )
    resolved = ResolvedParallelJob(
        **spec.run_settings().model_dump(),
        inputs=inputs,
        outputs=spec.outputs,
        code=code or str(base_dir),
        code_hash=digest or code_hash(base_dir),  # no `code:`: the entry script's folder is the code
        environment=environment,
        environment_ref=environment_ref,
        environment_variables={**spec.environment_variables, **spec.task.environment_variables},
        compute=spec.compute,
    )
    return Submission(
        "parallel", resolved.model_dump(mode="json"), spec.experiment_name, spec.display_name, spec.tags
    )
