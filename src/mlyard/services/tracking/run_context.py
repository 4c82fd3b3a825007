"""What a run records about where it ran: code snapshot (git + content hash) and runtime info.

Both are computed once per process and folder: they cannot change while a training script runs,
and computing them per run would tax scripts that start hundreds of runs.
"""

from __future__ import annotations

import platform
import socket
import subprocess
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from mlyard.entities.jobs.job import CodeSnapshot, RuntimeInfo
from mlyard.services.tracking.source_code import hash_source_folder
from mlyard.services.workspaces.audit import current_user


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
