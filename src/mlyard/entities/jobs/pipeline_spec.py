"""The pipeline job spec, as Azure ML CLI v2 YAML writes it (`type: pipeline`).

    $schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json
    type: pipeline
    inputs:
      max_epochs: 20
    outputs:
      trained_model: {mode: upload}
    settings:
      default_compute: azureml:cpu-cluster
      continue_on_step_failure: false
    jobs:
      train:
        type: command
        component: ./train.yml              # or azureml:train:1, train@latest, or inline
        inputs:
          training_data: {type: uri_folder, path: ./data}
          max_epochs: ${{parent.inputs.max_epochs}}
        outputs:
          model_output: ${{parent.outputs.trained_model}}
      score:
        command: python score.py --model ${{inputs.model}}   # an inline command step
        environment: azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest
        inputs:
          model: ${{parent.jobs.train.outputs.model_output}}

This module reads and checks the shape only; component references stay unresolved, and the
bindings between steps are checked by `pipeline_graph` once the components are known.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from mlyard.entities.assets.builtin_components import is_builtin_ref
from mlyard.entities.assets.component_spec import CommandComponentSpec
from mlyard.entities.jobs.job_spec import (
    CLOUD_ONLY_FIELDS,
    JobInput,
    JobLimits,
    JobOutput,
    OutputMap,
)
from mlyard.entities.jobs.parallel_spec import CLOUD_ONLY_FIELDS as PARALLEL_CLOUD_ONLY_FIELDS
from mlyard.entities.jobs.parallel_spec import ParallelOptions
from mlyard.entities.specs.command_line import bindings
from mlyard.entities.specs.names import AssetRef, parse_ref
from mlyard.entities.specs.spec_files import did_you_mean, load_yaml, validate_spec
from mlyard.entities.specs.spec_values import LiteralValue, TextMap, mapping_or_value, plain_value, without
from mlyard.errors import InvalidArgument, InvalidSpec

# Step kinds Azure ML runs inside pipelines that mlyard does not run there yet.
UNSUPPORTED_STEP_TYPES = ("sweep", "pipeline", "automl", "spark", "data_transfer", "import")
_STEP_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


# A value or a mapping, told apart by the value's own shape so an error names only the branch the
# user meant. The tags start with "union[" so error locations skip them (see spec_files).
PlainValue = Annotated[LiteralValue, PlainValidator(plain_value)]
InputValue = Annotated[
    Annotated[JobInput, Tag("union[mapping]")] | Annotated[PlainValue, Tag("union[value]")],
    Discriminator(mapping_or_value),
]
ComponentRef = Annotated[
    Annotated[CommandComponentSpec, Tag("union[mapping]")] | Annotated[str, Tag("union[value]")],
    Discriminator(mapping_or_value),
]
OutputValue = Annotated[
    Annotated[JobOutput, Tag("union[mapping]")] | Annotated[str, Tag("union[value]")],
    Discriminator(mapping_or_value),
]


def _is_registry_ref(component: str) -> bool:
    """`azureml://registries/<r>/components/…`: a built-in (`mlyard`) or a user registry's component,
    checked where it is resolved (services/submission/pipelines)."""
    return is_builtin_ref(component) or component.strip().startswith("azureml://registries/")


def _is_path(component: str) -> bool:
    return component.startswith(("file:", "./", "../", "/")) or component.endswith((".yml", ".yaml"))


class PipelineStep(BaseModel):
    """One step under `jobs:` — a component (`component:`) or an inline command (`command:`).

    Inputs take a literal, a binding (`${{parent.inputs.x}}`, `${{parent.jobs.a.outputs.b}}`) or an
    input mapping (`{type: uri_folder, path: ./data}`); outputs take `${{parent.outputs.c}}`, an
    output mapping, or nothing (a `uri_folder` mlyard places).
    """

    model_config = ConfigDict(extra="forbid")

    type: Literal["command"] = "command"
    component: ComponentRef | None = None
    inputs: dict[str, InputValue | None] = Field(default_factory=dict)
    outputs: dict[str, OutputValue | None] = Field(default_factory=dict)
    # inline command steps only; inputs and outputs come first so their bindings can be checked
    command: str | None = Field(default=None, min_length=1)
    code: str | None = None
    environment: str | dict[str, Any] | None = None  # on a component step: overrides the component's
    environment_variables: TextMap = Field(default_factory=dict)
    compute: str | None = None
    name: str | None = None
    display_name: str | None = None
    description: str | None = None
    comment: str | None = None
    tags: TextMap = Field(default_factory=dict)
    properties: TextMap = Field(default_factory=dict)
    is_deterministic: bool | None = None  # None: as the component says
    retry: int = Field(default=0, ge=0, description="times a failed step is run again")
    # as on a command job: Azure ML's keys are accepted and ignored; on Ray, `cpu`, `memory`, `gpu`
    resources: dict[str, Any] | None = None
    limits: JobLimits | None = None
    timeout: int | None = Field(default=None, gt=0, description="seconds; same as limits.timeout")

    @model_validator(mode="before")
    @classmethod
    def _supported_step(cls, data: Any) -> Any:
        if isinstance(data, dict):
            step_type = data.get("type", "command")
            if step_type in UNSUPPORTED_STEP_TYPES:
                raise ValueError(
                    f"type: {step_type} steps are not supported inside pipelines yet; use a command step"
                )
        return without(data, CLOUD_ONLY_FIELDS)

    @field_validator("component")
    @classmethod
    def _reference_is_readable(cls, component: Any) -> Any:
        if isinstance(component, str) and not _is_path(component) and not _is_registry_ref(component):
            try:
                parse_ref(component, default_alias=None)
            except InvalidArgument as exc:
                raise ValueError(
                    f"{exc.message}; a component is a YAML path (./train.yml), name:version, name@latest "
                    "or a registry's (azureml://registries/shared/components/train/versions/1; built-ins "
                    "are azureml://registries/mlyard/components/smoke/labels/latest)"
                ) from None
        return component

    @field_validator("command")
    @classmethod
    def _bindings_resolve(cls, command: str | None, info: ValidationInfo) -> str | None:
        if command is None:
            return None
        for binding in bindings(command):
            if binding.kind == "search_space":
                raise ValueError(f"uses {binding}, but a pipeline step binds only inputs and outputs")
            if binding.optional:
                continue  # dropped when not given
            if binding.kind not in info.data:
                continue  # that field failed its own validation: its error says why, not this one
            declared = info.data[binding.kind]
            if binding.name not in declared:
                names = ", ".join(sorted(declared)) or "none"
                hint = did_you_mean(binding.name, declared)
                raise ValueError(
                    f"uses {binding}, but this step's {binding.kind} have no {binding.name!r}{hint} "
                    f"(declared: {names})"
                )
        return command

    @model_validator(mode="after")
    def _component_or_command(self) -> PipelineStep:
        if self.component is None and self.command is None:
            raise ValueError("give either component (a YAML path, name:version or a mapping) or command")
        if self.component is not None and (self.command is not None or self.code is not None):
            raise ValueError("give either component or command and code, not both")
        return self

    @property
    def is_inline(self) -> bool:
        """Whether the step is an inline command rather than a component."""
        return self.component is None

    @property
    def component_path(self) -> str | None:
        """The component YAML (`./train.yml`, `file:./train.yml`) as written, relative to the pipeline."""
        if isinstance(self.component, str) and _is_path(self.component):
            return self.component.removeprefix("file:")
        return None

    @property
    def component_ref(self) -> AssetRef | None:
        """The registered component (`azureml:train:1`, `train@latest`) the step runs, if it names one."""
        if (
            isinstance(self.component, str)
            and not _is_path(self.component)
            and not _is_registry_ref(self.component)
        ):
            return parse_ref(self.component, default_alias=None)
        return None

    @property
    def timeout_seconds(self) -> int | None:
        return self.timeout or (self.limits.timeout if self.limits else None)


class ParallelStep(ParallelOptions):
    """A `type: parallel` step under `jobs:` (Azure ML's many-models pattern): the parallel job's
    fields, with inputs and outputs bound as a command step binds them.

        jobs:
          train_each:
            type: parallel
            inputs:
              data: ${{parent.jobs.prep.outputs.table}}        # or {type: mltable, path: …, mode: direct}
            outputs:
              scores: {type: uri_file, path: azureml://datastores/${{default_datastore}}/paths/${{name}}/scores.csv}
            input_data: ${{inputs.data}}
            partition_keys: [region, store_format]
            task: {code: ./src, entry_script: train.py, append_row_to: ${{outputs.scores}}}

    The step runs as a child parallel job; its mini-batches are that job's children.
    """

    type: Literal["parallel"] = "parallel"
    inputs: dict[str, InputValue | None] = Field(default_factory=dict)
    outputs: dict[str, OutputValue | None] = Field(default_factory=dict)
    compute: str | None = None
    name: str | None = None
    display_name: str | None = None
    description: str | None = None
    comment: str | None = None
    tags: TextMap = Field(default_factory=dict)
    properties: TextMap = Field(default_factory=dict)
    is_deterministic: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _inline_task_only(cls, data: Any) -> Any:
        if isinstance(data, dict) and "component" in data:
            raise ValueError(
                "component: a parallel step takes its task inline (task: {type: run_function, "
                "entry_script: …}); parallel components are not supported yet"
            )
        return without(data, PARALLEL_CLOUD_ONLY_FIELDS)

    # What the pipeline graph asks of every step (see PipelineStep); a parallel step is its own
    # component, built from the inputs and outputs it declares.
    @property
    def component(self) -> None:
        return None

    @property
    def component_path(self) -> None:
        return None

    @property
    def component_ref(self) -> None:
        return None

    @property
    def is_inline(self) -> bool:
        return True

    @property
    def retry(self) -> int:
        return 0  # a failed mini-batch is retried (retry_settings), not the whole step

    @property
    def timeout_seconds(self) -> None:
        return None  # retry_settings.timeout bounds each mini-batch

    @property
    def command(self) -> str:
        """What the graph checks the bindings of: the entry script, the data and the arguments."""
        return f"{self.task.entry_script} {self.input_data} {self.task.program_arguments or ''}".strip()

    @property
    def code(self) -> str | None:
        return self.task.code

    @property
    def environment(self) -> str | dict[str, Any] | None:
        return self.task.environment


def _step_kind(data: Any) -> str:
    kind = data.get("type") if isinstance(data, dict) else getattr(data, "type", None)
    return "union[parallel]" if kind == "parallel" else "union[command]"


AnyPipelineStep = PipelineStep | ParallelStep
AnyStep = Annotated[
    Annotated[PipelineStep, Tag("union[command]")] | Annotated[ParallelStep, Tag("union[parallel]")],
    Discriminator(_step_kind),
]


class PipelineSettings(BaseModel):
    """`settings:` of a pipeline job.

    Azure ML's own preview settings `on_init` / `on_finalize` are accepted and ignored. Any other
    key is refused (Azure ML ignores them silently), so a misspelt `force_rerun` cannot pass unseen.
    """

    model_config = ConfigDict(extra="forbid")

    default_compute: str | None = None
    default_datastore: str | None = None
    continue_on_step_failure: bool = False
    force_rerun: bool = False
    max_concurrency: int | None = Field(default=None, ge=1, description="None: one step per CPU core")
    on_init: str | None = None
    on_finalize: str | None = None


class PipelineJobSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["pipeline"] = "pipeline"
    name: str | None = None
    display_name: str | None = None
    experiment_name: str | None = None
    description: str | None = None
    tags: TextMap = Field(default_factory=dict)
    properties: TextMap = Field(default_factory=dict)
    compute: str | None = None
    inputs: dict[str, InputValue] = Field(default_factory=dict)
    outputs: OutputMap = Field(default_factory=dict)
    settings: PipelineSettings = Field(default_factory=PipelineSettings)
    jobs: dict[str, AnyStep] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _drop_cloud_only_fields(cls, data: Any) -> Any:
        return without(data, CLOUD_ONLY_FIELDS)

    @field_validator("settings", mode="before")
    @classmethod
    def _empty_settings(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("jobs")
    @classmethod
    def _step_names_are_bindable(cls, jobs: dict[str, AnyPipelineStep]) -> dict[str, AnyPipelineStep]:
        for name in jobs:
            if not _STEP_NAME.match(name):
                raise ValueError(
                    f"step name {name!r}: start with a letter or '_', then letters, digits, '_' or '-'"
                )
        return jobs

    @property
    def default_compute(self) -> str | None:
        """The compute of steps that name none: `settings.default_compute`, else top-level `compute`."""
        return self.settings.default_compute or self.compute

    def step_compute(self, step: str) -> str | None:
        return self.jobs[step].compute or self.default_compute


def load_pipeline_job(path: Path) -> PipelineJobSpec:
    """Read and validate a pipeline job YAML; errors name the file and the field.

    Component references (`./train.yml`, `azureml:train:1`) stay as written: resolving them, and
    checking the bindings between steps, is `pipeline_graph.build_graph`'s work.
    """
    data = load_yaml(path)
    job_type = data.get("type")
    if job_type != "pipeline":
        raise InvalidSpec(f"{path}: type: this reader takes pipeline jobs (type: pipeline), got {job_type!r}")
    return validate_spec(PipelineJobSpec, data, str(path))
