"""Content fingerprints of files and folders, used to version data and models by content."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from mlyard.errors import InvalidArgument, NotFound

_CHUNK_BYTES = 1024 * 1024
# Folder digests start with this tag so they never equal the digest of a file's raw bytes,
# and so a future change of the scheme can be told apart by bumping it.
_FOLDER_TAG = b"mlyard-folder-sha256-v1\n"


@dataclass(frozen=True)
class HashResult:
    """The sha256 (hex) of a file or folder, with its total size and number of files."""

    sha256: str
    size_bytes: int
    file_count: int


def hash_path(path: Path) -> HashResult:
    """Fingerprint a file by its bytes, or a folder by its files' relative paths and contents.

    Modification times do not count; renaming or editing a file does. Raises `NotFound`
    naming the path when it does not exist.
    """
    if path.is_file():
        digest, size = _hash_file(path)
        return HashResult(sha256=digest, size_bytes=size, file_count=1)
    if path.is_dir():
        return _hash_folder(path)
    if not path.exists():
        raise NotFound(f"path {path} does not exist")
    raise InvalidArgument(f"path {path} is neither a file nor a folder")


def list_files(folder: Path) -> list[tuple[str, Path]]:
    """Every file below `folder` as (relative POSIX path, path), sorted by relative path.

    Symlinked folders are not entered and symlinked files count only when they resolve inside
    `folder`, so what is hashed or uploaded never comes from outside it. Empty folders are
    left out.
    """
    top = folder.resolve()
    found: list[tuple[str, Path]] = []
    for dirpath, _dirnames, filenames in os.walk(top, onerror=_raise):
        for name in filenames:
            file = Path(dirpath) / name
            if file.is_symlink() and not file.resolve().is_relative_to(top):
                continue
            if file.is_file():  # skips broken links, sockets and FIFOs
                found.append((file.relative_to(top).as_posix(), file))
    return sorted(found)


def _hash_folder(folder: Path) -> HashResult:
    combined = hashlib.sha256(_FOLDER_TAG)
    total = 0
    files = list_files(folder)
    for relative, file in files:
        digest, size = _hash_file(file)
        total += size
        # NUL cannot occur in a path, so this encoding is unambiguous.
        combined.update(f"{relative}\0{digest}\n".encode())
    return HashResult(sha256=combined.hexdigest(), size_bytes=total, file_count=len(files))


def _hash_file(file: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with file.open("rb") as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _raise(error: OSError) -> None:
    # os.walk skips unreadable folders silently by default; a fingerprint must not.
    raise error
