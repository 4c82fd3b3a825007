"""What a workspace is and holds, for `workspace show` (local, or through a server's REST API)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from mlyard.services.workspaces.workspace import Workspace
from mlyard.store.migrate import HEAD_REVISION, current_revision
from mlyard.store.tables import DataAssetRow, ExperimentRow, JobRow, ModelRow, ModelVersionRow


def workspace_overview(workspace: Workspace) -> dict[str, Any]:
    """Where the workspace keeps its records and artifacts, its schema revision and its counts."""
    return {**workspace.describe(), **workspace_stats(workspace)}


def workspace_stats(workspace: Workspace) -> dict[str, int | str | None]:
    with workspace.database.read() as session:

        def count(column: object) -> int:
            return int(session.execute(select(func.count(column))).scalar() or 0)  # type: ignore[arg-type]

        return {
            "schema_revision": current_revision(session.connection()),
            "schema_head": HEAD_REVISION,
            "experiments": count(ExperimentRow.id),
            "jobs": count(JobRow.id),
            "data_asset_versions": count(DataAssetRow.id),
            "models": count(ModelRow.name),
            "model_versions": count(ModelVersionRow.id),
        }
