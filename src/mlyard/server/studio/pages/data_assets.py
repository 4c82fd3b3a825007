"""Data assets: every asset's latest version, and one version's page — its versions, schema, the
stored profile drawn as a histogram (numbers) or top values (the rest) per column with its stats,
lineage (the jobs that read it, the models that came from them) and a preview of the first rows."""

from __future__ import annotations

from fastapi import APIRouter, Response

from mlyard.entities.registry.data import ColumnProfile
from mlyard.errors import InvalidArgument
from mlyard.server.studio.context import StudioContext, StudioRoute
from mlyard.services.data_assets import data
from mlyard.services.model_registry import model_comparison

router = APIRouter(route_class=StudioRoute, include_in_schema=False)
PREVIEW_ROWS = 20


@router.get("/w/{ws}/data")
def data_list(studio: StudioContext) -> Response:
    return studio.render("data_assets.html", assets=data.list_data_assets(studio.workspace))


@router.get("/w/{ws}/data/{name}")
def data_latest(studio: StudioContext, name: str) -> Response:
    return _version_page(studio, f"{name}@latest")


@router.get("/w/{ws}/data/{name}/versions/{version}")
def data_version(studio: StudioContext, name: str, version: str) -> Response:
    return _version_page(studio, f"{name}:{version}")


def _version_page(studio: StudioContext, ref: str) -> Response:
    workspace = studio.workspace
    lineage = model_comparison.data_lineage(workspace, ref)  # NotFound naming the asset
    asset = lineage.asset
    preview_error = None
    try:
        preview = data.first_rows(workspace, asset.ref, PREVIEW_ROWS)
    except InvalidArgument as exc:  # too large, or a table that does not parse: said on the page
        preview, preview_error = None, exc.message
    return studio.render(
        "data_asset.html",
        asset=asset,
        versions=data.list_data_assets(workspace, asset.name),
        columns=[_drawn(column) for column in asset.profile or []],
        lineage=lineage,
        preview=preview,
        preview_error=preview_error,
    )


def _drawn(column: ColumnProfile) -> dict[str, object]:
    """A column with its bars as (label, count, height in % of the tallest): drawn by CSS alone."""
    if column.histogram_counts:
        edges = column.histogram_edges
        labels = [f"{edges[i]:.4g} – {edges[i + 1]:.4g}" for i in range(len(column.histogram_counts))]
        counts = column.histogram_counts
    else:
        labels = [label for label, _ in column.top_values]
        counts = [count for _, count in column.top_values]
    tallest = max(counts, default=0) or 1
    bars = [
        (label, count, round(100 * count / tallest, 1)) for label, count in zip(labels, counts, strict=True)
    ]
    return {"profile": column, "bars": bars, "histogram": bool(column.histogram_counts)}
