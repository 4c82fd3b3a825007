"""Finding the model file in a model folder: one rule for every flavor that saves a single file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mlyard.entities.registry.model import MODEL_METADATA_FILE
from mlyard.errors import InvalidArgument, NotFound


def candidate_files(folder: Path, suffixes: Sequence[str]) -> list[Path]:
    """The files at the top of `folder` with one of `suffixes`, sorted (none if it is no folder)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in suffixes)


def model_file(folder: Path, named: str | None, default: str, suffixes: Sequence[str]) -> Path:
    """The file the metadata names, else `default`, else the only candidate; clear errors otherwise."""
    if named is not None:
        path = folder / named
        if not path.is_file():
            raise NotFound(f"model file {path} does not exist")
        return path
    if (folder / default).is_file():
        return folder / default
    candidates = candidate_files(folder, suffixes)
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise NotFound(f"model folder {folder} has no {', '.join(suffixes)} file to load")
    names = ", ".join(p.name for p in candidates)
    raise InvalidArgument(
        f"model folder {folder} has several model files ({names}); set 'model_file' in its "
        f"{MODEL_METADATA_FILE} to the one to load"
    )
