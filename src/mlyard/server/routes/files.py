"""Files over HTTP: uploads (staging for registrations and submissions) and artifact downloads.

    POST uploads · PUT uploads/{id}/files/{path}?offset=N · GET uploads/{id} · DELETE uploads/{id}
    GET  artifacts?path=P&recursive=true       a listing (what a download fetches)
    GET  artifacts/{path}                      one file; `Range: bytes=…` resumes (206)
    PUT  jobs/{id}/artifacts/{path}            log an artifact file of a running job (raw body)

Bodies stream to disk and downloads stream from the store: no file is held in memory whole.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from mlyard.artifacts import ArtifactInfo, safe_relpath
from mlyard.errors import InvalidArgument
from mlyard.server.auth import ContributorWorkspace, ReaderWorkspace
from mlyard.server.schemas.common import Request as Body
from mlyard.server.uploads import Uploads
from mlyard.services.tracking import job_artifacts
from mlyard.services.tracking.jobs import ensure_job_exists
from mlyard.services.workspaces.workspace import Workspace

router = APIRouter(prefix="/api/v1/workspaces/{ws}")
STREAMED_BODIES = (
    re.compile(r"^/api/v1/workspaces/[^/]+/uploads/[^/]+/files/"),
    re.compile(r"^/api/v1/workspaces/[^/]+/jobs/[^/]+/artifacts/"),
    re.compile(r"^/api/v1/workspaces/[^/]+/queue/jobs/[^/]+/log$"),
)
CHUNK = 1024 * 1024


def is_streamed_upload(scope: Scope) -> bool:
    return any(pattern.match(scope["path"]) for pattern in STREAMED_BODIES)


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class UploadCreate(Body):
    origin: str | None = Field(
        default=None,
        description="the client's folder the upload's paths are relative to: errors about the "
        "uploaded files name it instead of the server's copy",
        max_length=4096,
    )


class UploadCreated(BaseModel):
    id: str


class UploadedFile(BaseModel):
    path: str
    size: int


class UploadListing(BaseModel):
    id: str
    files: list[UploadedFile]


class ArtifactEntry(BaseModel):
    path: str = Field(description="relative to the workspace's artifact store")
    is_dir: bool
    size: int | None


class ArtifactListing(BaseModel):
    value: list[ArtifactEntry]


def _uploads(request: Request) -> Uploads:
    uploads: Uploads = request.app.state.uploads
    return uploads


def _owner(request: Request) -> str:
    return str(request.state.actor.name)


@router.post("/uploads", response_model=UploadCreated, status_code=status.HTTP_201_CREATED, tags=["files"])
def create_upload(
    ws: str, workspace: ContributorWorkspace, request: Request, body: UploadCreate | None = None
) -> UploadCreated:
    """A staging area for the files of one registration or submission."""
    origin = body.origin if body is not None else None
    return UploadCreated(id=_uploads(request).create(ws, _owner(request), origin))


@router.put("/uploads/{upload_id}/files/{path:path}", response_model=UploadedFile, tags=["files"])
async def upload_file(
    ws: str,
    upload_id: str,
    path: str,
    workspace: ContributorWorkspace,
    request: Request,
    offset: Annotated[int, Query(ge=0, description="bytes of this file already uploaded")] = 0,
) -> UploadedFile:
    """Append the raw body to a staged file at `offset` (0 for a new file); resumable."""
    uploads = _uploads(request)
    target = await run_in_threadpool(uploads.target, ws, upload_id, _owner(request), path)
    size = await uploads.write(target, offset, request.stream())
    return UploadedFile(path=safe_relpath(path), size=size)


@router.get("/uploads/{upload_id}", response_model=UploadListing, tags=["files"])
def show_upload(ws: str, upload_id: str, workspace: ContributorWorkspace, request: Request) -> UploadListing:
    files = _uploads(request).listing(ws, upload_id, _owner(request))
    return UploadListing(id=upload_id, files=[UploadedFile(path=p, size=s) for p, s in files])


@router.delete(
    "/uploads/{upload_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, tags=["files"]
)
def delete_upload(ws: str, upload_id: str, workspace: ContributorWorkspace, request: Request) -> Response:
    _uploads(request).files_folder(ws, upload_id, _owner(request))  # NotFound / not yours
    _uploads(request).remove(ws, upload_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/artifacts", response_model=ArtifactListing, tags=["files"])
def list_artifacts(workspace: ReaderWorkspace, path: str = "", recursive: bool = False) -> ArtifactListing:
    """What is stored under `path` (an asset's, a model's or a job's folder)."""
    entries = workspace.artifacts.list(path, recursive=recursive)
    return ArtifactListing(value=[ArtifactEntry(path=e.path, is_dir=e.is_dir, size=e.size) for e in entries])


@router.get("/artifacts/{path:path}", tags=["files"], response_class=Response)
def download_artifact(workspace: ReaderWorkspace, path: str, request: Request) -> Response:
    """One stored file; honours `Range` (single ranges), so an interrupted download resumes."""
    relative = safe_relpath(path)
    size = workspace.artifacts.size(relative)  # NotFound / a folder
    local = workspace.artifacts.local_path(relative)
    if local is not None:
        return FileResponse(local, filename=Path(relative).name, content_disposition_type="attachment")
    return _ranged_stream(workspace, relative, size, request.headers.get("range"))


def _ranged_stream(workspace: Workspace, relative: str, size: int, header: str | None) -> Response:
    start, end, code = 0, size - 1, status.HTTP_200_OK
    if header:
        match = _RANGE.match(header.strip())
        if match is None or (not match.group(1) and not match.group(2)):
            raise InvalidArgument(f"Range {header!r}: only one range 'bytes=START-END' is supported")
        if match.group(1):
            start = int(match.group(1))
            end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
        else:  # the last N bytes
            start = max(0, size - int(match.group(2)))
        if start >= size or start > end:
            return Response(status_code=416, headers={"content-range": f"bytes */{size}"})
        code = status.HTTP_206_PARTIAL_CONTENT

    def chunks() -> Iterator[bytes]:
        position = start
        while position <= end:
            data = workspace.artifacts.read_range(relative, position, min(CHUNK, end - position + 1))
            if not data:
                return
            position += len(data)
            yield data

    headers = {"accept-ranges": "bytes", "content-length": str(end - start + 1)}
    if code == status.HTTP_206_PARTIAL_CONTENT:
        headers["content-range"] = f"bytes {start}-{end}/{size}"
    return StreamingResponse(
        chunks(), status_code=code, headers=headers, media_type="application/octet-stream"
    )


@router.put("/jobs/{job_id}/artifacts/{path:path}", status_code=status.HTTP_201_CREATED, tags=["jobs"])
async def put_job_artifact(
    workspace: ContributorWorkspace, job_id: str, path: str, request: Request
) -> dict[str, str]:
    """Store the raw body as artifact file `path` of the job (what `log_artifact` sends)."""
    await run_in_threadpool(ensure_job_exists, workspace, job_id)
    relative = safe_relpath(path)
    with tempfile.TemporaryDirectory(prefix="mlyard-artifact-") as staging:
        local = Path(staging) / Path(relative).name
        await _stream_to(local, request.stream())
        stored = await run_in_threadpool(
            job_artifacts.log_artifact,
            workspace,
            job_id,
            local,
            str(Path(relative).parent) if "/" in relative else None,
        )
    return {"path": stored}


async def _stream_to(target: Path, chunks: AsyncIterator[bytes]) -> None:
    with open(target, "wb") as file:
        async for chunk in chunks:
            file.write(chunk)


def infos(entries: list[ArtifactInfo]) -> list[ArtifactEntry]:
    return [ArtifactEntry(path=e.path, is_dir=e.is_dir, size=e.size) for e in entries]
