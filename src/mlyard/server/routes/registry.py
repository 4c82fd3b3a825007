"""The registry: data assets and models, their versions, `latest`, aliases and lineage.

Shapes, mirroring Azure ML's `name` + `version` / `label` and MLflow's `name@alias`:
  GET …/data                                   latest version of every data asset
  GET …/data/{name}/versions                   every version, newest first
  GET …/data/{name}/versions/{version}         one version, with its column profile
  GET …/data/{name}/labels/latest              the newest version (`latest` is the only data label)
  GET …/models                                 every model with its latest version and aliases
  GET …/models/{name}/versions                 its versions, newest first (`include_archived`)
  GET …/models/{name}/versions/{version}
  GET …/models/{name}/aliases/{alias}          the version behind an alias; `latest` works too
  POST …/data/{name}/versions · POST …/models/{name}/versions      register a staged upload
  PUT|DELETE …/models/{name}/aliases/{alias}   move or remove an alias (operator; protected → 403)
  POST …/models/{name}/versions/{v}/archive|restore · GET …/lineage · GET …/models/{name}/compare
  POST …/models/is-better                      the champion/challenger verdict
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from mlyard.entities.registry.data import DataAsset
from mlyard.entities.registry.model import Comparison, ModelLineage, ModelRegistration, ModelVersion
from mlyard.entities.specs.names import LATEST, AssetRef
from mlyard.errors import InvalidArgument, NotFound
from mlyard.server.auth import ContributorWorkspace, OperatorWorkspace, ReaderWorkspace
from mlyard.server.schemas.registry import (
    Aliases,
    AliasMove,
    AliasMoved,
    DataAssetList,
    DataCreate,
    DataRegistration,
    IsBetterRequest,
    LineageList,
    ModelCreate,
    ModelList,
    ModelVersionList,
)
from mlyard.server.uploads import staged_files, staged_path
from mlyard.services.data_assets import data
from mlyard.services.model_registry import model_comparison, models
from mlyard.services.tracking import jobs

router = APIRouter(prefix="/api/v1/workspaces/{ws}")


def _without_profiles(assets: list[DataAsset]) -> DataAssetList:
    return DataAssetList(value=[asset.model_copy(update={"profile": None}) for asset in assets])


@router.get("/data", response_model=DataAssetList, tags=["data"])
def list_data_assets(workspace: ReaderWorkspace) -> DataAssetList:
    return _without_profiles(data.list_data_assets(workspace))


@router.get("/data/{name}/versions", response_model=DataAssetList, tags=["data"])
def list_data_versions(workspace: ReaderWorkspace, name: str) -> DataAssetList:
    return _without_profiles(data.list_data_assets(workspace, name))


@router.get("/data/{name}/versions/{version}", response_model=DataAsset, tags=["data"])
def get_data_version(workspace: ReaderWorkspace, name: str, version: str) -> DataAsset:
    return data.get_data_asset(workspace, AssetRef(name, version=version))


@router.get("/data/{name}/labels/{label}", response_model=DataAsset, tags=["data"])
def get_data_by_label(workspace: ReaderWorkspace, name: str, label: str) -> DataAsset:
    """The version a label points at; data assets have one label, `latest`."""
    if label != LATEST:
        raise NotFound(f"data asset {name!r} has no label {label!r}; data assets have one label: latest")
    return data.get_data_asset(workspace, AssetRef(name, alias=label))


@router.get("/models", response_model=ModelList, tags=["models"])
def list_models(
    workspace: ReaderWorkspace,
    tag: Annotated[list[str] | None, Query(description="repeatable KEY=VALUE filter")] = None,
) -> ModelList:
    return ModelList(value=models.list_models(workspace, _tag_filter(tag)))


@router.get("/models/{name}/versions", response_model=ModelVersionList, tags=["models"])
def list_model_versions(
    workspace: ReaderWorkspace,
    name: str,
    include_archived: bool = False,
    tag: Annotated[list[str] | None, Query(description="repeatable KEY=VALUE filter")] = None,
) -> ModelVersionList:
    return ModelVersionList(
        value=models.list_model_versions(workspace, name, include_archived, _tag_filter(tag))
    )


@router.get("/models/{name}/versions/{version}", response_model=ModelVersion, tags=["models"])
def get_model_version(workspace: ReaderWorkspace, name: str, version: str) -> ModelVersion:
    return models.get_model_version(workspace, AssetRef(name, version=version))


@router.get("/models/{name}/aliases/{alias}", response_model=ModelVersion, tags=["models"])
def get_model_by_alias(workspace: ReaderWorkspace, name: str, alias: str) -> ModelVersion:
    return models.get_model_version(workspace, AssetRef(name, alias=alias))


# --- writes --------------------------------------------------------------------------------------


def _tag_filter(tag: list[str] | None) -> dict[str, str] | None:
    if not tag:
        return None
    pairs = {}
    for item in tag:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidArgument(f"query parameter 'tag': expected KEY=VALUE, got {item!r}")
        pairs[key] = value
    return pairs


@router.post("/data/{name}/versions", response_model=DataRegistration, status_code=201, tags=["data"])
def create_data_version(
    ws: str, workspace: ContributorWorkspace, name: str, body: DataCreate, request: Request
) -> DataRegistration:
    """Register a staged file or folder; identical content returns the existing version."""
    with staged_files(request, ws, body.upload) as folder:
        registration = data.create_data_asset(
            workspace, name, staged_path(folder, body.path), body.type, body.version, body.description,
            jobs.check_tags(body.tags),
        )  # fmt: skip
    return DataRegistration(asset=registration.asset, created=registration.created)


@router.post("/models/{name}/versions", response_model=ModelRegistration, status_code=201, tags=["models"])
def create_model_version(
    ws: str, workspace: ContributorWorkspace, name: str, body: ModelCreate, request: Request
) -> ModelRegistration:
    """Register a staged model folder or file as the next version of `name`; identical content and
    lineage return the existing version (`created` false)."""
    with staged_files(request, ws, body.upload) as folder:
        return models.register_model_folder(
            workspace, name, staged_path(folder, body.path), body.type, body.version, body.description,
            jobs.check_tags(body.tags), jobs.check_tags(body.properties), body.job_id,
        )  # fmt: skip


@router.get("/models/{name}/aliases", response_model=Aliases, tags=["models"])
def list_aliases(workspace: ReaderWorkspace, name: str) -> Aliases:
    models.get_model_version(workspace, AssetRef(name, alias=LATEST))  # NotFound names the model
    return Aliases(name=name, aliases=models.model_aliases(workspace, name))


@router.put("/models/{name}/aliases/{alias}", response_model=AliasMoved, tags=["models"])
def set_alias(workspace: OperatorWorkspace, name: str, alias: str, body: AliasMove) -> AliasMoved:
    """Point `alias` at a version; a protected alias answers 403: request a promotion instead."""
    previous = models.set_alias(workspace, name, alias, body.version)
    return AliasMoved(alias=alias, version=body.version, previous=previous)


@router.delete("/models/{name}/aliases/{alias}", status_code=204, response_class=Response, tags=["models"])
def delete_alias(workspace: OperatorWorkspace, name: str, alias: str) -> Response:
    models.delete_alias(workspace, name, alias)
    return Response(status_code=204)


@router.post("/models/{name}/versions/{version}/archive", response_model=ModelVersion, tags=["models"])
def archive_version(workspace: OperatorWorkspace, name: str, version: str) -> ModelVersion:
    return models.set_archived(workspace, f"{name}:{version}", True)


@router.post("/models/{name}/versions/{version}/restore", response_model=ModelVersion, tags=["models"])
def restore_version(workspace: OperatorWorkspace, name: str, version: str) -> ModelVersion:
    return models.set_archived(workspace, f"{name}:{version}", False)


@router.get("/models/{name}/versions/{version}/lineage", response_model=ModelLineage, tags=["models"])
def version_lineage(workspace: ReaderWorkspace, name: str, version: str) -> ModelLineage:
    """The job that produced the version, its params and metrics, and the data it read."""
    return model_comparison.lineage(workspace, f"{name}:{version}")


@router.get("/models/{name}/compare", response_model=LineageList, tags=["models"])
def compare_versions(
    workspace: ReaderWorkspace,
    name: str,
    versions: Annotated[str | None, Query(description="comma-separated, e.g. 1,2,3; default all")] = None,
) -> LineageList:
    chosen = [v.strip() for v in versions.split(",") if v.strip()] if versions else None
    return LineageList(value=model_comparison.compare(workspace, name, chosen))


@router.post("/models/is-better", response_model=Comparison, tags=["models"])
def is_better(workspace: ReaderWorkspace, body: IsBetterRequest) -> Comparison:
    """Does the candidate beat the model behind `than` on `metric`? (The champion/challenger gate.)"""
    return model_comparison.is_better(workspace, body.candidate, body.than, body.metric, body.goal, body.name)
