"""Files a job logs (`log_artifact`, `log_dict`, `log_figure`), kept under `jobs/<id>/artifacts/`."""

from __future__ import annotations

from pathlib import Path

from mlyard.artifacts import ArtifactInfo, safe_relpath
from mlyard.errors import NotFound
from mlyard.services.tracking.jobs import ensure_job_exists
from mlyard.services.workspaces.workspace import Workspace


def job_artifact_root(job_id: str) -> str:
    return f"jobs/{job_id}/artifacts"


def _destination(job_id: str, artifact_path: str | None, name: str) -> str:
    folder = safe_relpath(artifact_path, allow_root=True) if artifact_path else ""
    leaf = safe_relpath(name)
    return "/".join(part for part in (job_artifact_root(job_id), folder, leaf) if part)


def log_artifact(
    workspace: Workspace, job_id: str, local_path: Path, artifact_path: str | None = None
) -> str:
    """Store a file (or a folder, recursively) as an artifact of the job; returns its path."""
    ensure_job_exists(workspace, job_id)
    source = Path(local_path)
    if not source.exists():
        raise NotFound(f"artifact file {source} does not exist")
    destination = _destination(job_id, artifact_path, source.name)
    if source.is_dir():
        _put_tree(workspace, source, destination)
    else:
        workspace.artifacts.put_file(source, destination)
    return destination


def log_artifacts(
    workspace: Workspace, job_id: str, local_dir: Path, artifact_path: str | None = None
) -> str:
    """Store the contents of a folder (not the folder itself) under `artifact_path`."""
    ensure_job_exists(workspace, job_id)
    source = Path(local_dir)
    if not source.is_dir():
        raise NotFound(f"artifact folder {source} does not exist or is not a folder")
    root = job_artifact_root(job_id)
    if artifact_path:
        root = f"{root}/{safe_relpath(artifact_path)}"
    _put_tree(workspace, source, root)
    return root


def _put_tree(workspace: Workspace, source: Path, destination: str) -> None:
    """Each file below `source` at the same relative path below `destination`."""
    for file in sorted(p for p in source.rglob("*") if p.is_file()):
        workspace.artifacts.put_file(file, f"{destination}/{file.relative_to(source).as_posix()}")


def log_bytes(workspace: Workspace, job_id: str, data: bytes, artifact_file: str) -> str:
    ensure_job_exists(workspace, job_id)
    destination = f"{job_artifact_root(job_id)}/{safe_relpath(artifact_file)}"
    workspace.artifacts.put_bytes(data, destination)
    return destination


def list_job_artifacts(workspace: Workspace, job_id: str) -> list[ArtifactInfo]:
    """Every file the job logged, with paths relative to the job's artifact folder."""
    ensure_job_exists(workspace, job_id)
    root = job_artifact_root(job_id)
    return [
        ArtifactInfo(path=info.path[len(root) + 1 :], is_dir=info.is_dir, size=info.size)
        for info in workspace.artifacts.list(root, recursive=True)
        if not info.is_dir
    ]


def download_job_artifacts(
    workspace: Workspace, job_id: str, destination: Path, artifact_path: str | None = None
) -> Path:
    ensure_job_exists(workspace, job_id)
    root = job_artifact_root(job_id)
    source = f"{root}/{safe_relpath(artifact_path)}" if artifact_path else root
    if not workspace.artifacts.exists(source):
        raise NotFound(f"job {job_id} has no artifact {artifact_path or ''!r}".replace(" ''", "s"))
    return workspace.artifacts.download(source, destination)
