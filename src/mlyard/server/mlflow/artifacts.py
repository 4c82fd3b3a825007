"""The `mlflow-artifacts` proxy API: list, download and upload files, one at a time.

Paths below `/api/2.0/mlflow-artifacts/artifacts/` name an owner's folder, then a file in it:
  <experiment id>/<run id>/artifacts/...               the run's artifacts (the job's)
  <experiment id>/models/<model id>/artifacts/...      a logged model's files
  model-versions/<name>/<version>/...                  a registered version's files (read-only)

An upload is streamed to a temporary file as it arrives (the server's JSON body limit does not
apply to it; `MAX_ARTIFACT_BYTES` does), then stored in one atomic write.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from mlyard.artifacts import safe_relpath
from mlyard.entities.specs.names import AssetRef
from mlyard.errors import InvalidArgument, NotFound, PermissionDenied
from mlyard.server.middleware import error_response
from mlyard.server.mlflow.convert import VERSION_FILES, experiment_id
from mlyard.server.mlflow.experiments import mlflow_ids_of
from mlyard.server.mlflow.routing import (
    ARTIFACTS_PREFIX,
    WORKSPACE_PREFIX,
    Contributor,
    Reader,
    empty,
    mlflow_router,
    ok,
)
from mlyard.services.model_registry import logged_models, models
from mlyard.services.tracking import artifact_files, experiments
from mlyard.services.tracking.job_artifacts import job_artifact_root
from mlyard.services.workspaces.workspace import Workspace

MAX_ARTIFACT_BYTES = 5 * 1024**3  # one file; as much as a single S3 PUT takes
_WRITE_EVERY = 1024 * 1024

router = mlflow_router(ARTIFACTS_PREFIX, "mlflow artifacts")
info_router = mlflow_router(WORKSPACE_PREFIX + "/api/3.0/mlflow", "mlflow")


@dataclass(frozen=True)
class Location:
    """Where an artifact path points: the owner's folder in the store and the path inside it."""

    root: str
    inner: str
    writable: bool


def locate(workspace: Workspace, path: str) -> Location:
    """The folder and file an artifact path names; `NotFound` when its run, model or version is unknown."""
    parts = safe_relpath(path, allow_root=True).split("/")
    if parts[0] == VERSION_FILES and len(parts) >= 3:
        version = models.get_model_version(workspace, AssetRef(parts[1], version=parts[2]))
        return Location(version.artifact_path, "/".join(parts[3:]), writable=False)
    if len(parts) >= 4 and parts[1] == "models" and parts[3] == "artifacts":
        model = logged_models.get_logged_model(workspace, parts[2])
        if mlflow_ids_of(workspace, {model.experiment_id})[model.experiment_id] != parts[0]:
            raise NotFound(f"logged model {model.id} is not in experiment {parts[0]}")
        return Location(model.artifact_path, "/".join(parts[4:]), writable=True)
    if len(parts) >= 3 and parts[2] == "artifacts":
        experiment = experiments.experiment_of_job(workspace, parts[1])
        if parts[0] not in (experiment_id(experiment), str(experiment.id)):
            raise NotFound(f"run {parts[1]} is not in experiment {parts[0]}")
        return Location(job_artifact_root(parts[1]), "/".join(parts[3:]), writable=True)
    raise NotFound(
        f"no artifacts at {path!r}: artifact paths are <experiment id>/<run id>/artifacts/…, "
        f"<experiment id>/models/<model id>/artifacts/… or {VERSION_FILES}/<name>/<version>/…"
    )


@router.get("/artifacts")
def list_artifacts(workspace: Reader, path: Annotated[str, Query()] = "") -> JSONResponse:
    """The entries directly below `path` (names relative to it); none for a missing path or a file."""
    if not path.strip("/"):
        return ok({"files": []})
    location = locate(workspace, path)
    files: list[dict[str, Any]] = []
    for entry in artifact_files.list_folder(workspace, location.root, location.inner):
        item: dict[str, Any] = {"path": entry.path, "is_dir": entry.is_dir}
        if entry.size is not None:
            item["file_size"] = entry.size
        files.append(item)
    return ok({"files": files})


@router.get("/artifacts/{artifact_path:path}")
def download_artifact(workspace: Reader, artifact_path: str) -> FileResponse:
    location = locate(workspace, artifact_path)
    file = artifact_files.local_file(workspace, location.root, location.inner)
    return FileResponse(
        file.path,
        filename=os.path.basename(artifact_path),
        content_disposition_type="inline",
        background=BackgroundTask(file.cleanup) if file.temporary else None,
    )


@router.put("/artifacts/{artifact_path:path}")
async def upload_artifact(workspace: Contributor, artifact_path: str, request: Request) -> Response:
    """Store the raw body as the file at `artifact_path`, replacing one there."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_ARTIFACT_BYTES:
        return _too_large(f"{int(declared):,} bytes")
    location = await run_in_threadpool(locate, workspace, artifact_path)
    if not location.writable:
        raise PermissionDenied(
            "a registered model version's files are immutable; register a new version instead"
        )
    if not safe_relpath(location.inner, allow_root=True):
        raise InvalidArgument("an artifact upload needs a file name after the artifact folder")
    handle, temporary = tempfile.mkstemp(prefix="mlyard-upload-")
    try:
        with os.fdopen(handle, "wb") as sink:
            refused = await _receive(request, sink)
        if refused is not None:
            return refused
        await run_in_threadpool(
            artifact_files.store_file, workspace, location.root, location.inner, Path(temporary)
        )
    finally:
        os.unlink(temporary)
    return empty()


async def _receive(request: Request, sink: Any) -> Response | None:
    """Copy the body into `sink` as it arrives; a refusal when it grows past the limit."""
    size, pending = 0, bytearray()
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_ARTIFACT_BYTES:
                return _too_large(f"more than {MAX_ARTIFACT_BYTES:,} bytes")
            pending += chunk
            if len(pending) >= _WRITE_EVERY:
                await run_in_threadpool(sink.write, bytes(pending))
                pending.clear()
    except ClientDisconnect:
        return error_response(400, "INVALID_PARAMETER_VALUE", "the client went away before the upload ended")
    await run_in_threadpool(sink.write, bytes(pending))
    return None


def _too_large(size: str) -> Response:
    response = error_response(
        413,
        "REQUEST_TOO_LARGE",
        f"artifact upload is {size}; the limit is {MAX_ARTIFACT_BYTES:,} bytes per file",
    )
    response.headers["connection"] = "close"
    return response


@info_router.get("/server-info")
def server_info(workspace: Reader) -> JSONResponse:
    """What the client probes before large transfers: no multipart uploads or downloads, no workspaces."""
    return ok(
        {
            "workspaces_enabled": False,
            "multipart_uploads_enabled": False,
            "multipart_downloads_enabled": False,
        }
    )
