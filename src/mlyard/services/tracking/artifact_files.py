"""Single files below an artifact folder that a job, a logged model or a model version owns.

For servers that move artifacts one file at a time (the MLflow artifact API): list one level,
fetch a file to serve, store an uploaded file. `root` is the owner's folder in the artifact store
(`job_artifacts.job_artifact_root`, `logged_models.logged_model_root`, a version's
`artifact_path`); `path` is relative to it and may not leave it.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mlyard.artifacts import ArtifactInfo, safe_relpath
from mlyard.errors import InvalidArgument, NotFound
from mlyard.services.workspaces.workspace import Workspace


@dataclass(frozen=True)
class LocalFile:
    """A stored file as a path on this machine; a temporary copy when the store is remote."""

    path: Path
    size: int
    temporary: bool

    def cleanup(self) -> None:
        if self.temporary:
            shutil.rmtree(self.path.parent, ignore_errors=True)


def _full(root: str, path: str) -> str:
    inner = safe_relpath(path, allow_root=True)
    return f"{safe_relpath(root)}/{inner}" if inner else safe_relpath(root)


def list_folder(workspace: Workspace, root: str, path: str = "") -> list[ArtifactInfo]:
    """Entries directly below `root/path`, named relative to it; [] when it is missing or a file."""
    folder = _full(root, path)
    if not workspace.artifacts.is_dir(folder):
        return []
    return [
        ArtifactInfo(path=entry.path[len(folder) + 1 :], is_dir=entry.is_dir, size=entry.size)
        for entry in workspace.artifacts.list(folder)
    ]


def local_file(workspace: Workspace, root: str, path: str) -> LocalFile:
    """The file at `root/path` to read on this machine; call `cleanup()` once it has been read."""
    full = _full(root, path)
    if workspace.artifacts.is_dir(full):
        raise InvalidArgument(f"artifact {path!r} is a folder; list it, or ask for a file inside it")
    if not workspace.artifacts.exists(full):
        raise NotFound(f"artifact {path!r} does not exist")
    direct = workspace.artifacts.local_path(full)
    if direct is not None:
        return LocalFile(direct, direct.stat().st_size, temporary=False)
    folder = Path(tempfile.mkdtemp(prefix="mlyard-artifact-"))
    try:
        copy = workspace.artifacts.download(full, folder / full.rsplit("/", 1)[-1])
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return LocalFile(copy, copy.stat().st_size, temporary=True)


def store_file(workspace: Workspace, root: str, path: str, local: Path) -> str:
    """Store the local file at `root/path`, replacing a file there; returns its store path."""
    if not safe_relpath(path, allow_root=True):
        raise InvalidArgument("an artifact upload needs a file name after the artifact folder")
    full = _full(root, path)
    workspace.artifacts.put_file(local, full)
    return full


@contextlib.contextmanager
def local_folder(workspace: Workspace, folder: str) -> Iterator[Path]:
    """The stored folder as a path on this machine for the block (a temporary copy when remote)."""
    if not workspace.artifacts.is_dir(folder):
        raise NotFound(f"artifact folder {folder!r} does not exist or is not a folder")
    direct = workspace.artifacts.local_path(folder)
    if direct is not None:
        yield direct
        return
    with tempfile.TemporaryDirectory(prefix="mlyard-artifacts-") as temporary:
        yield workspace.artifacts.download(folder, Path(temporary) / "folder")
