"""Submitting parallel jobs: inputs pinned, code, environment and compute checked — then queued."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlyard.entities.job import Job
from mlyard.entities.local_files import confine
from mlyard.entities.parallel_spec import ResolvedParallelJob, parallel_job_from_dict
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
    entry = confine(
        (Path(code) if code else base_dir) / spec.task.entry_script, f"{source}: task.entry_script"
    )
    if not entry.is_file():
        raise NotFound(
            f"{source}: task.entry_script: {spec.task.entry_script} does not exist (looked for {entry})"
        )
    inputs = {
        name: resolve_input(workspace, given, base_dir, f"{source}: inputs.{name}")
        for name, given in spec.inputs.items()
    }
    environment, environment_ref = resolve_environment(
        workspace, spec.task.environment, base_dir, f"{source}: task"
    )
    unit, limit = spec.batch_limit()
    resolved = ResolvedParallelJob(
        inputs=inputs,
        outputs=spec.outputs,
        data_input=spec.data_input,
        partition_keys=spec.partition_keys,
        batch_unit="count" if unit == "count" else "bytes",
        batch_limit=limit,
        workers=spec.workers,
        error_threshold=spec.error_threshold,
        mini_batch_error_threshold=spec.mini_batch_error_threshold,
        max_retries=spec.retry_settings.max_retries,
        timeout_seconds=spec.retry_settings.timeout,
        code=code or str(base_dir),
        code_hash=digest or code_hash(base_dir),  # no `code:`: the entry script's folder is the code
        entry_script=spec.task.entry_script,
        program_arguments=spec.task.program_arguments,
        append_output=spec.append_output,
        environment=environment,
        environment_ref=environment_ref,
        environment_variables={**spec.environment_variables, **spec.task.environment_variables},
        compute=spec.compute,
    )
    return Submission(
        "parallel", resolved.model_dump(mode="json"), spec.experiment_name, spec.display_name, spec.tags
    )
