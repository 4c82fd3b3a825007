"""Read-only registry: data assets and models, their versions, `latest` and model aliases.

Shapes, mirroring Azure ML's `name` + `version` / `label` and MLflow's `name@alias`:
  GET …/data                                   latest version of every data asset
  GET …/data/{name}/versions                   every version, newest first
  GET …/data/{name}/versions/{version}         one version, with its column profile
  GET …/data/{name}/labels/latest              the newest version (`latest` is the only data label)
  GET …/models                                 every model with its latest version and aliases
  GET …/models/{name}/versions                 its versions, newest first (`include_archived`)
  GET …/models/{name}/versions/{version}
  GET …/models/{name}/aliases/{alias}          the version behind an alias; `latest` works too
"""

from __future__ import annotations

from fastapi import APIRouter

from mlyard.entities.data import DataAsset
from mlyard.entities.model import ModelVersion
from mlyard.entities.names import LATEST, AssetRef
from mlyard.errors import NotFound
from mlyard.server.auth import ReaderWorkspace
from mlyard.server.schemas.registry import DataAssetList, ModelList, ModelVersionList
from mlyard.services import data, models

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
def list_models(workspace: ReaderWorkspace) -> ModelList:
    return ModelList(value=models.list_models(workspace))


@router.get("/models/{name}/versions", response_model=ModelVersionList, tags=["models"])
def list_model_versions(
    workspace: ReaderWorkspace, name: str, include_archived: bool = False
) -> ModelVersionList:
    return ModelVersionList(value=models.list_model_versions(workspace, name, include_archived))


@router.get("/models/{name}/versions/{version}", response_model=ModelVersion, tags=["models"])
def get_model_version(workspace: ReaderWorkspace, name: str, version: str) -> ModelVersion:
    return models.get_model_version(workspace, AssetRef(name, version=version))


@router.get("/models/{name}/aliases/{alias}", response_model=ModelVersion, tags=["models"])
def get_model_by_alias(workspace: ReaderWorkspace, name: str, alias: str) -> ModelVersion:
    return models.get_model_version(workspace, AssetRef(name, alias=alias))
