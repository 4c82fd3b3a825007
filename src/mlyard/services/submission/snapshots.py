"""Making a resolved job runnable on another machine: its local code and inputs into the store.

A job submitted on this machine may read its code folder and local input files where they are.
A job that leaves it — submitted through a team server (the server's staging copy is temporary)
or handed to a worker elsewhere — carries copies in the artifact store instead: its code under
`components/code/<hash>` (shared with components), each local input under `snapshots/<hash>`.
Content-addressed, so the same files are stored once however often they are submitted.

The walk is generic over the resolved spec (command, pipeline, sweep, parallel): any mapping with
`source: local` and a `path` is an input, any mapping with `code` and `code_hash` names code.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from mlyard.artifacts import hash_path
from mlyard.errors import AlreadyExists, NotFound
from mlyard.services.assets.code_snapshots import store_code
from mlyard.services.workspaces.workspace import Workspace

SNAPSHOT_ROOT = "snapshots"


def snapshot_local_paths(workspace: Workspace, spec: Any) -> Any:
    """A copy of the resolved `spec` whose local code and inputs point into the artifact store."""
    if isinstance(spec, list):
        return [snapshot_local_paths(workspace, item) for item in spec]
    if not isinstance(spec, dict):
        return spec
    result = {key: snapshot_local_paths(workspace, value) for key, value in spec.items()}
    if (
        result.get("source") == "local"
        and isinstance(result.get("path"), str)
        and not result.get("artifact_path")
    ):
        result["artifact_path"], result["content_hash"] = store_local_input(workspace, Path(result["path"]))
    code, digest = result.get("code"), result.get("code_hash")
    if isinstance(code, str) and isinstance(digest, str) and not result.get("code_artifact"):
        folder = Path(code)
        if folder.exists():
            result["code_artifact"] = store_code(workspace, folder, digest)
    return result


def store_local_input(workspace: Workspace, path: Path) -> tuple[str, str]:
    """(artifact path, content hash) of a local file or folder stored content-addressed."""
    if not path.exists():
        raise NotFound(f"input {path} does not exist (it was there when the job was checked)")
    digest = hash_path(path).sha256
    destination = f"{SNAPSHOT_ROOT}/{digest}"
    if not workspace.artifacts.exists(destination):
        with contextlib.suppress(AlreadyExists):  # a concurrent submission stored it first
            if path.is_dir():
                workspace.artifacts.put_dir(path, destination)
            else:
                workspace.artifacts.put_file(path, f"{destination}/{path.name}")
    return destination, digest
