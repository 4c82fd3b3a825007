"""Code stored with what uses it: content-addressed copies of a job's or component's code folder.

A job runs the code as it was when it was submitted, from any machine that reaches the artifact
store (a Ray node, a worker of a team server); the same code is stored once, however often it is
submitted. Only source is copied: no virtual environments, caches or VCS internals.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from mlyard.entities.specs.local_files import spec_path
from mlyard.errors import AlreadyExists, InvalidSpec, NotFound
from mlyard.services.tracking.source_code import copy_source_tree, hash_source_folder
from mlyard.services.workspaces.workspace import Workspace

CODE_ROOT = "components/code"  # where components first stored theirs; jobs share it


def resolve_code(
    code: str | None, base_dir: Path, where: str, additional_includes: Sequence[str] = ()
) -> tuple[str | None, str | None]:
    """The absolute code folder (or file) and a hash of its source files.

    `additional_includes` (Azure's component field, paths relative to `base_dir`) are copied into
    the root of the code under their own names, as Azure builds the code snapshot: the result is
    then a folder of code and includes together, kept by content hash."""
    if code is None and not additional_includes:
        return None, None
    path = None
    if code is not None:
        path = spec_path(code, base_dir)
        if not path.exists():
            raise NotFound(f"{where}: {code} does not exist (looked for {path})")
        if not additional_includes:
            return str(path), code_hash(path)
    merged = _with_includes(path, additional_includes, base_dir, where)
    return str(merged), code_hash(merged)


def _with_includes(code: Path | None, includes: Sequence[str], base_dir: Path, where: str) -> Path:
    where = where.removesuffix(".code").removesuffix(": code")
    cache = Path(tempfile.gettempdir()) / "mlyard-code-with-includes"
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".assembling-", dir=cache))
    try:
        if code is not None and code.is_dir():
            copy_source_tree(code, staging)
        elif code is not None:
            shutil.copy2(code, staging / code.name)
        for index, given in enumerate(includes):
            found = spec_path(given, base_dir)
            field = f"{where}: additional_includes[{index}]"
            if not found.exists():
                raise NotFound(f"{field}: {given} does not exist (looked for {found})")
            target = staging / found.name
            if target.exists():
                raise InvalidSpec(
                    f"{field}: {given} would replace {found.name} in the code; rename one of them"
                )
            if found.is_dir():
                copy_source_tree(found, target)
            else:
                shutil.copy2(found, target)
        merged = cache / code_hash(staging)
        if merged.exists():  # the same code and includes were assembled before
            shutil.rmtree(staging)
        else:
            with contextlib.suppress(OSError):  # a concurrent submission assembled it first
                staging.rename(merged)
        return merged
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def code_hash(path: Path) -> str:
    """The content hash of a code file, or of the source files of a code folder."""
    if path.is_file():
        return hashlib.sha256(path.name.encode() + b"\0" + path.read_bytes()).hexdigest()
    return hash_source_folder(path)[0]


def store_code(workspace: Workspace, folder: Path, digest: str) -> str:
    """The artifact path of `folder`'s code (a file or folder), stored now unless already there."""
    path = f"{CODE_ROOT}/{digest}"
    if workspace.artifacts.exists(path):
        return path
    with contextlib.suppress(AlreadyExists):  # stored by a concurrent submission of the same code
        if folder.is_file():
            workspace.artifacts.put_file(folder, f"{path}/{folder.name}")
        else:
            with tempfile.TemporaryDirectory(prefix="mlyard-code-") as staging:
                copy = Path(staging) / "code"
                copy_source_tree(folder, copy)
                workspace.artifacts.put_dir(copy, path)
    # The stored copy must hash like the source, or a later reuse check would see other code.
    stored = workspace.artifacts.local_path(path)
    if stored is not None and folder.is_dir() and code_hash(stored) != digest:
        raise AlreadyExists(f"{path} holds other code than {folder}; remove it and submit again")
    return path


def code_folder(
    workspace: Workspace, artifact_path: str, digest: str, cache_root: Path | None = None
) -> Path:
    """A local folder with stored code: the store's own files when local, else a cached download."""
    direct = workspace.artifacts.local_path(artifact_path)
    if direct is not None:
        return direct
    target = (cache_root or workspace.path / "cache" / "code") / digest[:32]
    if not target.exists():
        partial = target.with_name(f".{target.name}.partial")
        shutil.rmtree(partial, ignore_errors=True)
        workspace.artifacts.download(artifact_path, partial)
        with contextlib.suppress(OSError):  # a concurrent download finished first
            partial.rename(target)
        shutil.rmtree(partial, ignore_errors=True)
    return target
