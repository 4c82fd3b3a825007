"""`client.data`: register, find and fetch data assets."""

from __future__ import annotations

import builtins
import os
from pathlib import Path

from mlyard.entities.data import DataAsset, DataType
from mlyard.services import data as data_service
from mlyard.services.workspace import Workspace


class DataOperations:
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
    ) -> data_service.Registration:
        """Register a file or folder; identical content returns the existing version
        (`registration.created` is False then)."""
        return data_service.create_data_asset(
            self._workspace, name, Path(path), type, version, description, tags
        )

    def get(self, ref: str) -> DataAsset:
        """`name:version` or `name@latest` (a bare name means latest)."""
        return data_service.get_data_asset(self._workspace, ref)

    def list(self, name: str | None = None) -> builtins.list[DataAsset]:
        return data_service.list_data_assets(self._workspace, name)

    def local_path(self, ref: str) -> Path:
        return data_service.local_path(self._workspace, self.get(ref))

    def download(self, ref: str, download_path: str | os.PathLike[str] = ".") -> Path:
        return data_service.download_data_asset(self._workspace, ref, Path(download_path))
