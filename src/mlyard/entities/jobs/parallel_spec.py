"""The parallel job spec, as Azure ML CLI v2 YAML writes it (`type: parallel`).

    type: parallel
    inputs:
      sales: {type: mltable, path: azureml:sales@latest}
    outputs:
      scores: {type: uri_folder}
    input_data: ${{inputs.sales}}
    partition_keys: [region, store_format]     # one mini-batch per partition of the table
    mini_batch_size: "10"                      # or: this many files per mini-batch ("1mb": by size)
    resources: {instance_count: 2}
    max_concurrency_per_instance: 2
    error_threshold: 5                         # failed mini-batches tolerated; -1: any number
    mini_batch_error_threshold: 5
    retry_settings: {max_retries: 2, timeout: 60}
    task:
      type: run_function
      code: ./src
      entry_script: train_partition.py         # init() once, run(mini_batch) per mini-batch
      environment: azureml:my-env@latest
      program_arguments: --horizon ${{inputs.horizon}}
      append_row_to: ${{outputs.scores}}

A mini-batch is a pandas DataFrame (partitions, or rows of a table) or a list of file paths.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mlyard.entities.jobs.job_spec import JobInput, JobOutput, OutputMap, ResolvedInput
from mlyard.entities.specs.command_line import bindings
from mlyard.entities.specs.spec_files import load_yaml, validate_spec
from mlyard.entities.specs.spec_values import LiteralValue, TextMap, check_mini_batch_size, mini_batch_limit
from mlyard.errors import InvalidSpec

CLOUD_ONLY_FIELDS = ("identity", "queue_settings", "services", "distribution")
DEFAULT_OUTPUT_FILE = "parallel_run_step.txt"  # Azure ML's name for the appended rows
_BOUND_INPUT = re.compile(r"^\$\{\{\s*inputs\.([A-Za-z_][A-Za-z0-9_\-]*)\s*\}\}$")
_BOUND_OUTPUT = re.compile(r"^\$\{\{\s*outputs\.([A-Za-z_][A-Za-z0-9_\-]*)\s*\}\}$")
LoggingLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class RetrySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_retries: int = Field(default=3, ge=0)
    timeout: int = Field(default=60, gt=0, description="seconds per mini-batch")


class ParallelResources(BaseModel):
    model_config = ConfigDict(extra="allow")  # instance_type, properties, … are cloud-only

    instance_count: int = Field(default=1, ge=1)


class ParallelTask(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["run_function"] = "run_function"
    code: str | None = None
    entry_script: str = Field(min_length=1)
    environment: str | dict[str, Any] | None = None
    program_arguments: str | None = None
    append_row_to: str | None = None
    environment_variables: TextMap = Field(default_factory=dict)

    @field_validator("append_row_to")
    @classmethod
    def _an_output(cls, value: str | None) -> str | None:
        if value is not None and not _BOUND_OUTPUT.match(value):
            raise ValueError("expected ${{outputs.<name>}}")
        return value


class ParallelOptions(BaseModel):
    """What a parallel job and a parallel step of a pipeline share: how the input is split and run.

    `inputs` and `outputs` are declared by each (a job's take values and paths; a step's take
    bindings to the pipeline too); the checks here need only their names.
    """

    model_config = ConfigDict(extra="forbid")

    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict)
    input_data: str
    mini_batch_size: str | int | None = None
    partition_keys: list[str] | None = None
    resources: ParallelResources = Field(default_factory=ParallelResources)
    max_concurrency_per_instance: int = Field(default=1, ge=1)
    error_threshold: int = Field(default=-1, ge=-1)
    mini_batch_error_threshold: int = Field(default=-1, ge=-1)
    retry_settings: RetrySettings = Field(default_factory=RetrySettings)
    logging_level: LoggingLevel | None = None
    environment_variables: TextMap = Field(default_factory=dict)
    task: ParallelTask

    @field_validator("mini_batch_size")
    @classmethod
    def _size(cls, value: str | int | None) -> str | int | None:
        return check_mini_batch_size(value)

    @field_validator("logging_level", mode="before")
    @classmethod
    def _level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _bindings_resolve(self) -> ParallelOptions:
        match = _BOUND_INPUT.match(self.input_data)
        if match is None:
            raise ValueError("input_data: expected ${{inputs.<name>}}")
        if match[1] not in self.inputs:
            raise ValueError(f"input_data: {self.input_data} names no declared input")
        if self.task.append_row_to is not None:
            output = _BOUND_OUTPUT.match(self.task.append_row_to)
            if output is not None and output[1] not in self.outputs:
                raise ValueError(f"task.append_row_to: {self.task.append_row_to} names no declared output")
        for binding in bindings(self.task.program_arguments or ""):
            declared = self.inputs if binding.kind == "inputs" else self.outputs
            if binding.kind == "search_space" or (binding.name not in declared and not binding.optional):
                raise ValueError(f"task.program_arguments: uses {binding}, which names nothing declared")
        if self.partition_keys is not None and not self.partition_keys:
            raise ValueError("partition_keys: give at least one column")
        return self

    @property
    def data_input(self) -> str:
        match = _BOUND_INPUT.match(self.input_data)
        assert match is not None
        return match[1]

    @property
    def append_output(self) -> str | None:
        match = _BOUND_OUTPUT.match(self.task.append_row_to or "")
        return match[1] if match else None

    @property
    def workers(self) -> int:
        return self.resources.instance_count * self.max_concurrency_per_instance

    def batch_limit(self) -> tuple[Literal["count", "bytes"], float]:
        """("count" or "bytes", how many) per mini-batch; Azure ML's default is 10 files."""
        if self.mini_batch_size is None:
            return "count", 10
        return mini_batch_limit(self.mini_batch_size)

    def run_settings(self) -> ParallelRun:
        """The settings the runner needs, with Azure ML's defaults applied."""
        unit, limit = self.batch_limit()
        append = self.append_output
        declared = self.outputs.get(append) if append else None
        return ParallelRun(
            data_input=self.data_input,
            partition_keys=self.partition_keys,
            batch_unit=unit,
            batch_limit=limit,
            workers=self.workers,
            error_threshold=self.error_threshold,
            mini_batch_error_threshold=self.mini_batch_error_threshold,
            max_retries=self.retry_settings.max_retries,
            timeout_seconds=self.retry_settings.timeout,
            entry_script=self.task.entry_script,
            program_arguments=self.task.program_arguments,
            append_output=append,
            append_file=append_file_name(declared if isinstance(declared, JobOutput) else None),
            logging_level=self.logging_level,
        )


