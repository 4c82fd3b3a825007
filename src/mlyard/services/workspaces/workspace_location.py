"""Where a workspace is, without opening it: cheap enough for the CLI to use before any import."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PATH = ".mlyard"
ENV_WORKSPACE = "MLYARD_WORKSPACE"
ENV_DB = "MLYARD_DB"
ENV_ARTIFACTS = "MLYARD_ARTIFACTS"


def resolve_path(path: str | os.PathLike[str] | None = None) -> Path:
    chosen = path or os.environ.get(ENV_WORKSPACE) or DEFAULT_PATH
    return Path(chosen).expanduser().absolute()


@dataclass(frozen=True)
class StoreLocation:
    """Where a store (a workspace or a registry) lives: its folder, and optionally its database
    and artifact store URLs."""

    path: Path
    db: str | None = None
    artifacts: str | None = None
