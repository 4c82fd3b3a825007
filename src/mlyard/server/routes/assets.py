"""Environments, components and compute targets: register, read, resolve.

A registration sends the spec's mapping and, in an upload, the files it names (conda files,
requirements, code folders, the component YAML itself), read by the same services as locally.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from mlyard.entities.assets.component import Component
from mlyard.entities.assets.component_spec import CommandComponentSpec
from mlyard.entities.assets.compute import Compute
from mlyard.entities.assets.environment import Environment
from mlyard.entities.assets.environment_spec import ResolvedEnvironment, parse_environment
from mlyard.entities.specs.names import LATEST, AssetRef
from mlyard.entities.specs.spec_files import validate_spec
from mlyard.errors import InvalidArgument, NotFound
from mlyard.server.auth import ContributorWorkspace, OperatorWorkspace, ReaderWorkspace
from mlyard.server.schemas.common import Request as Body
from mlyard.server.uploads import staged_files, staged_path
from mlyard.services.assets import components, computes, environments

router = APIRouter(prefix="/api/v1/workspaces/{ws}")


class EnvironmentCreate(Body):
    spec: dict[str, Any] = Field(description="what the environment YAML holds")
    upload: str | None = None
    base: str = ""
    source: str = "environment"


class EnvironmentRegistered(BaseModel):
    environment: Environment
    created: bool


class EnvironmentList(BaseModel):
    value: list[Environment]


class ResolveRequest(Body):
    ref: str | None = Field(default=None, description="name:version, a curated name, or inherit")
    spec: dict[str, Any] | None = Field(default=None, description="an inline spec instead of `ref`")
    upload: str | None = None
    base: str = ""


class Resolved(BaseModel):
    resolved: ResolvedEnvironment | None = Field(description="None: mlyard's own interpreter")


class ComponentCreate(Body):
    file: str | None = Field(default=None, description="the component YAML inside the upload")
    spec: dict[str, Any] | None = Field(default=None, description="or the spec itself (a DSL component)")
    upload: str | None = None
    base: str = ""
    name: str | None = None
    version: str | None = None


class ComponentRegistered(BaseModel):
    component: Component
    created: bool


class ComponentList(BaseModel):
    value: list[Component]


class ComputeCreate(Body):
    name: str
    type: str = Field(description="local or ray")
    address: str | None = Field(default=None, description="ray://host:port for a Ray cluster")
    description: str | None = None


class ComputeList(BaseModel):
    value: list[Compute]


# --- environments --------------------------------------------------------------------------------


@router.post("/environments", response_model=EnvironmentRegistered, status_code=201, tags=["environments"])
def create_environment(
    ws: str, workspace: ContributorWorkspace, body: EnvironmentCreate, request: Request
) -> EnvironmentRegistered:
    """Register an environment; an identical spec returns the existing version."""
    spec = parse_environment(body.spec, body.source)
    with staged_files(request, ws, body.upload, body.base) as base:
        registration = environments.create_environment(workspace, spec, base, body.source)
    return EnvironmentRegistered(environment=registration.environment, created=registration.created)


@router.get("/environments", response_model=EnvironmentList, tags=["environments"])
def list_environments(workspace: ReaderWorkspace) -> EnvironmentList:
    return EnvironmentList(value=environments.list_environments(workspace))


@router.get("/environments/{name}/versions", response_model=EnvironmentList, tags=["environments"])
def list_environment_versions(workspace: ReaderWorkspace, name: str) -> EnvironmentList:
    return EnvironmentList(value=environments.list_environments(workspace, name))


@router.get("/environments/{name}/versions/{version}", response_model=Environment, tags=["environments"])
def get_environment(workspace: ReaderWorkspace, name: str, version: str) -> Environment:
    return environments.get_environment(workspace, AssetRef(name, version=version))


@router.get("/environments/{name}/aliases/{label}", response_model=Environment, tags=["environments"])
def get_environment_by_label(workspace: ReaderWorkspace, name: str, label: str) -> Environment:
    _only_latest("environment", name, label)
    return environments.get_environment(workspace, AssetRef(name, alias=LATEST))


@router.post("/environments/resolve", response_model=Resolved, tags=["environments"])
def resolve_environment(
    ws: str, workspace: ReaderWorkspace, body: ResolveRequest, request: Request
) -> Resolved:
    """What a reference or inline spec builds (the client builds the venv on its own machine)."""
    given: str | dict[str, Any] | None = body.spec if body.spec is not None else body.ref
    if given is None:
        raise InvalidArgument("give `ref` or `spec`")
    with staged_files(request, ws, body.upload, body.base) as base:
        return Resolved(resolved=environments.resolve_environment(workspace, given, base))


# --- components ----------------------------------------------------------------------------------


@router.post("/components", response_model=ComponentRegistered, status_code=201, tags=["components"])
def create_component(
    ws: str, workspace: ContributorWorkspace, body: ComponentCreate, request: Request
) -> ComponentRegistered:
    """Register a component YAML (with its code) or a spec; the same spec and code again returns
    the existing version."""
    if (body.file is None) == (body.spec is None):
        raise InvalidArgument("give exactly one of `file` (a YAML in the upload) and `spec`")
    with staged_files(request, ws, body.upload, body.base) as base:
        if body.file is not None:
            source: Any = staged_path(base, body.file)
            registration = components.create_component(
                workspace, source, name=body.name, version=body.version
            )
        else:
            spec = validate_spec(CommandComponentSpec, body.spec or {}, "component")
            registration = components.create_component(workspace, spec, base, body.name, body.version)
    return ComponentRegistered(component=registration.component, created=registration.created)


@router.get("/components", response_model=ComponentList, tags=["components"])
def list_components(workspace: ReaderWorkspace) -> ComponentList:
    return ComponentList(value=components.list_components(workspace))


@router.get("/components/{name}/versions", response_model=ComponentList, tags=["components"])
def list_component_versions(workspace: ReaderWorkspace, name: str) -> ComponentList:
    return ComponentList(value=components.list_components(workspace, name))


@router.get("/components/{name}/versions/{version}", response_model=Component, tags=["components"])
def get_component(workspace: ReaderWorkspace, name: str, version: str) -> Component:
    return components.get_component(workspace, AssetRef(name, version=version))


@router.get("/components/{name}/aliases/{label}", response_model=Component, tags=["components"])
def get_component_by_label(workspace: ReaderWorkspace, name: str, label: str) -> Component:
    _only_latest("component", name, label)
    return components.get_component(workspace, AssetRef(name, alias=LATEST))


# --- computes ------------------------------------------------------------------------------------


@router.post("/computes", response_model=Compute, status_code=201, tags=["computes"])
def create_compute(workspace: OperatorWorkspace, body: ComputeCreate) -> Compute:
    return computes.create_compute(workspace, body.name, body.type, body.address, body.description)


@router.get("/computes", response_model=ComputeList, tags=["computes"])
def list_computes(workspace: ReaderWorkspace) -> ComputeList:
    return ComputeList(value=computes.list_computes(workspace))


@router.get("/computes/{name}", response_model=Compute, tags=["computes"])
def get_compute(workspace: ReaderWorkspace, name: str) -> Compute:
    return computes.get_compute(workspace, name)


@router.delete(
    "/computes/{name}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, tags=["computes"]
)
def delete_compute(workspace: OperatorWorkspace, name: str) -> Response:
    computes.delete_compute(workspace, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _only_latest(kind: str, name: str, label: str) -> None:
    if label != LATEST:
        raise NotFound(f"{kind} {name!r} has no label {label!r}; {kind}s have one label: latest")
