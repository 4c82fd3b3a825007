"""`mlyard model share`: a workspace's model version copied into a registry, lineage kept.

The registry version records where it came from in its properties — the source workspace, the
source version, the producing job and that job's params and metrics — since the job itself stays
in the workspace's store. Sharing identical files with identical lineage again returns the
existing registry version (the house's re-registration rule); `--share-with-version` taken by
different content is a Conflict.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from mlyard.entities.governance.access import Role
from mlyard.entities.registry.model import ModelRegistration
from mlyard.errors import NotFound
from mlyard.services.model_registry import models
from mlyard.services.registries.access import check_registry_role
from mlyard.services.registries.registries import open_registry
from mlyard.services.tracking import jobs as job_service
from mlyard.services.workspaces.workspace import Workspace

PROP_WORKSPACE = "mlyard.source.workspace"
PROP_MODEL = "mlyard.source.model"
PROP_JOB = "mlyard.source.job"
PROP_PARAMS = "mlyard.source.job_params"
PROP_METRICS = "mlyard.source.job_metrics"
_SUMMARY_LIMIT = 2000  # characters of params/metrics JSON kept in a property


def share_model(
    workspace: Workspace,
    name: str,
    version: str,
    registry_name: str,
    share_with_name: str | None = None,
    share_with_version: str | None = None,
) -> ModelRegistration:
    """Copy `name:version` (files + metadata + lineage) into registry `registry_name`."""
    where = f"azureml://registries/{registry_name}/models/{share_with_name or name}"
    try:
        registry = open_registry(registry_name, workspace)
    except NotFound as exc:
        raise NotFound(f"{where}: {exc.message}") from None
    check_registry_role(registry, registry_name, Role.CONTRIBUTOR, where)
    source = models.get_model_version(workspace, f"{name}:{version}")
    properties = {**source.properties, **_lineage(workspace, source.name, source.version, source.job_id)}
    with tempfile.TemporaryDirectory(prefix="mlyard-share-") as staging:
        folder = Path(staging) / (source.folder_name or "model")
        workspace.artifacts.download(source.artifact_path, folder)
        return models.register_model_copy(
            registry, share_with_name or source.name, folder, share_with_version, source.description,
            source.tags, properties, source.folder_name,
        )  # fmt: skip


def _lineage(workspace: Workspace, name: str, version: str, job_id: str | None) -> dict[str, str]:
    lineage = {PROP_WORKSPACE: workspace.registry_name or workspace.name, PROP_MODEL: f"{name}:{version}"}
    if job_id is None:
        return lineage
    job = job_service.get_job(workspace, job_id)
    lineage[PROP_JOB] = job_id
    if job.params:
        lineage[PROP_PARAMS] = json.dumps(job.params, sort_keys=True)[:_SUMMARY_LIMIT]
    if job.metrics:
        lineage[PROP_METRICS] = json.dumps(dict(job.metrics), sort_keys=True)[:_SUMMARY_LIMIT]
    return lineage
