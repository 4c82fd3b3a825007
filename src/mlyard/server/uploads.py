"""Staging of files a client sends (a folder to register, a job's code): an upload, then its use.

    POST uploads                          → {"id"}                          one upload per folder or spec
    PUT  uploads/{id}/files/{path}?offset=N   raw bytes, streamed to disk   resumable: N = bytes already there
    GET  uploads/{id}                     → the files and their sizes       what to resume
    then e.g. POST data/{name}/versions {"upload": id, "path": "…"}      the service reads the staged copy

An upload lives in the server's scratch folder, belongs to the key owner who created it, records
the client's folder its paths are relative to (`origin`: errors and recorded sources name that,
never the server's copy), and is removed once used (or after `MAX_AGE_SECONDS`). Paths are
checked like artifact paths: nothing escapes the upload's folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

from starlette.requests import Request

from mlyard.artifacts import safe_relpath
from mlyard.entities.specs.local_files import confined_to, shown_as
from mlyard.errors import Conflict, InvalidArgument, NotFound, PermissionDenied

MAX_AGE_SECONDS = 24 * 3600
MAX_FILE_BYTES = 64 * 2**30
_OWNER_FILE = ".upload-owner"
_ID_LENGTH = 24


class Uploads:
    """The staging folders of one server, below `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def create(self, workspace: str, owner: str, origin: str | None = None) -> str:
        """A new upload of `owner`; `origin` is the client's folder its paths are relative to."""
        upload_id = secrets.token_hex(_ID_LENGTH // 2)
        folder = self._folder(workspace, upload_id, must_exist=False)
        (folder / "files").mkdir(parents=True)
        record = {"owner": owner, "created": time.time(), "origin": origin}
        (folder / _OWNER_FILE).write_text(json.dumps(record))
        return upload_id

    def origin(self, workspace: str, upload_id: str) -> str | None:
        """The client's folder the upload's paths are relative to, if the client said."""
        found = json.loads((self._folder(workspace, upload_id) / _OWNER_FILE).read_text()).get("origin")
        return str(found) if found else None

    def files_folder(self, workspace: str, upload_id: str, owner: str) -> Path:
        """The folder holding an upload's files; only its creator may use it."""
        folder = self._folder(workspace, upload_id)
        recorded = json.loads((folder / _OWNER_FILE).read_text()).get("owner")
        if recorded != owner:
            raise PermissionDenied(f"upload {upload_id} belongs to {recorded}, not {owner}")
        return folder / "files"

    def target(self, workspace: str, upload_id: str, owner: str, path: str) -> Path:
        relative = safe_relpath(path)
        return self.files_folder(workspace, upload_id, owner) / relative

    async def write(self, target: Path, offset: int, chunks: AsyncIterator[bytes]) -> int:
        """Append the streamed body to `target` at `offset` (its current size); returns the new size."""
        target.parent.mkdir(parents=True, exist_ok=True)
        current = target.stat().st_size if target.exists() else 0
        if offset != current:
            raise Conflict(
                f"{target.name} has {current} bytes here; resume with offset={current}, not {offset}"
            )
        size = current
        with open(target, "ab") as file:
            async for chunk in chunks:
                size += len(chunk)
                if size > MAX_FILE_BYTES:
                    file.truncate(current)
                    raise InvalidArgument(f"a file may have at most {MAX_FILE_BYTES:,} bytes")
                file.write(chunk)
        return size

    def listing(self, workspace: str, upload_id: str, owner: str) -> list[tuple[str, int]]:
        files = self.files_folder(workspace, upload_id, owner)
        return sorted(
            (path.relative_to(files).as_posix(), path.stat().st_size)
            for path in files.rglob("*")
            if path.is_file()
        )

    def remove(self, workspace: str, upload_id: str) -> None:
        shutil.rmtree(self._folder(workspace, upload_id, must_exist=False), ignore_errors=True)

    def remove_stale(self, now: float | None = None) -> int:
        """Remove uploads older than `MAX_AGE_SECONDS` (abandoned by their client); returns how many."""
        now = time.time() if now is None else now
        removed = 0
        for owner_file in self.root.glob(f"*/*/{_OWNER_FILE}"):
            try:
                created = json.loads(owner_file.read_text()).get("created", 0)
            except (OSError, ValueError):
                created = 0
            if now - float(created) > MAX_AGE_SECONDS:
                shutil.rmtree(owner_file.parent, ignore_errors=True)
                removed += 1
        return removed

    def _folder(self, workspace: str, upload_id: str, must_exist: bool = True) -> Path:
        if len(upload_id) != _ID_LENGTH or not all(c in "0123456789abcdef" for c in upload_id):
            raise NotFound(f"no upload {upload_id!r}")
        folder = self.root / workspace / upload_id
        if must_exist and not (folder / _OWNER_FILE).is_file():
            raise NotFound(f"no upload {upload_id!r} (uploads are removed once used, or after a day)")
        return folder


@contextmanager
def staged_files(request: Request, ws: str, upload_id: str | None, base: str = "") -> Iterator[Path]:
    """The folder `base` of an upload of the caller, removed after the block (an empty folder
    without an upload): what a registration or submission reads its files from."""
    uploads: Uploads = request.app.state.uploads
    if upload_id is None:
        # Nothing was sent: a path the spec names is the client's, relative to where it ran.
        with (
            tempfile.TemporaryDirectory(prefix="mlyard-empty-") as empty,
            confined_to(Path(empty)),
            shown_as(Path(empty), "."),
        ):
            yield Path(empty)
        return
    files = uploads.files_folder(ws, upload_id, str(request.state.actor.name)).resolve()
    folder = (files / safe_relpath(base, "base", allow_root=True)).resolve()
    # The spec's own folder may hold nothing it names (`../../model-1/…` only); it must exist
    # all the same, or the OS cannot walk `..` out of it.
    folder.mkdir(parents=True, exist_ok=True)
    origin = uploads.origin(ws, upload_id)
    try:
        # A spec may name the uploaded files, never the server's own; errors name the client's
        # own folder, not this copy of it.
        with confined_to(files), shown_as(files, origin) if origin else contextlib.nullcontext():
            yield folder
    finally:
        uploads.remove(ws, upload_id)


@contextmanager
def kept_files(
    request: Request, ws: str, workspace_path: Path, upload_id: str | None, base: str
) -> Iterator[Path]:
    """An upload's files copied where a schedule or monitor keeps them (its spec is read again at
    each firing or run, long after the upload is gone); removed again when the spec is refused.
    Yields the YAML's folder in the copy (`base`, normalised as staged)."""
    # Without an upload, an empty folder; with one, the YAML's folder in it.
    base = safe_relpath(base, "base", allow_root=True) if upload_id is not None else ""
    with staged_files(request, ws, upload_id, base) as folder:
        root = folder
        for _ in Path(base).parts:  # back up to the upload's own folder: the files beside the YAML too
            root = root.parent
        kept = Path(workspace_path) / "schedules" / "files" / uuid.uuid4().hex
        shutil.copytree(root, kept)
    try:
        with confined_to(kept):  # the spec may name the files it sent, never the server's own
            yield kept / base if base else kept
    except BaseException:
        shutil.rmtree(kept, ignore_errors=True)
        raise


def staged_path(folder: Path, path: str) -> Path:
    """`path` inside a staged folder, which must exist there."""
    target = folder / safe_relpath(path, "path")
    if not target.exists():
        raise NotFound(f"path {path!r} is not in the upload; upload it first")
    return target


def default_root() -> Path:
    from mlyard.runtime.runner_process import scratch_root

    return Path(os.environ.get("MLYARD_UPLOADS", scratch_root() / "uploads"))
