"""The artifact store: files and folders of data assets, models and jobs, kept under one root.

The root is a local folder or any fsspec URL (`memory://…`, `s3://…`). Every path given to the
store is relative to that root and validated by `safe_relpath`, so nothing is read or written
outside it. Writes are atomic: content goes to a hidden temporary name first and is moved into
place only when complete, so readers never see a partial file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlyard.artifacts.hashing import list_files
from mlyard.artifacts.paths import safe_relpath
from mlyard.errors import AlreadyExists, Conflict, InvalidArgument, NotFound, WorkspaceError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

# Names of in-flight writes: `.staging-<uuid>` folders (put_dir) and `.<name>.tmp-<uuid>` files.
_IN_FLIGHT = re.compile(r"^(\.staging-[0-9a-f]{32}|\..+\.tmp-[0-9a-f]{32})$")


@dataclass(frozen=True)
class ArtifactInfo:
    """One entry of a listing; `path` is relative to the store root, `size` is None for folders."""

    path: str
    is_dir: bool
    size: int | None


class ArtifactStore:
    """Files and folders under one root folder or fsspec URL."""

    def __init__(self, root_url: str) -> None:
        """Open the store; a missing local root folder is created, a file there is refused."""
        # fsspec takes ~0.2 s to import: load it only when a store is opened, not with mlyard.
        from fsspec.core import url_to_fs
        from fsspec.implementations.local import LocalFileSystem

        self.root_url = root_url
        fs, root = url_to_fs(root_url)
        self._fs: AbstractFileSystem = fs
        self._root: str = root.rstrip("/") or "/"
        self._is_local = isinstance(fs, LocalFileSystem)
        if self._is_local:
            _create_local_root(Path(self._root))

    @property
    def is_local(self) -> bool:
        """True when artifacts are plain files on this machine (see `local_path`)."""
        return self._is_local

    def __repr__(self) -> str:
        return f"ArtifactStore({self.root_url!r})"

    # --- writing ---------------------------------------------------------------------------

    def put_file(self, local_path: Path, dest: str) -> None:
        """Copy a local file to `dest`, replacing any file there; `NotFound` if it is missing."""
        source = Path(local_path)
        if not source.is_file():
            if source.is_dir():
                raise InvalidArgument(f"{source} is a folder; upload folders with put_dir")
            raise NotFound(f"local file {source} does not exist")
        self._write_atomically(safe_relpath(dest), lambda tmp: self._fs.put_file(str(source), tmp))

    def put_bytes(self, data: bytes, dest: str) -> None:
        """Write `data` to `dest`, replacing any file there."""
        self._write_atomically(safe_relpath(dest), lambda tmp: self._fs.pipe_file(tmp, data))

    def put_dir(self, local_dir: Path, dest: str) -> None:
        """Copy a local folder's files to the new folder `dest`, all at once where the fs allows.

        Raises `NotFound` if `local_dir` is missing and `AlreadyExists` if `dest` exists. On a
        local store a failure leaves nothing at `dest`; on object stores, where folders are moved
        file by file, only a failure of that final move can leave part of it. Empty sub-folders
        and symlinks to outside `local_dir` are not copied.
        """
        source = Path(local_dir)
        if not source.is_dir():
            if source.exists():
                raise InvalidArgument(f"{source} is a file; upload files with put_file")
            raise NotFound(f"local folder {source} does not exist")
        relative = safe_relpath(dest)
        target = self._full(relative)
        if self._fs.exists(target):
            raise AlreadyExists(self._exists_message(relative))
        staging = self._full(f".staging-{uuid.uuid4().hex}")
        try:
            self._fs.makedirs(staging, exist_ok=True)
            for file_relative, file in list_files(source):
                self._fs.makedirs(_parent(f"{staging}/{file_relative}"), exist_ok=True)
                self._fs.put_file(str(file), f"{staging}/{file_relative}")
            with self._file_in_the_way_is_conflict(relative):
                self._fs.makedirs(_parent(target), exist_ok=True)
                self._move_folder(staging, target, relative)
        except BaseException:
            self._remove_quietly(staging)
            raise

    def write_at(self, path: str, offset: int, data: bytes) -> int:
        """Write `data` at byte `offset` of the file at `path` (created if missing), dropping what
        followed; returns the new size. For logs that grow: readers see whole prefixes."""
        relative = safe_relpath(path)
        if self._is_local:
            target = Path(self._full(relative))
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "r+b" if target.exists() else "wb") as file:
                current = file.seek(0, os.SEEK_END)
                if offset > current:
                    raise InvalidArgument(f"offset {offset} is past the end of {relative} ({current} bytes)")
                file.seek(offset)
                file.write(data)
                file.truncate()
                return offset + len(data)
        try:
            existing = self.get_bytes(relative)
        except NotFound:
            existing = b""
        if offset > len(existing):
            raise InvalidArgument(f"offset {offset} is past the end of {relative} ({len(existing)} bytes)")
        content = existing[:offset] + data
        self.put_bytes(content, relative)
        return len(content)

    def delete(self, path: str) -> None:
        """Remove a file or folder (recursively); a missing path is not an error."""
        with contextlib.suppress(FileNotFoundError):
            self._fs.rm(self._full(safe_relpath(path)), recursive=True)

    # --- reading ---------------------------------------------------------------------------

    def get_bytes(self, path: str) -> bytes:
        """The content of the file at `path`; raises `NotFound` naming it when there is none."""
        relative = safe_relpath(path)
        full = self._full(relative)
        try:
            data: bytes = self._fs.cat_file(full)
        except (FileNotFoundError, IsADirectoryError):
            if self._fs.isdir(full):
                raise InvalidArgument(f"artifact {self.uri(relative)} is a folder") from None
            raise NotFound(f"artifact {self.uri(relative)} does not exist") from None
        return data

    def download(self, path: str, local_dest: Path) -> Path:
        """Copy the file or folder at `path` to `local_dest` and return what was written.

        A file whose `local_dest` is an existing folder goes inside it; a folder becomes
        `local_dest` (merged into it if it exists). Raises `NotFound` when `path` is missing.
        """
        relative = safe_relpath(path, allow_root=True)
        full = self._full(relative)
        destination = Path(local_dest)
        try:
            kind = self._fs.info(full)["type"]
        except FileNotFoundError:
            raise NotFound(f"artifact {self.uri(relative)} does not exist") from None
        if kind == "directory":
            self._download_folder(full, destination)
            return destination
        if destination.is_dir():
            destination = destination / full.rsplit("/", 1)[-1]
        destination.parent.mkdir(parents=True, exist_ok=True)
        temporary = destination.with_name(_temporary_name(destination.name))
        try:
            self._fs.get_file(full, str(temporary))
            os.replace(temporary, destination)
        finally:
            temporary.unlink(missing_ok=True)
        return destination

    def size(self, path: str) -> int:
        """The size in bytes of the file at `path`; `NotFound` when there is none, `InvalidArgument`
        for a folder."""
        relative = safe_relpath(path)
        try:
            info = self._fs.info(self._full(relative))
        except FileNotFoundError:
            raise NotFound(f"artifact {self.uri(relative)} does not exist") from None
        if info["type"] == "directory":
            raise InvalidArgument(f"artifact {self.uri(relative)} is a folder; list it instead")
        return int(info["size"])

    def read_range(self, path: str, start: int, length: int) -> bytes:
        """`length` bytes of the file at `path` from byte `start` (fewer at its end)."""
        relative = safe_relpath(path)
        try:
            with self._fs.open(self._full(relative), "rb") as file:
                file.seek(start)
                data: bytes = file.read(length)
        except FileNotFoundError:
            raise NotFound(f"artifact {self.uri(relative)} does not exist") from None
        return data

    def local_path(self, path: str) -> Path | None:
        """The artifact's path on this machine when the store is local, else None.

        Does not check that the artifact exists.
        """
        return Path(self._full(safe_relpath(path, allow_root=True))) if self._is_local else None

    def exists(self, path: str) -> bool:
        """True if a file or folder is at `path`."""
        return bool(self._fs.exists(self._full(safe_relpath(path, allow_root=True))))

    def is_dir(self, path: str) -> bool:
        """True if a folder is at `path`; False for a file or nothing."""
        return bool(self._fs.isdir(self._full(safe_relpath(path, allow_root=True))))

    def list(self, path: str = "", recursive: bool = False) -> list[ArtifactInfo]:
        """The entries under `path` (all levels if `recursive`), sorted; empty if `path` is missing.

        Listing a file gives that file. Unfinished writes are never listed.
        """
        base = self._full(safe_relpath(path, allow_root=True))
        try:
            if recursive:
                entries = self._fs.find(base, withdirs=True, detail=True).values()
            else:
                entries = self._fs.ls(base, detail=True)
        except FileNotFoundError:
            return []
        infos = [
            self._to_info(entry)
            for entry in entries
            if entry["name"].rstrip("/") != base or entry["type"] != "directory"
        ]
        return sorted((info for info in infos if not _is_in_flight(info.path)), key=lambda info: info.path)

    def uri(self, path: str) -> str:
        """The full path or URL of `path`, for messages and display."""
        relative = safe_relpath(path, allow_root=True)
        if self._is_local:
            return self._full(relative)
        return f"{self.root_url.rstrip('/')}/{relative}" if relative else self.root_url

    # --- helpers ---------------------------------------------------------------------------

    def _full(self, relative: str) -> str:
        if not relative:
            return self._root
        return f"{self._root.rstrip('/')}/{relative}"

    def _relative(self, full: str) -> str:
        return full.rstrip("/")[len(self._root.rstrip("/")) + 1 :]

    def _to_info(self, entry: dict[str, Any]) -> ArtifactInfo:
        is_dir = entry["type"] == "directory"
        size = None if is_dir else entry.get("size")
        return ArtifactInfo(path=self._relative(entry["name"]), is_dir=is_dir, size=size)

    def _write_atomically(self, relative: str, write: Callable[[str], object]) -> None:
        target = self._full(relative)
        if self._fs.isdir(target):
            raise Conflict(f"artifact {self.uri(relative)} is a folder; choose another name for the file")
        temporary = f"{_parent(target)}/{_temporary_name(target.rsplit('/', 1)[-1])}"
        try:
            with self._file_in_the_way_is_conflict(relative):
                self._fs.makedirs(_parent(target), exist_ok=True)
                write(temporary)
            self._fs.mv(temporary, target)
        except BaseException:
            self._remove_quietly(temporary)
            raise

    @contextlib.contextmanager
    def _file_in_the_way_is_conflict(self, relative: str) -> Iterator[None]:
        # Filesystems say so with either error when a parent "folder" of `relative` is a file.
        try:
            yield
        except (FileExistsError, NotADirectoryError):
            raise Conflict(
                f"cannot store {self.uri(relative)}: a file is in the way of one of its folders"
            ) from None

    def _move_folder(self, staging: str, target: str, relative: str) -> None:
        if not self._is_local:
            self._fs.mv(staging, target, recursive=True)
            return
        try:
            # One rename: the folder appears complete or not at all.
            os.rename(staging, target)
        except OSError as error:
            if error.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR):
                raise AlreadyExists(self._exists_message(relative)) from None
            raise

    def _download_folder(self, full: str, destination: Path) -> None:
        if destination.exists() and not destination.is_dir():
            raise InvalidArgument(f"cannot download a folder to {destination}: it is a file")
        if destination.exists():
            self._copy_folder(full, destination)
            return
        # Build it beside the destination, then rename: an interrupted download leaves no
        # half-filled folder that a later `if not target.exists()` would take as complete.
        destination.parent.mkdir(parents=True, exist_ok=True)
        temporary = destination.with_name(_temporary_name(destination.name))
        try:
            self._copy_folder(full, temporary)
            os.rename(temporary, destination)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise

    def _copy_folder(self, full: str, destination: Path) -> None:
        destination.mkdir(parents=True, exist_ok=True)
        for entry in self._fs.find(full, withdirs=True, detail=True).values():
            relative = entry["name"].rstrip("/")[len(full.rstrip("/")) + 1 :]
            if not relative or _is_in_flight(relative):
                continue
            local = destination.joinpath(*relative.split("/"))
            if entry["type"] == "directory":
                local.mkdir(parents=True, exist_ok=True)
            else:
                local.parent.mkdir(parents=True, exist_ok=True)
                self._fs.get_file(entry["name"], str(local))

    def _remove_quietly(self, full: str) -> None:
        # Cleanup after a failed write must not hide the error that caused it.
        with contextlib.suppress(OSError):
            self._fs.rm(full, recursive=True)

    def _exists_message(self, relative: str) -> str:
        return (
            f"artifact {self.uri(relative)} already exists; stored folders are immutable: "
            "write to a new path or delete this one first"
        )


def open_artifact_store(root_url: str) -> ArtifactStore:
    """Open the artifact store at a local folder or fsspec URL (see `ArtifactStore`)."""
    return ArtifactStore(root_url)


def _create_local_root(root: Path) -> None:
    if root.exists() and not root.is_dir():
        raise WorkspaceError(
            f"artifact root {root} is a file, not a folder; point the workspace's artifacts at a folder"
        )
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise WorkspaceError(f"cannot create artifact root {root}: {error.strerror}") from None


def _parent(full: str) -> str:
    return full.rsplit("/", 1)[0] or "/"


def _temporary_name(name: str) -> str:
    return f".{name}.tmp-{uuid.uuid4().hex}"


def _is_in_flight(relative: str) -> bool:
    return any(_IN_FLIGHT.match(part) for part in relative.split("/"))
