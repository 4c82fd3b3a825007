"""Validation of the relative paths that name artifacts inside a store."""

from __future__ import annotations

import re

from mlyard.errors import InvalidArgument

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


def safe_relpath(path: str, what: str = "artifact path", *, allow_root: bool = False) -> str:
    """Normalise a relative artifact path: backslashes become '/', './' and '//' collapse.

    Raises `InvalidArgument` naming the path when it is empty (unless `allow_root`, which
    returns ''), absolute, contains a '..' component or a NUL character, so no artifact
    path can reach outside its store.
    """
    if "\0" in path:
        raise InvalidArgument(f"{what} {path!r} contains a NUL character")
    posix = path.replace("\\", "/")
    # '\\server\share' has become '//server/share' here, so one test covers POSIX and UNC roots.
    if posix.startswith("/") or _WINDOWS_DRIVE.match(posix):
        raise InvalidArgument(
            f"{what} {path!r} is absolute; give a path relative to the artifact store, "
            "such as 'outputs/model.pkl'"
        )
    parts = [part for part in posix.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise InvalidArgument(f"{what} {path!r} contains '..'; artifact paths cannot point outside the store")
    if not parts and not allow_root:
        raise InvalidArgument(f"{what} {path!r} is empty; give a relative path such as 'outputs/model.pkl'")
    return "/".join(parts)
