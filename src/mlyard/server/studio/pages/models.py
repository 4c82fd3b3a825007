"""Models: the registry's models, a model's versions with the metrics of their producing runs,
aliases and lineage, and the gated promotions an operator approves or rejects here — by the same
service calls and roles as the REST API (`routes/promotions.py`, `routes/registry.py`)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import RedirectResponse

from mlyard.entities.model import ModelVersion
from mlyard.errors import NotFound
from mlyard.server.studio.context import Studio, StudioContext, StudioRoute
from mlyard.services.model_registry import models, promotions
from mlyard.services.tracking import jobs

router = APIRouter(route_class=StudioRoute, include_in_schema=False)


@router.get("/w/{ws}/models")
def model_list(studio: StudioContext) -> Response:
    return studio.render("models.html", models=models.list_models(studio.workspace))


def _run_metrics(studio: Studio, version: ModelVersion) -> dict[str, float]:
    if version.job_id is None:
        return {}
    try:
        return jobs.get_job(studio.workspace, version.job_id).metrics
    except NotFound:  # the producing run was deleted
        return {}


@router.get("/w/{ws}/models/{name}")
def model_page(studio: StudioContext, name: str) -> Response:
    workspace = studio.workspace
    model = models.get_model(workspace, name)
    versions = models.list_model_versions(workspace, name, include_archived=True)
    metrics = {version.version: _run_metrics(studio, version) for version in versions}
    metric_keys = sorted({key for values in metrics.values() for key in values})
    return studio.render(
        "model.html",
        model=model,
        versions=versions,
        metrics=metrics,
        metric_keys=metric_keys,
        promotions=promotions.list_promotions(workspace, name, limit=50),
    )


def _back(studio: Studio, name: str) -> Response:
    return RedirectResponse(studio.url(f"/models/{name}"), status_code=303)


@router.post("/w/{ws}/promotions/{request_id}/approve")
def approve(studio: StudioContext, request_id: str) -> Response:
    """Operators only; the service refuses the requester (unless the workspace allows it)."""
    studio.require("operator")
    decided = promotions.approve_promotion(studio.workspace, request_id, studio.form.get("comment") or None)
    return _back(studio, decided.model_name)


@router.post("/w/{ws}/promotions/{request_id}/reject")
def reject(studio: StudioContext, request_id: str) -> Response:
    studio.require("operator")
    decided = promotions.reject_promotion(studio.workspace, request_id, studio.form.get("reason", ""))
    return _back(studio, decided.model_name)


@router.post("/w/{ws}/models/{name}/versions/{version}/archive")
def archive(studio: StudioContext, name: str, version: str) -> Response:
    studio.require("operator")
    models.set_archived(studio.workspace, f"{name}:{version}", True)
    return _back(studio, name)


@router.post("/w/{ws}/models/{name}/versions/{version}/restore")
def restore(studio: StudioContext, name: str, version: str) -> Response:
    studio.require("operator")
    models.set_archived(studio.workspace, f"{name}:{version}", False)
    return _back(studio, name)
