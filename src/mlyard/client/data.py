"""`client.data`: register, find and fetch data assets (local workspace or team server)."""

from __future__ import annotations

import builtins
import os
from abc import ABC, abstractmethod
from pathlib import Path

from mlyard.entities.registry.asset_specs import DataSpec, load_data_spec, with_overrides
from mlyard.entities.registry.data import DataAsset, DataType
from mlyard.entities.specs.spec_warnings import warn_spec
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

    def create_or_update(
        self,
        data: str | os.PathLike[str] | DataSpec,
        name: str | None = None,
        version: str | None = None,
        overrides: dict[str, str] | None = None,
    ) -> Registration:
        """Register the data YAML `data` (Azure ML's: name, version, type, path, description, tags)
        or a `DataSpec`; its `path` is relative to the YAML (to the current folder for a spec).
        `name`, `version` and `overrides` (`--set` pairs) win over the file."""
        if isinstance(data, DataSpec):
            spec = with_overrides(data, overrides, name=name, version=version)
            base_dir, source = Path.cwd(), "data"
        else:
            source = str(data)
            spec = load_data_spec(Path(data), overrides, name=name, version=version)
            base_dir = Path(data).parent
        if spec.properties:
            warn_spec(f"{source}: properties: data assets keep tags, not properties; ignored")
        path = spec.local_path(base_dir, source)
        kind = spec.type or (DataType.URI_FILE if path.is_file() else DataType.URI_FOLDER)
        return self.create(spec.name, path, kind, spec.version, spec.description, spec.tags)

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
