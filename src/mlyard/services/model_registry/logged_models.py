"""Logged models: model files a run logs with the MLflow 3 client, and their registration.

A logged model is created pending, its files are uploaded into a folder of its own
(`logged-models/<id>/`), then it is finalized ready (or failed). Registering a ready one copies
its files into a new, immutable model version of flavor `mlflow`; the logged model itself can
still receive tags. Like tracked-run data, logged models are the run's content and are not
audited; their registration is.

Rules that live here: a logged model belongs to an existing experiment (and run, when given);
its params never change once logged; only a ready model is registered; ready is final.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from mlyard.artifacts import safe_relpath
from mlyard.entities.registry.logged_model import LoggedModel, LoggedModelStatus
from mlyard.entities.registry.model import ModelVersion
from mlyard.entities.specs.names import validate_name
from mlyard.errors import Conflict, InvalidArgument, NotFound
from mlyard.services.model_registry import models
from mlyard.services.tracking import jobs
from mlyard.services.tracking.artifact_files import local_folder
from mlyard.services.tracking.experiments import get_experiment
from mlyard.services.tracking.job_artifacts import job_artifact_root
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import logged_models as rows

SEARCHABLE = ("name", "source_run_id", "status", "model_type")
MAX_SEARCH_RESULTS = 50_000


def logged_model_root(model_id: str) -> str:
    return f"logged-models/{model_id}"


def create_logged_model(
    workspace: Workspace,
    experiment_id: int,
    name: str | None = None,
    source_run_id: str | None = None,
    model_type: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
) -> LoggedModel:
    """A new pending logged model in `experiment_id`, logged by `source_run_id` if given."""
    model_id = f"m-{uuid.uuid4().hex}"
    name = validate_name(name, "logged model name") if name else f"model-{model_id[2:10]}"
    if model_type is not None and len(model_type) > 64:
        raise InvalidArgument(f"model_type is {len(model_type)} characters; the limit is 64")
    clean_params, clean_tags = jobs.check_params(params or {}), jobs.check_tags(tags or {})
    get_experiment(workspace, experiment_id)  # NotFound before anything is written
    if source_run_id is not None:
        jobs.ensure_job_exists(workspace, source_run_id)
    now = datetime.now(UTC)
    values: dict[str, Any] = dict(
        id=model_id, experiment_id=experiment_id, name=name, source_run_id=source_run_id,
        status=LoggedModelStatus.PENDING.value, model_type=model_type, params=clean_params,
        tags=clean_tags, artifact_path=logged_model_root(model_id), created_at=now, updated_at=now,
    )  # fmt: skip
    workspace.database.write(lambda session: rows.insert(session, values))
    return LoggedModel.model_validate(values)


def get_logged_model(workspace: Workspace, model_id: str) -> LoggedModel:
    with workspace.database.read() as session:
        return _require(session, model_id)


def finalize_logged_model(workspace: Workspace, model_id: str, status: LoggedModelStatus) -> LoggedModel:
    """Mark the upload of its files done (ready) or failed; a ready model stays ready."""
    if status == LoggedModelStatus.PENDING:
        raise InvalidArgument("a logged model is finalized as ready or failed, not pending")

    def work(session: Session) -> LoggedModel:
        model = _require(session, model_id)
        if model.status == LoggedModelStatus.READY and status != LoggedModelStatus.READY:
            raise Conflict(f"logged model {model_id} is ready; its files are final")
        return _update(session, model, status=status.value)

    return workspace.database.write(work)


def set_logged_model_tags(workspace: Workspace, model_id: str, tags: dict[str, Any]) -> LoggedModel:
    clean = jobs.check_tags(tags)

    def work(session: Session) -> LoggedModel:
        model = _require(session, model_id)
        return _update(session, model, tags={**model.tags, **clean})

    return workspace.database.write(work)


def delete_logged_model_tag(workspace: Workspace, model_id: str, key: str) -> None:
    def work(session: Session) -> None:
        model = _require(session, model_id)
        if key not in model.tags:
            raise NotFound(f"logged model {model_id} has no tag {key!r}")
        _update(session, model, tags={k: v for k, v in model.tags.items() if k != key})

    workspace.database.write(work)


def log_logged_model_params(workspace: Workspace, model_id: str, params: dict[str, Any]) -> LoggedModel:
    """Add params; like a run's, a param never changes once logged."""
    clean = jobs.check_params(params)

    def work(session: Session) -> LoggedModel:
        model = _require(session, model_id)
        for key, value in clean.items():
            if key in model.params and model.params[key] != value:
                raise Conflict(
                    f"param {key!r} of logged model {model_id} is already {model.params[key]!r}, cannot "
                    f"change it to {value!r}; params are immutable"
                )
        return _update(session, model, params={**model.params, **clean})

    return workspace.database.write(work)


