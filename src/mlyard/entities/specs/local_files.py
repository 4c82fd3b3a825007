"""Which local files a spec may name: any (on the user's own machine), or only those sent along.

A team server resolves a client's job, component or environment spec against the files the
client uploaded. Everything that reads a local path on behalf of a spec — code folders, input
files, component YAMLs, conda and requirements files, entry scripts — passes it through
`confine`, so a spec naming `/etc/shadow` or `../../other-workspace` is refused there instead of
reading the server's own files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from mlyard.errors import MlyardError, PermissionDenied

_root: ContextVar[Path | None] = ContextVar("mlyard_local_root", default=None)


@contextmanager
def confined_to(root: Path) -> Iterator[None]:
    """Inside the block, specs may name only files below `root`."""
    token = _root.set(root.resolve())
    try:
        yield
    finally:
        _root.reset(token)


def confine(path: Path, where: str) -> Path:
    """`path` itself, or `PermissionDenied` when it lies outside the folder specs are confined to."""
    root = _root.get()
    if root is None:
        return path
    resolved = path.expanduser().resolve()
    if resolved != root and not resolved.is_relative_to(root):
        raise PermissionDenied(
            f"{where}: {path} is outside the files sent with the request; a server reads only what the "
            "client uploads (name paths relative to the YAML's folder)"
        )
    return path


def spec_path(text: str, base_dir: Path) -> Path:
    """A path a spec names (`./src`, `../data/x.csv`, `file:///abs`), absolute, from the spec's folder."""
    if text.startswith("file://"):
        text = text[len("file://") :]
    path = Path(text).expanduser()
    return confine((path if path.is_absolute() else base_dir / path).resolve(), text)


# --- staged copies named as the user's own files -------------------------------------------------

_shown: ContextVar[tuple[tuple[Path, str], ...]] = ContextVar("mlyard_shown_paths", default=())


@contextmanager
def shown_as(staged: Path, original: str) -> Iterator[None]:
    """Inside the block, `staged` — a temporary copy of the user's files, or a server's copy of a
    client's upload — is named `original` (the user's own path): in the message of any mlyard error
    raised through the block, and by `user_path`. Blocks nest (a temporary copy of an upload)."""
    staged_forms = sorted({str(staged), str(staged.resolve())}, key=len, reverse=True)
    token = _shown.set(((staged.resolve(), original), *_shown.get()))
    try:
        yield
    except MlyardError as exc:
        message = exc.message
        for form in staged_forms:
            message = message.replace(form, original)
        exc.message, exc.args = message, (message, *exc.args[1:])
        raise
    finally:
        _shown.reset(token)


def user_path(path: Path) -> str:
    """`path` as the user knows it: below their own folder when it lies in a staged copy."""
    shown = path.resolve()
    for staged, original in _shown.get():  # innermost copy first: its original may be in the next
        if shown.is_relative_to(staged):
            shown = Path(os.path.abspath(Path(original) / shown.relative_to(staged)))
    return str(shown)
