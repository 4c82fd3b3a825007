"""Submitting pipeline jobs: components resolved, the graph checked, references pinned — then queued.

Nothing runs, and no job row is written, until every step's component, binding, input path,
data asset and environment has been found and checked; the errors of all steps are reported
together, each naming the file, the step and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlyard.entities.assets.builtin_components import builtin_component, is_builtin_ref
from mlyard.entities.assets.component_spec import CommandComponentSpec, load_component
from mlyard.entities.jobs.job import Job
from mlyard.entities.jobs.job_spec import ResolvedInput
from mlyard.entities.jobs.pipeline_graph import InputBinding, PipelineGraph, StepBinding, build_graph
from mlyard.entities.jobs.pipeline_spec import ParallelStep, PipelineJobSpec
from mlyard.entities.jobs.resolved_pipeline import ResolvedPipeline, ResolvedStep, StepInput, StepOutput
from mlyard.entities.specs.local_files import confine
from mlyard.entities.specs.spec_files import validate_spec
from mlyard.errors import MlyardError, NotFound, combined
from mlyard.services.assets.code_snapshots import code_hash, resolve_code
from mlyard.services.assets.components import component_code_dir, get_component
from mlyard.services.assets.computes import check_compute
from mlyard.services.registries.references import is_store_ref
from mlyard.services.registries.resolution import PROP_REFERENCE, resolve_component
from mlyard.services.submission.parallel import check_entry_script
from mlyard.services.submission.references import (
    Submission,
    queue_submission,
    resolve_asset_path,
    resolve_environment,
    resolve_input,
)
from mlyard.services.workspaces.workspace import Workspace


@dataclass(frozen=True)
class _StepSource:
    """Where a step's component came from: its spec, the folder its paths are relative to, stored code."""

    component: CommandComponentSpec
    base_dir: Path
    label: str
    stored_code: Path | None = None
    stored_code_hash: str | None = None


def submit_pipeline_job(
    workspace: Workspace,
    data: dict[str, Any],
    base_dir: Path,
    source: str,
    parent_job_id: str | None = None,
) -> Job:
    return queue_submission(workspace, pipeline_submission(workspace, data, base_dir, source), parent_job_id)


def pipeline_submission(
    workspace: Workspace, data: dict[str, Any], base_dir: Path, source: str
) -> Submission:
    spec = validate_spec(PipelineJobSpec, data, source)
    resolved = resolve_pipeline(workspace, spec, base_dir, source)
    return Submission(
        "pipeline", resolved.model_dump(mode="json"), spec.experiment_name, spec.display_name, spec.tags
    )


def resolve_pipeline(
    workspace: Workspace, spec: PipelineJobSpec, base_dir: Path, source: str
) -> ResolvedPipeline:
    sources = _step_sources(workspace, spec, base_dir, source)
    graph = build_graph(spec, {name: s.component for name, s in sources.items()}, source)
    inputs = {}
    for name, given in spec.inputs.items():
        resolved = resolve_input(workspace, given, base_dir, f"{source}: inputs.{name}")
        if resolved is not None:
            inputs[name] = resolved
    problems: list[MlyardError] = []
    steps: dict[str, ResolvedStep] = {}
    for name, binding in graph.steps.items():
        try:
            steps[name] = _resolve_step(workspace, spec, graph, binding, sources.get(name), base_dir, source)
        except MlyardError as exc:
            problems.append(exc)
    if problems:
        raise combined(problems)
    return ResolvedPipeline(
        inputs=inputs,
        outputs=spec.outputs,
        steps=steps,
        order=graph.topological_order(),
        continue_on_step_failure=spec.settings.continue_on_step_failure,
        force_rerun=spec.settings.force_rerun,
        max_concurrency=spec.settings.max_concurrency,
        compute=spec.default_compute,
    )


