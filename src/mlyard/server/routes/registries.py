"""Registries: the ones this server serves, one registry's description, and sharing a
workspace's model version into one (`mlyard model share`).

    GET  /api/v1/registries                                   the served registries' names
    GET  /api/v1/registries/{name}                            one registry (reader in it)
    POST /api/v1/workspaces/{ws}/models/{name}/versions/{version}/share
         {"registry_name": …, "share_with_name": …, "share_with_version": …}

A registry's assets are under `/api/v1/registries/{name}/…` (server/registries.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from mlyard.entities.registry.model import ModelRegistration
from mlyard.server.auth import ContributorWorkspace, ReaderWorkspace
from mlyard.services.registries.registries import describe
from mlyard.services.registries.sharing import share_model

router = APIRouter()


class ShareModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    registry_name: str
    share_with_name: str | None = None
    share_with_version: str | None = None


@router.get("/api/v1/registries", tags=["registries"])
def list_registries(request: Request) -> dict[str, Any]:
    return {"value": [{"name": name} for name in sorted(request.app.state.workspaces.registries)]}


@router.get("/api/v1/workspaces/{ws}/registry-info", tags=["registries"], include_in_schema=False)
def show_registry(ws: str, registry: ReaderWorkspace) -> dict[str, Any]:
    return describe(ws.removeprefix("@"), registry)


@router.post(
    "/api/v1/workspaces/{ws}/models/{name}/versions/{version}/share",
    response_model=ModelRegistration,
    status_code=201,
    tags=["models"],
)
def share(workspace: ContributorWorkspace, name: str, version: str, body: ShareModel) -> ModelRegistration:
    """Copy the version (files, metadata, lineage) into a registry; identical content returns the
    registry's existing version (`created` false)."""
    return share_model(
        workspace, name, version, body.registry_name, body.share_with_name, body.share_with_version
    )
