"""A pipeline job as its runner executes it: the checked graph with every reference pinned.

Stored as the pipeline job's spec. Each step says where each input comes from — a value, a
pinned asset, a pipeline input, or an output of an earlier step (known only once that step has
run) — so the runner needs neither the YAML files nor the registry lookups again.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from mlyard.entities.jobs.job_spec import JobOutput, ResolvedInput
from mlyard.entities.jobs.parallel_spec import ParallelRun


class StepInput(BaseModel):
    source: Literal["resolved", "parent_input", "step_output"]
    value: ResolvedInput | None = None  # resolved: a literal or a pinned asset
    parent_input: str | None = None
    step: str | None = None
    output: str | None = None
    type: str = "string"  # the component input's type


class StepOutput(BaseModel):
    type: str = "uri_folder"
    parent_output: str | None = None
    registration: JobOutput | None = None  # the step's output settings (name/version registers it)


class ResolvedStep(BaseModel):
    name: str
    component: str  # how the step named its component (`./train.yml`, `train:1`, `inline`)
    command: str
    code: str | None = None
    code_hash: str | None = None
    code_artifact: str | None = None
    environment: dict[str, Any] | None = None
    environment_ref: str | None = None
    environment_variables: dict[str, str] = Field(default_factory=dict)
    inputs: dict[str, StepInput | None] = Field(default_factory=dict)  # None: optional, not given
    outputs: dict[str, StepOutput] = Field(default_factory=dict)
    depends_on: list[str] = Field(default_factory=list)
    compute: str | None = None
    deterministic: bool = True
    retry: int = 0
    timeout_seconds: int | None = None
    display_name: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    parallel: ParallelRun | None = None  # a parallel step: run as a child parallel job, not `command`


class ResolvedPipeline(BaseModel):
    type: Literal["pipeline"] = "pipeline"
    inputs: dict[str, ResolvedInput] = Field(default_factory=dict)
    outputs: dict[str, JobOutput] = Field(default_factory=dict)
    steps: dict[str, ResolvedStep]
    order: list[str]  # topological: every step after those it reads from
    continue_on_step_failure: bool = False
    force_rerun: bool = False
    max_concurrency: int | None = None
    compute: str | None = None
