"""The MLflow tracking, logged-model, registry and artifact REST API, so the unmodified `mlflow`
client (3.x) logs to an mlyard server: `MLFLOW_TRACKING_URI=http://127.0.0.1:8080` reaches the
default workspace, `http://127.0.0.1:8080/mlflow/<workspace>` any served one.

What it logs is ordinary mlyard data: runs are jobs, registered versions are model versions. The
routes call `mlyard.services` only; what MLflow names differently is translated in `convert`.
"""

from fastapi import APIRouter

from mlyard.server.mlflow import artifacts, experiments, logged_models, models, runs
from mlyard.server.mlflow.routing import DefaultWorkspacePaths, default_workspace, is_artifact_upload

ROUTERS: tuple[APIRouter, ...] = (
    experiments.router,
    runs.router,
    logged_models.router,
    models.router,
    artifacts.router,
    artifacts.info_router,
)

__all__ = ["ROUTERS", "DefaultWorkspacePaths", "default_workspace", "is_artifact_upload"]
