"""mlyard records ↔ MLflow's JSON entities: experiments, runs, metrics, logged models, registry.

MLflow names that differ from ours:
  experiment id   an integer, as text; the `Default` experiment is always "0", as in MLflow
  run             a job: run_id = job id, run_name = display_name, user_id = tag `mlflow.user`
  run status      RUNNING / SCHEDULED / FINISHED / FAILED / KILLED ↔ Running / Queued / Completed /
                  Failed / Canceled (NotStarted shows as SCHEDULED; Finalizing, CancelRequested as RUNNING)
  times           milliseconds since the epoch (JSON numbers) ↔ aware datetimes
  metric values   numbers; NaN and ±infinity as the strings "NaN", "Infinity", "-Infinity"
  artifact_uri    mlflow-artifacts:/<experiment id>/<run id>/artifacts ↔ the job's artifacts
  model version   always READY, stage "None"; its files at mlflow-artifacts:/model-versions/<name>/<version>
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from mlyard.entities.jobs.experiment import Experiment
from mlyard.entities.jobs.job import Job, JobStatus, Metric
from mlyard.entities.registry.logged_model import LoggedModel, LoggedModelStatus
from mlyard.entities.registry.model import Model, ModelVersion
from mlyard.services.tracking.jobs import DEFAULT_EXPERIMENT

DEFAULT_EXPERIMENT_ID = "0"
RUN_NAME_TAG = "mlflow.runName"
USER_TAG = "mlflow.user"
PARENT_RUN_TAG = "mlflow.parentRunId"
VERSION_FILES = "model-versions"  # first segment of a model version's mlflow-artifacts path

STATUS_TO_MLFLOW = {
    JobStatus.NOT_STARTED: "SCHEDULED",
    JobStatus.QUEUED: "SCHEDULED",
    JobStatus.RUNNING: "RUNNING",
    JobStatus.FINALIZING: "RUNNING",
    JobStatus.CANCEL_REQUESTED: "RUNNING",
    JobStatus.COMPLETED: "FINISHED",
    JobStatus.FAILED: "FAILED",
    JobStatus.CANCELED: "KILLED",
}
MLFLOW_TO_STATUSES: dict[str, tuple[JobStatus, ...]] = {}
for _status, _name in STATUS_TO_MLFLOW.items():
    MLFLOW_TO_STATUSES[_name] = (*MLFLOW_TO_STATUSES.get(_name, ()), _status)
END_STATUS = {"FINISHED": JobStatus.COMPLETED, "FAILED": JobStatus.FAILED, "KILLED": JobStatus.CANCELED}

LOGGED_MODEL_STATUS = {
    LoggedModelStatus.PENDING: "LOGGED_MODEL_PENDING",
    LoggedModelStatus.READY: "LOGGED_MODEL_READY",
    LoggedModelStatus.FAILED: "LOGGED_MODEL_UPLOAD_FAILED",
}
LOGGED_MODEL_STATUS_FROM = {name: status for status, name in LOGGED_MODEL_STATUS.items()}


def millis(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def from_millis(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


def key_values(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"key": key, "value": value} for key, value in values.items()]


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


# --- experiments -------------------------------------------------------------------------------


def experiment_id(experiment: Experiment) -> str:
    return DEFAULT_EXPERIMENT_ID if experiment.name == DEFAULT_EXPERIMENT else str(experiment.id)


def experiment_json(experiment: Experiment | None) -> dict[str, Any]:
    """An experiment; None stands for `Default` before its first run created it."""
    ident = experiment_id(experiment) if experiment else DEFAULT_EXPERIMENT_ID
    created = millis(experiment.created_at) if experiment else 0
    return {
        "experiment_id": ident,
        "name": experiment.name if experiment else DEFAULT_EXPERIMENT,
        "artifact_location": f"mlflow-artifacts:/{ident}",
        "lifecycle_stage": "active",
        "creation_time": created,
        "last_update_time": created,
        "tags": [],
    }


# --- runs --------------------------------------------------------------------------------------


def artifact_uri(experiment: str, run_id: str) -> str:
    return f"mlflow-artifacts:/{experiment}/{run_id}/artifacts"


def run_info_json(job: Job, experiment: str) -> dict[str, Any]:
    return _without_none(
        {
            "run_id": job.id,
            "run_uuid": job.id,
            "run_name": job.display_name or "",
            "experiment_id": experiment,
            "user_id": job.tags.get(USER_TAG, ""),
            "status": STATUS_TO_MLFLOW[job.status],
            "start_time": millis(job.start_time or job.created_at),
            "end_time": millis(job.end_time),
            "artifact_uri": artifact_uri(experiment, job.id),
            "lifecycle_stage": "active",
        }
    )


def metric_json(metric: Metric) -> dict[str, Any]:
    """A point as MLflow's server writes it: NaN and ±infinity as "NaN", "Infinity", "-Infinity"."""
    return metric.to_dict()


def run_json(job: Job, experiment: str, latest: Iterable[Metric]) -> dict[str, Any]:
    """A run with its params, tags and the latest point of each metric."""
    return {
        "info": run_info_json(job, experiment),
        "data": {
            "metrics": [metric_json(point) for point in latest],
            "params": key_values(job.params),
            "tags": key_values(job.tags),
        },
    }


# --- logged models -----------------------------------------------------------------------------


def logged_model_artifact_uri(experiment: str, model_id: str) -> str:
    return f"mlflow-artifacts:/{experiment}/models/{model_id}/artifacts"


def logged_model_json(model: LoggedModel, experiment: str) -> dict[str, Any]:
    info = _without_none(
        {
            "model_id": model.id,
            "experiment_id": experiment,
            "name": model.name,
            "artifact_uri": logged_model_artifact_uri(experiment, model.id),
            "creation_timestamp_ms": millis(model.created_at),
            "last_updated_timestamp_ms": millis(model.updated_at),
            "status": LOGGED_MODEL_STATUS[model.status],
            "model_type": model.model_type,
            "source_run_id": model.source_run_id,
            "tags": key_values(model.tags),
        }
    )
    return {"info": info, "data": {"params": key_values(model.params), "metrics": []}}


# --- registry ----------------------------------------------------------------------------------


def version_download_uri(version: ModelVersion) -> str:
    return f"mlflow-artifacts:/{VERSION_FILES}/{version.name}/{version.version}"


def model_version_json(version: ModelVersion) -> dict[str, Any]:
    created = millis(version.created_at)
    return _without_none(
        {
            "name": version.name,
            "version": version.version,
            "creation_timestamp": created,
            "last_updated_timestamp": created,
            "user_id": version.created_by,
            "current_stage": "Archived" if version.archived else "None",
            "description": version.description,
            "source": version.properties.get("mlflow.source") or version_download_uri(version),
            "run_id": version.job_id,
            "status": "READY",
            "tags": key_values(version.tags),
            "aliases": list(version.aliases),
            "model_id": version.properties.get("mlflow.model_id"),
        }
    )


def registered_model_json(model: Model, latest: ModelVersion | None = None) -> dict[str, Any]:
    created = millis(model.created_at)
    updated = millis(latest.created_at) if latest else created
    return _without_none(
        {
            "name": model.name,
            "creation_timestamp": created,
            "last_updated_timestamp": updated,
            "description": model.description,
            "tags": key_values(model.tags),
            "aliases": [{"alias": alias, "version": version} for alias, version in model.aliases.items()],
            "latest_versions": [model_version_json(latest)] if latest else [],
        }
    )
