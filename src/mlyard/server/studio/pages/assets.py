"""Environments, components and computes: each asset's versions, the spec of one version as YAML,
and an environment's build log — read through the same services as `mlyard environment|component|
compute show`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from mlyard.runtime.environments import build_log_artifact
from mlyard.server.studio.context import StudioContext, StudioRoute
from mlyard.services.assets import components, computes, environments

router = APIRouter(route_class=StudioRoute, include_in_schema=False)
BUILD_LOG_SHOWN_BYTES = 64 * 1024  # the tail; a build log of a big environment runs long


def as_yaml(spec: Any) -> str:
    """A spec as the YAML a user would write (unset fields left out)."""
    import yaml

    data = spec.model_dump(mode="json", exclude_none=True, exclude_defaults=True, by_alias=True)
    return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


@router.get("/w/{ws}/environments")
def environment_list(studio: StudioContext) -> Response:
    return studio.render(
        "assets.html", kind="environment", plural="environments",
        assets=environments.list_environments(studio.workspace),
    )  # fmt: skip


@router.get("/w/{ws}/environments/{name}")
def environment_page(
    studio: StudioContext, name: str, version: Annotated[str | None, Query(max_length=100)] = None
) -> Response:
    versions = environments.list_environments(studio.workspace, name)
    shown = environments.get_environment(studio.workspace, f"{name}:{version}") if version else versions[0]
    log_path = build_log_artifact(shown.resolved.spec_hash)
    artifacts = studio.workspace.artifacts
    log = artifacts.get_bytes(log_path)[-BUILD_LOG_SHOWN_BYTES:] if artifacts.exists(log_path) else None
    return studio.render(
        "asset.html", kind="environment", plural="environments", versions=versions, shown=shown,
        spec=as_yaml(shown.spec), build_log=log.decode("utf-8", "replace") if log is not None else None,
        facts={
            "python": shown.resolved.python_version, "requirements": len(shown.resolved.requirements),
            "image": shown.resolved.image or "none", "build key": shown.resolved.spec_hash[:16],
        },
    )  # fmt: skip


@router.get("/w/{ws}/components")
def component_list(studio: StudioContext) -> Response:
    found = components.list_components(studio.workspace)
    return studio.render("assets.html", kind="component", plural="components", assets=found)


@router.get("/w/{ws}/components/{name}")
def component_page(
    studio: StudioContext, name: str, version: Annotated[str | None, Query(max_length=100)] = None
) -> Response:
    versions = components.list_components(studio.workspace, name)
    shown = components.get_component(studio.workspace, f"{name}:{version}") if version else versions[0]
    return studio.render(
        "asset.html", kind="component", plural="components", versions=versions, shown=shown,
        spec=as_yaml(shown.spec), build_log=None,
        facts={"code hash": (shown.code_hash or "no code")[:16], "spec hash": shown.spec_hash[:16]},
    )  # fmt: skip


@router.get("/w/{ws}/computes")
def compute_list(studio: StudioContext) -> Response:
    return studio.render("computes.html", computes=computes.list_computes(studio.workspace))
