"""Training validation's rules: how a job YAML is bent to run locally on a sample.

`local_training_overrides` returns the `--set` pairs that make a job (command, pipeline, sweep)
run on this machine in a throw-away workspace: every `compute` (the job's, each pipeline step's,
`settings.default_compute`) becomes `local`, so a YAML written for `azureml:cpu-cluster` runs
unchanged; and with a sample, the job's one data input (`uri_file`, `uri_folder` or `mltable`)
points at it. A job with several data inputs is refused with a message naming them: bind the
sample with `--set inputs.NAME.path=FILE` instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlyard.errors import InvalidArgument

DATA_INPUT_TYPES = ("uri_file", "uri_folder", "mltable")


def local_training_overrides(spec: dict[str, Any], source: str, sample: Path | None) -> dict[str, str]:
    """The `--set` pairs that run `spec` (the YAML's mapping) locally, on `sample` when given."""
    overrides: dict[str, str] = {}
    if "compute" in spec:
        overrides["compute"] = "local"
    settings = spec.get("settings")
    if isinstance(settings, dict) and "default_compute" in settings:
        overrides["settings.default_compute"] = "local"
    steps = spec.get("jobs")
    if isinstance(steps, dict):
        for name, step in steps.items():
            if isinstance(step, dict) and "compute" in step:
                overrides[f"jobs.{name}.compute"] = "local"
    if sample is not None:
        overrides |= _sample_binding(spec, source, sample)
    return overrides


def _sample_binding(spec: dict[str, Any], source: str, sample: Path) -> dict[str, str]:
    inputs = spec.get("inputs")
    data_inputs = [
        str(name)
        for name, value in (inputs.items() if isinstance(inputs, dict) else [])
        if isinstance(value, dict) and _is_data_input(value)
    ]
    if not data_inputs:
        raise InvalidArgument(
            f"{source}: the job has no data input (uri_file, uri_folder, mltable) to run on --data {sample}"
        )
    if len(data_inputs) > 1:
        raise InvalidArgument(
            f"{source}: the job has several data inputs ({', '.join(data_inputs)}); say which one reads "
            f"the sample with --set inputs.NAME.path={sample} instead of --data"
        )
    # the input keeps its declared type: the job's code expects a file or a folder, as declared
    return {f"inputs.{data_inputs[0]}.path": str(sample.resolve())}


def _is_data_input(value: dict[str, Any]) -> bool:
    """A data input: one of the data types, or a `path` with no type (Azure's default uri_folder)."""
    declared = value.get("type")
    return declared in DATA_INPUT_TYPES or (declared is None and "path" in value)
