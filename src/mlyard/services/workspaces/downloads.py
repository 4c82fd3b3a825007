"""Where a data asset or model version is downloaded to: one rule for both (`--download-path`).

A version lands in its own folder, `<download_path>/<name>-<version>/` (a `uri_file` asset's file
inside it, a folder asset's or model's files below it), so it never mixes with what is already in
the destination. An existing, non-empty folder of that name is refused unless `overwrite`, which
replaces it whole; the download is written beside it first, so a failed one leaves the old copy.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from mlyard.errors import AlreadyExists


def download_version(
    download_path: str | os.PathLike[str],
    name: str,
    version: str,
    overwrite: bool,
    fetch: Callable[[Path], object],
) -> Path:
    """Run `fetch(folder)` (which writes the version's content into `folder`) and return
    `<download_path>/<name>-<version>`, following the rule above."""
    target = Path(download_path).expanduser() / f"{name}-{version}"
    if _holds_something(target) and not overwrite:
        raise AlreadyExists(
            f"{target} already exists and is not empty; choose another --download-path, "
            "or replace it with --overwrite"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        fetch(staging)
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _holds_something(target: Path) -> bool:
    if target.is_dir() and not target.is_symlink():
        return any(target.iterdir())
    return target.exists() or target.is_symlink()
