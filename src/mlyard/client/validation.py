"""Validation before training and release, as CI runs it: `mlyard validate` and the SDK call these.

    validate_data(client, file, "name@version")   a data file against a data asset's profile
                                                    (the asset read through `client`, local or remote)
    validate_training("pipeline.yml", sample)      the job run to its end on this machine, in a
                                                    throw-away workspace, every compute made local
    validate_scoring("score.py", data=sample)      a scoring script or model folder scoring sample
                                                    rows in this process (`serving/sample_scoring`)
    validate_registered_scoring(client, "m@production", script, data=sample)
                                                    the same with a registered model version,
                                                    downloaded and laid out as deployments see it

Each returns a `ValidationReport` listing every problem found; none raises because the data or
the code is wrong (that is the report's job), only when the command itself is (a missing file,
an unknown data asset, a YAML that does not parse).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from mlyard.entities.governance.validation import ValidationProblem, ValidationReport
from mlyard.entities.jobs.job import Job, JobStatus
from mlyard.services.validation.data_checks import validate_data_file
from mlyard.services.validation.training_checks import local_training_overrides
from mlyard.serving.sample_scoring import validate_scoring

if TYPE_CHECKING:
    from mlyard.client.mlclient import MLClient

__all__ = ["validate_data", "validate_registered_scoring", "validate_scoring", "validate_training"]


def validate_data(client: MLClient, file: Path, against: str) -> ValidationReport:
    """Check `file` against the profile of data asset `against` (`name:version`, `name@latest`)."""
    return validate_data_file(file, client.data.get(against))


def validate_registered_scoring(
    client: MLClient,
    model: str,
    script: Path | None = None,
    data: Path | None = None,
    request: Path | None = None,
    rows: int | None = None,
) -> ValidationReport:
    """Score a sample with registered model version `model` (`name:version`, `name@alias`): by its
    flavor, or with `script` finding it in AZUREML_MODEL_DIR as an online deployment lays it out."""
    from mlyard.services.model_registry.model_layout import scoring_model_dir

    version = client.models.get(model)
    with tempfile.TemporaryDirectory(prefix="mlyard-validate-", ignore_cleanup_errors=True) as folder:
        files = client.models.download(f"{version.name}:{version.version}", Path(folder) / "download")
        if script is None:
            report = validate_scoring(files, data, request, None, rows)
        else:
            model_dir = scoring_model_dir(version, files, Path(folder) / "mount")
            report = validate_scoring(script, data, request, model_dir, rows)
    report.details["model"] = f"{version.name}:{version.version}"
    return report


def is_registered_model(text: str) -> bool:
    """A `--model`/`--scoring` value that names a registered version (`name:version`, `name@alias`,
    `azureml:…`) rather than a file or folder: no such path exists and it has a `:` or an `@`."""
    return not Path(text).exists() and (":" in text or "@" in text)


def validate_training(
    job_file: Path,
    data: Path | None = None,
    overrides: dict[str, str] | None = None,
) -> ValidationReport:
    """Run the job YAML to its end locally, on `data` (bound to its one data input) when given."""
    from mlyard.client.mlclient import MLClient
    from mlyard.entities.specs.spec_files import load_yaml
    from mlyard.errors import NotFound

    if not job_file.is_file():
        raise NotFound(f"job file {job_file} does not exist")
    if data is not None and not data.exists():
        raise NotFound(f"data file {data} does not exist")
    spec = load_yaml(job_file)
    settings = local_training_overrides(spec, str(job_file), data) | (overrides or {})
    report = ValidationReport(kind="training", target=str(job_file))
    # A workspace of its own, thrown away after: validation leaves no trace in the team's.
    with (
        tempfile.TemporaryDirectory(prefix="mlyard-validate-", ignore_cleanup_errors=True) as folder,
        MLClient(workspace=Path(folder) / "workspace", create=True) as client,
    ):
        job = client.jobs.create(job_file, overrides=settings, experiment="validate")
        ended = client.jobs.stream(job.id, lambda _: None)  # its log is in its error if it fails
        steps = client.jobs.children(job.id)
    report.details = _training_details(ended, steps, data)
    if ended.status != JobStatus.COMPLETED:  # its error holds the last lines of its log
        report.problems += _failures(ended, steps)
    return report


def _training_details(job: Job, steps: list[Job], data: Path | None) -> dict[str, object]:
    return {
        "job": job.id,
        "type": job.type,
        "status": job.status.value,
        "seconds": job.duration_seconds,
        "sample": str(data) if data else None,
        "metrics": job.model_dump(mode="json")["metrics"],
        "steps": {step.display_name or step.id: step.status.value for step in steps},
    }


def _failures(job: Job, steps: list[Job]) -> list[ValidationProblem]:
    """The job's end, then each step that did not complete, so a pipeline names its broken step."""
    reason = f": {job.error}" if job.error else ""
    problems = [ValidationProblem(check="job", message=f"job {job.id} ended {job.status.value}{reason}")]
    for step in steps:
        if step.status in (JobStatus.FAILED, JobStatus.CANCELED):
            why = f": {step.error}" if step.error else ""
            name = step.display_name or step.id
            problems.append(
                ValidationProblem(check="step", message=f"step {name} ended {step.status.value}{why}")
            )
    return problems