def _step_sources(
    workspace: Workspace, spec: PipelineJobSpec, base_dir: Path, source: str
) -> dict[str, _StepSource]:
    """The component of every step that names one: a YAML path, a built-in
    (`entities/assets/builtin_components`), a registry's (`azureml://registries/<r>/components/…`,
    copied into the workspace and pinned) or a registered `name:version`."""
    found: dict[str, _StepSource] = {}
    problems: list[MlyardError] = []
    for name, step in spec.jobs.items():
        where = f"{source}: jobs.{name}.component"
        try:
            if step.component_path is not None:
                path = Path(step.component_path).expanduser()
                path = confine(path if path.is_absolute() else base_dir / path, where)
                if not path.exists():
                    raise NotFound(f"{where}: {step.component_path} does not exist (looked for {path})")
                found[name] = _StepSource(load_component(path), path.parent, step.component_path)
            elif is_builtin_ref(step.component):  # azureml://registries/mlyard/components/…
                assert isinstance(step.component, str)
                builtin = builtin_component(step.component)
                found[name] = _StepSource(builtin, base_dir, f"{step.component} (built-in)")
            elif is_store_ref(step.component):  # azureml://registries/<user registry>/components/…
                assert isinstance(step.component, str)
                pinned = resolve_component(workspace, step.component)
                found[name] = _StepSource(
                    pinned.spec, base_dir, f"{pinned.ref} ({pinned.tags[PROP_REFERENCE]})",
                    component_code_dir(workspace, pinned), pinned.code_hash,
                )  # fmt: skip
            elif step.component_ref is not None:
                registered = get_component(workspace, step.component_ref)
                found[name] = _StepSource(
                    registered.spec, base_dir, registered.ref,
                    component_code_dir(workspace, registered), registered.code_hash,
                )  # fmt: skip
            elif isinstance(step.component, CommandComponentSpec):
                found[name] = _StepSource(step.component, base_dir, "inline component")
        except MlyardError as exc:
            message = exc.message if exc.message.startswith(source) else f"{where}: {exc.message}"
            problems.append(type(exc)(message))
    if problems:
        raise combined(problems)
    return found


def _resolve_step(
    workspace: Workspace,
    spec: PipelineJobSpec,
    graph: PipelineGraph,
    binding: StepBinding,
    step_source: _StepSource | None,
    base_dir: Path,
    source: str,
) -> ResolvedStep:
    name, step, component = binding.name, binding.step, binding.component
    where = f"{source}: jobs.{name}"
    check_compute(workspace, binding.compute, f"{where}.compute")
    component_dir = step_source.base_dir if step_source else base_dir
    code: str | None
    digest: str | None
    if step_source is not None and step_source.stored_code is not None:
        code, digest = str(step_source.stored_code), step_source.stored_code_hash
    else:
        code, digest = resolve_code(
            component.code, component_dir, f"{where}.code", component.additional_includes
        )
        if code is not None and digest is None:
            digest = code_hash(Path(code))
    # A step's own `environment:` is relative to the pipeline; the component's, to its file.
    env_dir = base_dir if step.environment else component_dir
    environment, environment_ref = resolve_environment(workspace, binding.environment, env_dir, where)
    inputs = {
        input_name: _step_input(workspace, bound, base_dir, f"{where}.inputs.{input_name}")
        for input_name, bound in binding.inputs.items()
    }
    outputs = {
        output_name: StepOutput(
            type=bound.type,
            parent_output=bound.parent_output,
            registration=bound.settings if bound.settings is not None and bound.settings.name else None,
        )
        for output_name, bound in binding.outputs.items()
    }
    environment_variables = binding.environment_variables
    parallel = None
    if isinstance(step, ParallelStep):
        check_entry_script(Path(code) if code else base_dir, step.task.entry_script, f"{where}.task")
        if code is None:  # no `code:`: the entry script's folder (the pipeline's) is the code
            code, digest = str(base_dir), code_hash(base_dir)
        environment_variables = {**environment_variables, **step.task.environment_variables}
        parallel = step.run_settings()
    return ResolvedStep(
        name=name,
        component=step_source.label if step_source else ("parallel" if parallel else "inline command"),
        command=component.command,
        code=code,
        code_hash=digest,
        environment=environment,
        environment_ref=environment_ref,
        environment_variables=environment_variables,
        inputs=inputs,
        outputs=outputs,
        depends_on=[s for s in graph.topological_order() if s in binding.depends_on],
        compute=binding.compute,
        deterministic=binding.is_deterministic,
        retry=step.retry,
        timeout_seconds=step.timeout_seconds,
        display_name=step.display_name or name,
        tags=step.tags,
        parallel=parallel,
    )


def _step_input(workspace: Workspace, bound: InputBinding, base_dir: Path, where: str) -> StepInput | None:
    if bound.source == "not_given":
        return None
    if bound.source == "parent_input":
        return StepInput(source="parent_input", parent_input=bound.parent_input, type=bound.type)
    if bound.source == "step_output":
        return StepInput(source="step_output", step=bound.step, output=bound.output, type=bound.type)
    if bound.asset is not None:
        assert bound.asset.path is not None
        resolved = resolve_asset_path(workspace, bound.type, bound.asset.path, base_dir, where, bound.mode)
        return StepInput(source="resolved", value=resolved, type=bound.type)
    if bound.value is None:
        return None
    literal = ResolvedInput(type=bound.type, source="literal", value=bound.value)
    return StepInput(source="resolved", value=literal, type=bound.type)