def search_logged_models(
    workspace: Workspace,
    experiment_ids: Sequence[int] = (),
    equal: dict[str, str] | None = None,
    not_equal: dict[str, str] | None = None,
    max_results: int = 100,
    offset: int = 0,
) -> list[LoggedModel]:
    """Logged models of the experiments (all when none given) whose fields match, newest first."""
    equal, not_equal = dict(equal or {}), dict(not_equal or {})
    for field in [*equal, *not_equal]:
        if field not in SEARCHABLE:
            raise InvalidArgument(f"logged models are searched by {', '.join(SEARCHABLE)}; not by {field!r}")
    for chosen in (equal, not_equal):
        if "status" in chosen:
            chosen["status"] = LoggedModelStatus(chosen["status"]).value
    if not 0 < max_results <= MAX_SEARCH_RESULTS:
        raise InvalidArgument(f"max_results must be between 1 and {MAX_SEARCH_RESULTS}, got {max_results}")
    with workspace.database.read() as session:
        return rows.search(session, experiment_ids, equal, not_equal, max_results, offset)


def register_logged_model(
    workspace: Workspace,
    model_id: str,
    name: str,
    tags: dict[str, str] | None = None,
    description: str | None = None,
    source: str | None = None,
) -> ModelVersion:
    """A new version of model `name` (flavor mlflow) holding a copy of a ready logged model's files."""
    model = get_logged_model(workspace, model_id)
    if model.status != LoggedModelStatus.READY:
        raise InvalidArgument(
            f"logged model {model_id} is {model.status.value}, not ready; only a logged model whose "
            "files were all uploaded (finalized ready) can be registered"
        )
    properties = {"mlflow.source": source or f"models:/{model_id}", "mlflow.model_id": model_id}
    with local_folder(workspace, model.artifact_path) as folder:
        return models.register_model_folder(
            workspace, name, folder, flavor="mlflow", description=description, tags=tags,
            properties=properties, job_id=model.source_run_id,
        )  # fmt: skip


def register_job_artifacts(
    workspace: Workspace,
    job_id: str,
    artifact_path: str,
    name: str,
    tags: dict[str, str] | None = None,
    description: str | None = None,
    source: str | None = None,
) -> ModelVersion:
    """A new version of model `name` (flavor mlflow) from an MLflow model folder the job logged."""
    jobs.ensure_job_exists(workspace, job_id)
    inner = safe_relpath(artifact_path, allow_root=True)
    folder = "/".join(part for part in (job_artifact_root(job_id), inner) if part)
    if not workspace.artifacts.is_dir(folder):
        raise NotFound(f"job {job_id} has no artifact folder {inner or '(root)'!r} to register as a model")
    properties = {"mlflow.source": source or f"runs:/{job_id}/{inner}"}
    with local_folder(workspace, folder) as local:
        return models.register_model_folder(
            workspace, name, local, flavor="mlflow", description=description, tags=tags,
            properties=properties, job_id=job_id,
        )  # fmt: skip


def _require(session: Session, model_id: str) -> LoggedModel:
    model = rows.get(session, model_id)
    if model is None:
        raise NotFound(f"logged model {model_id!r} does not exist")
    return model


def _update(session: Session, model: LoggedModel, **values: Any) -> LoggedModel:
    now = datetime.now(UTC)
    rows.update_fields(session, model.id, {**values, "updated_at": now})
    return LoggedModel.model_validate({**model.model_dump(), **values, "updated_at": now})
