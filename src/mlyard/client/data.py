"""`client.data`: register, find and fetch data assets (local workspace or team server)."""

from __future__ import annotations

import builtins
import os
from abc import ABC, abstractmethod
from pathlib import Path

from mlyard.entities.data import DataAsset, DataType
from mlyard.services.data_assets import data as data_service
from mlyard.services.data_assets.data import Registration
from mlyard.services.workspaces.workspace import Workspace


class DataOperations(ABC):
    @abstractmethod
    def create(
        self,
        name: str,
        path: str | os.PathLike[str],
        type: DataType | str = DataType.URI_FILE,
        version: str | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> Registration:
        """Register a file or folder; identical content returns the existing version
        (`registration.created` is False then)."""

    @abstractmethod
    def get(self, ref: str) -> DataAsset:
        """`name:version` or `name@latest` (a bare name means latest)."""

    @abstractmethod
    def list(self, name: str | None = None) -> builtins.list[DataAsset]:
        """The latest version of every asset, or every version of `name`, newest first."""

    @abstractmethod
    def local_path(self, ref: str) -> Path:
        """A local path to the asset's content (downloaded into a cache when it is remote)."""

    @abstractmethod
    def download(
        self, ref: str, download_path: str | os.PathLike[str] = ".", overwrite: bool = False
    ) -> Path:
        """A copy of the version's content in `download_path/<name>-<version>/`, which is returned;
        a non-empty folder there is refused (AlreadyExists) unless `overwrite` replaces it."""


class LocalDataOperations(DataOperations):
    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    def create(
        self,
        name: str,
        path: str | os.PathLike[str],
        type: DataType | str = DataType.URI_FILE,
        version: str | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> Registration:
        return data_service.create_data_asset(
            self._workspace, name, Path(path), type, version, description, tags
        )

    def get(self, ref: str) -> DataAsset:
        return data_service.get_data_asset(self._workspace, ref)

    def list(self, name: str | None = None) -> builtins.list[DataAsset]:
        return data_service.list_data_assets(self._workspace, name)

    def local_path(self, ref: str) -> Path:
        return data_service.local_path(self._workspace, self.get(ref))

    def download(
        self, ref: str, download_path: str | os.PathLike[str] = ".", overwrite: bool = False
    ) -> Path:
        return data_service.download_data_asset(self._workspace, ref, Path(download_path), overwrite)
