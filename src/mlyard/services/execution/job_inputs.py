"""Where a job's inputs are on this machine: the data asset, model version, earlier job output
or stored copy of a local file (see services/snapshots), downloaded into a cache when the artifact
store is remote. Used by the runner of a job and by the orchestrators that split inputs.
"""

from __future__ import annotations

from pathlib import Path

from mlyard.entities.jobs.job_spec import ResolvedInput
from mlyard.services.data_assets.data import get_data_asset, local_path
from mlyard.services.execution import job_runs
from mlyard.services.model_registry.models import get_model_version, model_local_path
from mlyard.services.workspaces.workspace import Workspace


def input_path(workspace: Workspace, given: ResolvedInput, cache: Path) -> Path:
    """A local path to an asset input's content (downloaded into `cache` when the store is remote)."""
    if given.source == "local" and given.artifact_path is not None:
        return _stored_input(workspace, given, cache)
    if given.source == "local":
        assert given.path is not None
        return Path(given.path)
    if given.source == "data":
        return local_path(workspace, get_data_asset(workspace, f"{given.name}:{given.version}"))
    if given.source == "model":
        return model_local_path(workspace, get_model_version(workspace, f"{given.name}:{given.version}"))
    assert given.job_id is not None and given.output is not None
    output = job_runs.job_output(workspace, given.job_id, given.output)
    folder = workspace.artifacts.local_path(output.artifact_path)
    if folder is None or not folder.exists():
        folder = cache
        if workspace.artifacts.exists(output.artifact_path):
            workspace.artifacts.download(output.artifact_path, folder)
        else:
            folder.mkdir(parents=True, exist_ok=True)  # the producing step wrote nothing
    if given.type == "uri_file":
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        if len(files) == 1:
            return files[0]
    return folder


def _stored_input(workspace: Workspace, given: ResolvedInput, cache: Path) -> Path:
    """A snapshot of a local input (see services/snapshots): the stored copy, or a download of it."""
    assert given.artifact_path is not None
    folder = workspace.artifacts.local_path(given.artifact_path)
    if folder is None or not folder.exists():
        folder = workspace.artifacts.download(given.artifact_path, cache)
    if given.type == "uri_file":
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        if len(files) == 1:
            return files[0]
    return folder
