"""Submitting a job of any type: the spec read, `--set` applied, checked by its type's rules, queued.

    submit_job_file (a YAML file) → submit_job_dict (a mapping) → resolve_job_dict, which hands
    `type: command | pipeline | sweep | parallel` to the module that knows it → queue_submission

Nothing is recorded until every reference resolved (see `references.py`): a bad spec leaves no job.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from mlyard.entities.jobs.job import Job
from mlyard.entities.jobs.job_spec import command_job_from_dict
from mlyard.entities.specs.overrides import apply_job_overrides
from mlyard.entities.specs.spec_files import load_yaml
from mlyard.errors import InvalidSpec
from mlyard.services.submission.job_nesting import nesting_tags
from mlyard.services.submission.parallel import parallel_submission
from mlyard.services.submission.pipelines import pipeline_submission
from mlyard.services.submission.references import Submission, command_submission, queue_submission
from mlyard.services.submission.sweeps import sweep_submission
from mlyard.services.workspaces.workspace import Workspace


def submit_job_file(
    workspace: Workspace,
    path: Path,
    overrides: dict[str, str] | None = None,
    experiment: str | None = None,
    display_name: str | None = None,
) -> Job:
    """Read a job YAML of any type (`command`, `pipeline`, `sweep`, `parallel`) and queue it.

    `overrides` are Azure ML's `--set` pairs (`inputs.alpha=0.3`, `limits.timeout=60`), applied
    to the YAML before it is validated; values are read as YAML scalars.
    """
    path = Path(path)
    data = load_yaml(path)
    apply_job_overrides(data, overrides, str(path))
    if experiment:
        data["experiment_name"] = experiment
    if display_name:
        data["display_name"] = display_name
    return submit_job_dict(workspace, data, path.resolve().parent, str(path))


def submit_job_dict(
    workspace: Workspace,
    data: dict[str, Any],
    base_dir: Path,
    source: str,
    dispatch: str | None = None,
    submitted_from: str | None = None,
) -> Job:
    """Queue a job given as the mapping its YAML would hold; relative paths are from `base_dir`.

    `submitted_from` is the job whose process submits this one (its `MLYARD_JOB_ID`): the new job
    records it and its nesting depth, refused beyond the workspace's `max_job_nesting_depth`.
    """
    nesting = nesting_tags(workspace, submitted_from)  # checked first: a runaway stops at once
    submission = resolve_job_dict(workspace, data, base_dir, source)
    if nesting:
        submission = replace(submission, tags={**(submission.tags or {}), **nesting})
    return queue_submission(workspace, submission, dispatch=dispatch)


def resolve_job_dict(workspace: Workspace, data: dict[str, Any], base_dir: Path, source: str) -> Submission:
    """Check and resolve a job of any type (`command`, `pipeline`, `sweep`, `parallel`)."""
    if not isinstance(data, dict):
        raise InvalidSpec(f"{source}: expected a mapping of job fields")
    job_type = data.get("type", "command")
    if job_type == "command":
        return command_submission(workspace, command_job_from_dict(data, source), base_dir, source)
    by_type = {"pipeline": pipeline_submission, "sweep": sweep_submission, "parallel": parallel_submission}
    if job_type not in by_type:
        raise InvalidSpec(f"{source}: type: expected command, pipeline, sweep or parallel, got {job_type!r}")
    return by_type[job_type](workspace, data, base_dir, source)