class ParallelJobSpec(ParallelOptions):
    type: Literal["parallel"] = "parallel"
    name: str | None = None
    display_name: str | None = None
    experiment_name: str | None = None
    description: str | None = None
    tags: TextMap = Field(default_factory=dict)
    compute: str | None = None
    inputs: dict[str, JobInput | LiteralValue] = Field(default_factory=dict)
    outputs: OutputMap = Field(default_factory=dict)


def append_file_name(output: JobOutput | None) -> str:
    """The file `append_row_to` writes: the file a `uri_file` output's path names (Azure ML's
    `…/paths/${{name}}/aggregated_returns.csv`), else `parallel_run_step.txt`."""
    if output is not None and output.type == "uri_file" and output.path:
        last = output.path.rstrip("/").rsplit("/", 1)[-1]
        if "." in last and "${{" not in last:
            return last
    return DEFAULT_OUTPUT_FILE


def parallel_job_from_dict(data: dict[str, Any], source: str) -> ParallelJobSpec:
    data = {key: value for key, value in data.items() if key not in CLOUD_ONLY_FIELDS}
    return validate_spec(ParallelJobSpec, data, source)


def load_parallel_job(path: Path) -> ParallelJobSpec:
    data = load_yaml(path)
    if data.get("type") != "parallel":
        raise InvalidSpec(f"{path}: type: this reader takes parallel jobs, got {data.get('type')!r}")
    return parallel_job_from_dict(data, str(path))


class ParallelRun(BaseModel):
    """How a parallel job's input is split and its mini-batches run: the part a parallel step of a
    pipeline carries until its inputs are known."""

    data_input: str
    partition_keys: list[str] | None = None
    batch_unit: Literal["count", "bytes"] = "count"
    batch_limit: float = 10
    workers: int = 1
    error_threshold: int = -1
    mini_batch_error_threshold: int = -1
    max_retries: int = 3
    timeout_seconds: int = 60
    entry_script: str
    program_arguments: str | None = None
    append_output: str | None = None
    append_file: str = DEFAULT_OUTPUT_FILE
    logging_level: str | None = None

    @property
    def failure_limit(self) -> int | None:
        """Failed mini-batches tolerated (None: any number); the stricter threshold wins."""
        limits = [n for n in (self.error_threshold, self.mini_batch_error_threshold) if n >= 0]
        return min(limits) if limits else None


class ResolvedParallelJob(ParallelRun):
    """A parallel job with inputs pinned, code and environment resolved: what its runner executes."""

    type: Literal["parallel"] = "parallel"
    inputs: dict[str, ResolvedInput | None] = Field(default_factory=dict)
    outputs: dict[str, JobOutput] = Field(default_factory=dict)
    code: str | None = None
    code_hash: str | None = None
    code_artifact: str | None = None
    environment: dict[str, Any] | None = None
    environment_ref: str | None = None
    environment_variables: dict[str, str] = Field(default_factory=dict)
    compute: str | None = None
