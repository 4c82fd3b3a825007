"""Models: the registry's models, a model's versions with the metrics of their producing runs,
aliases, its lineage graph (data → run → version → deployments), versions compared side by side,
and the gated promotions an operator approves or rejects here — by the same service calls and roles
as the REST API (`routes/promotions.py`, `routes/registry.py`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import RedirectResponse

from mlyard.entities.registry.model import ModelVersion
from mlyard.errors import InvalidArgument, NotFound
from mlyard.server.studio.context import Studio, StudioContext, StudioRoute
from mlyard.server.studio.lineage import model_lineage_graph
from mlyard.services.model_registry import model_comparison, models, promotions
from mlyard.services.online import endpoint_deployments, endpoints
from mlyard.services.tracking import jobs

router = APIRouter(route_class=StudioRoute, include_in_schema=False)
MAX_COMPARED = 20


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
        lineage=_lineage(studio, name, [version.version for version in versions]),
    )


def _lineage(studio: Studio, name: str, versions: list[str]) -> dict[str, Any]:
    workspace = studio.workspace
    served = endpoint_deployments.deployments_of_model(workspace, name)
    traffic = {endpoint.name: endpoint.traffic for endpoint in endpoints.list_endpoints(workspace)}
    lineages = model_comparison.compare(workspace, name, versions) if versions else []
    return model_lineage_graph(lineages, served, traffic, studio.url)


@router.get("/w/{ws}/models/{name}/compare")
def compare_versions(
    studio: StudioContext,
    name: str,
    version: Annotated[list[str] | None, Query(max_length=MAX_COMPARED)] = None,
    diff: bool = False,
) -> Response:
    """2–N versions side by side: their runs, data, params and metrics ("differences only" on demand),
    by the same service as `mlyard model compare`."""
    chosen = list(dict.fromkeys(version or []))  # the order given, each once
    if len(chosen) < 2:
        raise InvalidArgument(
            f"choose at least 2 versions of {name} to compare (tick them in the versions table)"
        )
    compared = model_comparison.compare(studio.workspace, name, chosen)
    rows = [
        ("run", [lineage.job_id or "" for lineage in compared]),
        ("experiment", [lineage.experiment or "" for lineage in compared]),
        ("data", [", ".join(f"{d.name}:{d.version}" for d in lineage.data) for lineage in compared]),
    ]
    for kind in ("params", "metrics"):
        keys = sorted({key for lineage in compared for key in getattr(lineage, kind)})
        rows += [(f"{kind}.{key}", [getattr(lineage, kind).get(key) for lineage in compared]) for key in keys]
    marked = [(label, values, len({repr(value) for value in values}) > 1) for label, values in rows]
    shown = [row for row in marked if row[2] or not diff]
    return studio.render("model_compare.html", name=name, compared=compared, rows=shown, diff=diff)


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
