"""What counts as source code in a code folder: one rule for hashing, copying, storing and uploading it.

A job's `code:` folder, a component's code and a tracked script's folder are hashed (the code
hash that step reuse and lineage compare), copied into the job's working copy, stored in the
artifact store and uploaded to a team server. All four must agree on which files are the code,
or a reused step would have run other code than its hash says: environments, caches, build
output, workspaces and VCS internals are never source, nor is a symbolic link that leads out of
the folder (it would bring files the spec never named).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

NON_SOURCE_DIRS = frozenset(
    {
        ".git", ".hg", ".svn",                                    # version control internals
        ".venv", "venv", "env", ".tox", ".eggs", "node_modules",  # environments and installs
        "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints",
        ".mlyard", "mlruns",                                      # tracking stores
        "build", "dist",                                          # build output
    }
)  # fmt: skip
NON_SOURCE_SUFFIXES = (".pyc", ".pyo")
MAX_HASHED_FILE_BYTES = 10 * 1024 * 1024  # larger files are data, not code: left out of the hash
MAX_HASHED_FILES = 5_000  # a folder with more is hashed by its first files: the cost stays bounded


def is_source_dir(name: str) -> bool:
    return name not in NON_SOURCE_DIRS and not name.endswith(".egg-info")


def is_source_file(name: str) -> bool:
    return not name.endswith(NON_SOURCE_SUFFIXES)


def links_out_of(path: Path, folder: Path) -> bool:
    """Whether `path` is a symbolic link whose target is outside `folder`."""
    if not path.is_symlink():
        return False
    target = path.resolve()
    root = folder.resolve()
    return target != root and not target.is_relative_to(root)


def source_files(folder: Path) -> Iterator[Path]:
    """The source files below `folder`, in a stable order (sorted folders, then sorted names)."""
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if is_source_dir(d))
        for name in sorted(names):
            if is_source_file(name) and not links_out_of(Path(root) / name, folder):
                yield Path(root) / name


def ignore_non_source(directory: str, names: list[str], root: Path | None = None) -> set[str]:
    """`shutil.copytree`'s `ignore=`: leave out what `source_files` leaves out (links out of `root`
    too, when given)."""
    base = Path(directory)
    return {
        name for name in names
        if not (is_source_dir(name) if (base / name).is_dir() else is_source_file(name))
        or (root is not None and links_out_of(base / name, root))
    }  # fmt: skip


def copy_source_tree(source: Path, target: Path) -> None:
    """Copy the source files of `source` into `target` (created, or merged into if it exists)."""
    shutil.copytree(
        source, target, ignore=lambda folder, names: ignore_non_source(folder, names, source),
        dirs_exist_ok=True,
    )  # fmt: skip


def hash_source_folder(folder: Path) -> tuple[str, int]:
    """sha256 over sorted relative paths and contents of the source files below `folder`, and
    how many files it covered."""
    digest = hashlib.sha256()
    count = 0
    for path in sorted(source_files(folder)):
        relative = path.relative_to(folder).as_posix()
        try:
            if path.stat().st_size > MAX_HASHED_FILE_BYTES:
                continue
            content = path.read_bytes()
        except OSError:
            continue
        digest.update(relative.encode() + b"\0" + hashlib.sha256(content).digest())
        count += 1
        if count >= MAX_HASHED_FILES:
            break
    return digest.hexdigest(), count
