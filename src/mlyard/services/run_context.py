"""What a run records about where it ran: code snapshot (git + content hash) and runtime info.

Both are computed once per process and folder: they cannot change while a training script runs,
and computing them per run would tax scripts that start hundreds of runs.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import platform
import socket
import subprocess
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from mlyard.entities.job import CodeSnapshot, RuntimeInfo

# Folders that are never source: environments, caches, workspaces, VCS internals.
IGNORED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "env",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".mlyard",
        "mlruns",
        "node_modules",
        ".ipynb_checkpoints",
        ".tox",
        "build",
        "dist",
        ".eggs",
    }
)
MAX_HASHED_FILE_BYTES = 10 * 1024 * 1024
MAX_HASHED_FILES = 5_000


def entry_point() -> tuple[Path, str | None]:
    """The folder of the running script (or the working directory in a notebook/REPL)."""
    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None)
    if script and Path(script).is_file():
        path = Path(script).resolve()
        return path.parent, path.name
    return Path.cwd().resolve(), None


def code_snapshot(source_dir: Path | None = None) -> CodeSnapshot:
    folder, script = entry_point() if source_dir is None else (source_dir.resolve(), None)
    return _snapshot(folder, script)


@lru_cache(maxsize=16)
def _snapshot(folder: Path, script: str | None) -> CodeSnapshot:
    source_hash, count = hash_source_folder(folder)
    commit, branch, dirty = git_state(folder)
    return CodeSnapshot(
        source_dir=str(folder),
        entry_point=script,
        source_hash=source_hash,
        file_count=count,
        git_commit=commit,
        git_branch=branch,
        git_dirty=dirty,
    )


def hash_source_folder(folder: Path) -> tuple[str, int]:
    """sha256 over sorted relative paths and contents of the source files below `folder`."""
    digest = hashlib.sha256()
    count = 0
    for path in sorted(_source_files(folder)):
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


def _source_files(folder: Path) -> list[Path]:
    files: list[Path] = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in IGNORED_DIRS and not d.endswith(".egg-info")]
        files.extend(Path(root) / name for name in names if not name.endswith((".pyc", ".pyo")))
        if len(files) > MAX_HASHED_FILES * 4:
            break
    return files


def git_state(folder: Path) -> tuple[str | None, str | None, bool | None]:
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=folder, capture_output=True, text=True, timeout=5, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return None, None, None
    branch = git("rev-parse", "--abbrev-ref", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return commit, branch, bool(status) if status is not None else None


@lru_cache(maxsize=1)
def runtime_info() -> RuntimeInfo:
    packages: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            packages[name.lower()] = dist.version
    return RuntimeInfo(
        python_version=platform.python_version(),
        platform=platform.platform(),
        host=socket.gethostname(),
        user=current_user(),
        packages=dict(sorted(packages.items())),
    )


@lru_cache(maxsize=1)
def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return os.environ.get("USER", "unknown")
