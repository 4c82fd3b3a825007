"""Resolving a job's references: every path, asset, job output and environment pinned and checked.

A spec that names a missing file, an unknown data asset or model, or an environment that cannot
be resolved is refused with an error naming the file and field — and no job row is written, so
nothing is left Queued forever. What is stored is the resolved spec: absolute paths, pinned
asset versions (`@latest` becomes the version it was at submission), the resolved environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlyard.entities.assets.environment_spec import ResolvedEnvironment
from mlyard.entities.jobs.job import QUEUE, Job, JobStatus
from mlyard.entities.jobs.job_spec import (
    LITERAL_INPUT_TYPES,
    CommandJobSpec,
    JobInput,
    ResolvedCommandJob,
    ResolvedInput,
)
from mlyard.entities.specs.local_files import spec_path
from mlyard.entities.specs.names import parse_ref
from mlyard.entities.specs.spec_values import LiteralValue
from mlyard.errors import InvalidArgument, InvalidSpec, MlyardError, NotFound
from mlyard.services.assets.code_snapshots import resolve_code
from mlyard.services.assets.computes import check_compute
from mlyard.services.assets.environments import resolve_environment as resolve_named_environment
from mlyard.services.execution.job_runs import job_output
from mlyard.services.registries import resolution as registry_resolution
from mlyard.services.registries.references import is_store_ref
from mlyard.services.submission.snapshots import snapshot_local_paths
from mlyard.services.tracking.jobs import start_job
from mlyard.services.workspaces.workspace import Workspace

MODEL_INPUT_TYPES = ("custom_model", "mlflow_model", "triton_model")
_JOB_OUTPUT_PREFIX = "azureml://jobs/"


@dataclass(frozen=True)
class Submission:
    """A job spec with every reference resolved and checked: what `queue_submission` records."""

    job_type: str
    spec: dict[str, Any]
    experiment: str | None
    display_name: str | None
    tags: dict[str, str] | None


def queue_submission(
    workspace: Workspace,
    submission: Submission,
    parent_job_id: str | None = None,
    dispatch: str | None = None,
) -> Job:
    """Record a resolved job as Queued. `dispatch="queue"` hands it to a team server's workers,
    which may run on other machines: its local code and inputs are stored in the artifact store."""
    spec = submission.spec
    if dispatch == QUEUE:
        spec = snapshot_local_paths(workspace, spec)
    return queue_job(
        workspace, spec, submission.job_type, submission.experiment, submission.display_name,
        submission.tags, parent_job_id, dispatch,
    )  # fmt: skip


def resolve_command_job(
    workspace: Workspace, spec: CommandJobSpec, base_dir: Path, source: str
) -> ResolvedCommandJob:
    """Pin every reference of `spec`; `source` names the spec file in errors."""
    check_compute(workspace, spec.compute, f"{source}: compute")
    code, code_hash = resolve_code(spec.code, base_dir, f"{source}: code")
    inputs: dict[str, ResolvedInput | None] = {}
    for name, given in spec.inputs.items():
        inputs[name] = resolve_input(workspace, given, base_dir, f"{source}: inputs.{name}")
    environment, environment_ref = resolve_environment(workspace, spec.environment, base_dir, source)
    return ResolvedCommandJob(
        command=spec.command,
        code=code,
        code_hash=code_hash,
        inputs=inputs,
        outputs=spec.outputs,
        environment=environment,
        environment_ref=environment_ref,
        environment_variables=spec.environment_variables,
        compute=spec.compute,
        timeout_seconds=spec.timeout_seconds,
        resources=spec.resources,
    )


def submit_command_job(
    workspace: Workspace,
    spec: CommandJobSpec,
    base_dir: Path,
    source: str = "job",
    parent_job_id: str | None = None,
) -> Job:
    """Resolve `spec` and record it as a Queued job; a runner executes it (see runtime/launch)."""
    return queue_submission(workspace, command_submission(workspace, spec, base_dir, source), parent_job_id)


def command_submission(workspace: Workspace, spec: CommandJobSpec, base_dir: Path, source: str) -> Submission:
    resolved = resolve_command_job(workspace, spec, base_dir, source)
    return Submission(
        "command", resolved.model_dump(mode="json"), spec.experiment_name, spec.display_name, spec.tags
    )


def queue_job(
    workspace: Workspace,
    spec: dict[str, Any],
    job_type: str,
    experiment: str | None,
    display_name: str | None,
    tags: dict[str, str] | None,
    parent_job_id: str | None = None,
    dispatch: str | None = None,
) -> Job:
    return start_job(
        workspace,
        experiment=experiment,
        display_name=display_name,
        tags=tags,
        job_type=job_type,
        parent_job_id=parent_job_id,
        status=JobStatus.QUEUED,
        spec=spec,
        dispatch=dispatch,
    )


def resolve_input(
    workspace: Workspace, given: JobInput | LiteralValue | None, base_dir: Path, where: str
) -> ResolvedInput | None:
    """A literal, a local path, or a pinned data asset / model / job output."""
    if given is None:
        return None
    if not isinstance(given, JobInput):
        return ResolvedInput(type=_literal_type(given), source="literal", value=given)
    if given.type in LITERAL_INPUT_TYPES:
        return ResolvedInput(type=given.type, source="literal", value=given.value)
    assert given.path is not None  # JobInput's validator guarantees it for asset types
    return resolve_asset_path(workspace, given.type, given.path, base_dir, f"{where}.path", given.mode)


def resolve_asset_path(
    workspace: Workspace, input_type: str, path: str, base_dir: Path, where: str, mode: str | None = None
) -> ResolvedInput:
    text = path.strip()
    if text.startswith(_JOB_OUTPUT_PREFIX):
        return _job_output_input(workspace, input_type, text, where, mode)
    if is_store_ref(text):
        return _asset_input(workspace, input_type, text, where, mode)
    if text.startswith("azureml://"):
        raise InvalidSpec(
            f"{where}: {text} is a cloud datastore path; mlyard reads local paths, "
            "data assets (azureml:name:version) and job outputs (azureml://jobs/<id>/outputs/<name>)"
        )
    if text.startswith("azureml:") or (_looks_like_ref(text) and not spec_path(text, base_dir).exists()):
        return _asset_input(workspace, input_type, text, where, mode)
    local = spec_path(text, base_dir)
    if not local.exists():
        raise NotFound(f"{where}: {text} does not exist (looked for {local})")
    if input_type == "uri_file" and not local.is_file():
        raise InvalidSpec(f"{where}: {text} is a folder, but the input's type is uri_file")
    if input_type in ("uri_folder", "mltable", *MODEL_INPUT_TYPES) and not local.is_dir():
        raise InvalidSpec(f"{where}: {text} is a file, but the input's type is {input_type} (a folder)")
    return ResolvedInput(type=input_type, source="local", path=str(local), mode=mode)


def _asset_input(
    workspace: Workspace, input_type: str, text: str, where: str, mode: str | None
) -> ResolvedInput:
    try:
        if input_type in MODEL_INPUT_TYPES:
            model = registry_resolution.find_model(workspace, text)
            return ResolvedInput(
                type=input_type, source="model", name=model.name, version=model.version, mode=mode,
                content_hash=model.content_hash,
            )  # fmt: skip
        asset = registry_resolution.find_data(workspace, text)
    except MlyardError as exc:
        raise type(exc)(f"{where}: {exc.message}") from None
    return ResolvedInput(
        type=input_type, source="data", name=asset.name, version=asset.version, mode=mode,
        content_hash=asset.content_hash,
    )  # fmt: skip


def _job_output_input(
    workspace: Workspace, input_type: str, text: str, where: str, mode: str | None
) -> ResolvedInput:
    parts = text[len(_JOB_OUTPUT_PREFIX) :].split("/")
    if len(parts) < 3 or parts[1] != "outputs":
        raise InvalidSpec(f"{where}: expected azureml://jobs/<job id>/outputs/<output name>, got {text}")
    job_id, name = parts[0], parts[2]
    try:
        output = job_output(workspace, job_id, name)
    except MlyardError as exc:
        raise type(exc)(f"{where}: {exc.message}") from None
    return ResolvedInput(
        type=input_type, source="job_output", job_id=job_id, output=name, mode=mode,
        content_hash=output.content_hash,
    )  # fmt: skip


def resolve_environment(
    workspace: Workspace, environment: str | dict[str, Any] | None, base_dir: Path, source: str
) -> tuple[dict[str, Any] | None, str | None]:
    """The resolved environment (None: mlyard's own interpreter) and how the spec named it."""
    if environment is None:
        return None, None

    where = f"{source}: environment"
    resolved: ResolvedEnvironment | None
    try:
        if is_store_ref(environment):
            assert isinstance(environment, str)
            resolved = registry_resolution.resolve_environment(workspace, environment)
        else:
            resolved = resolve_named_environment(workspace, environment, base_dir, where)
    except MlyardError as exc:
        if exc.message.startswith(where):
            raise
        raise type(exc)(f"{where}: {exc.message}") from None
    shown = environment if isinstance(environment, str) else "(inline)"
    return (resolved.model_dump(mode="json") if resolved is not None else None), shown


def _literal_type(value: LiteralValue) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def _looks_like_ref(text: str) -> bool:
    """`name:version` or `name@label`: no path separators, exactly one of ':' / '@'."""
    if "/" in text or "\\" in text or text.startswith("."):
        return False
    try:
        parse_ref(text, default_alias=None)
    except InvalidArgument:
        return False
    return True
