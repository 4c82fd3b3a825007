"""Read and write `mlyard-model.yaml`, the file in every model folder saying how to load it."""

from __future__ import annotations

import platform
from importlib import metadata as package_metadata
from pathlib import Path

import yaml
from pydantic import ValidationError

from mlyard.entities.registry.model import MODEL_METADATA_FILE, ModelMetadata
from mlyard.errors import InvalidSpec, NotFound


def installed_versions(*packages: str) -> dict[str, str]:
    """The installed versions of `packages` (those not installed are left out), plus "python":
    what a flavor records as the libraries a saved model depends on."""
    versions: dict[str, str] = {}
    for package in packages:
        try:
            versions[package] = package_metadata.version(package)
        except package_metadata.PackageNotFoundError:
            continue
    versions["python"] = platform.python_version()
    return versions


def write_metadata(folder: Path, metadata: ModelMetadata) -> None:
    """Write `metadata` as YAML to `folder/mlyard-model.yaml`, replacing any earlier file."""
    content = metadata.model_dump(mode="json", exclude_none=True)
    (folder / MODEL_METADATA_FILE).write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")


def read_metadata(folder: Path) -> ModelMetadata:
    """The metadata in `folder`; NotFound when the file is missing, InvalidSpec when malformed."""
    path = folder / MODEL_METADATA_FILE
    if not path.is_file():
        raise NotFound(
            f"model folder {folder} has no {MODEL_METADATA_FILE}; save the model with "
            "mlyard (log_model) or register the folder with: mlyard model create"
        )
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InvalidSpec(f"{path} is not readable YAML: {exc}") from exc
    if not isinstance(content, dict):
        raise InvalidSpec(f"{path} must be a YAML mapping with at least a 'flavor' entry")
    try:
        return ModelMetadata.model_validate(content)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(top level)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise InvalidSpec(f"{path} is not valid model metadata: {problems}") from exc
