"""The local files a spec refers to, so a remote submission can send them along.

A job, component or environment YAML names files relative to itself: `code: ./src`, an input
`path: data/train.csv`, `component: ./train.yml` (which names its own code), `conda_file:`. The
server resolves the spec against its copy of those files, so the client uploads each referenced
file or folder under its path relative to a common root, and rewrites absolute paths in the spec
as relative ones. References are found by walking the spec's strings: any that names an existing
local path is one (YAML files it names are walked too, relative to their own folder), except
under keys that name things rather than files (`name`, `tags`, …).

Wherever a referenced path is — `../../model-1/model` beside the YAML's grandparent, or an absolute
path elsewhere — it is sent at its place relative to the common root, so the spec's own relative
paths resolve on the server unchanged. Only what is named is sent: a folder's files, without
following symbolic links that lead out of it (session.tree_files).
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlyard.client.remote.session import tree_files

_NOT_PATHS = ("azureml:", "${{", "$[[", "http://", "https://")
_YAML = (".yml", ".yaml")
_CODE_KEYS = ("code",)
# Keys whose values name or label things, or are relative to another folder (a scoring script
# lives in the code folder): never files to send, even when a sibling happens to bear the name.
_NOT_PATH_KEYS = frozenset(
    {
        "name", "display_name", "description", "endpoint_name", "experiment_name", "type", "mode",
        "version", "compute", "instance_type", "tags", "properties", "scoring_script", "entry_script",
        "$schema",
    }
)  # fmt: skip


@dataclass
class Closure:
    spec: dict[str, Any]  # the spec with absolute local paths made relative to `base`
    base: str  # the spec's folder, relative to the upload's root
    files: dict[str, Path] = field(default_factory=dict)  # upload path → local file


def spec_closure(data: dict[str, Any], base_dir: Path, extra: tuple[Path, ...] = ()) -> Closure:
    """What to upload for `data` (read from a YAML in `base_dir`), and the spec to send with it."""
    base_dir = Path(os.path.abspath(base_dir))
    found: dict[Path, bool] = {}  # path → source only (code folders leave out venvs and caches)
    seen_yaml: set[Path] = set()
    spec = copy.deepcopy(data)
    spec = _walk(spec, base_dir, base_dir, None, found, seen_yaml, rewrite=True)
    for path in extra:
        found.setdefault(Path(os.path.abspath(path)), False)
    root = Path(os.path.commonpath([base_dir, *found])) if found else base_dir
    if root.is_file():
        root = root.parent
    files: dict[str, Path] = {}
    for path, source_only in sorted(found.items()):
        relative = path.relative_to(root).as_posix()
        files.update(tree_files(path, relative, source_only))
    base = base_dir.relative_to(root).as_posix()
    return Closure(spec=spec, base="" if base == "." else base, files=files)


def _walk(
    value: Any,
    folder: Path,
    base_dir: Path,
    key: str | None,
    found: dict[Path, bool],
    seen_yaml: set[Path],
    rewrite: bool,
) -> Any:
    if isinstance(value, dict):
        return {
            k: v if k in _NOT_PATH_KEYS else _walk(v, folder, base_dir, str(k), found, seen_yaml, rewrite)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_walk(v, folder, base_dir, key, found, seen_yaml, rewrite) for v in value]
    if not isinstance(value, str):
        return value
    path = _as_local_path(value, folder)
    source_only = key in _CODE_KEYS
    if path is None or (not source_only and (path == base_dir or path in base_dir.parents)):
        return value  # `.` or `..` as a plain value is not a file to send; `code: .` is
    # Code folders leave out venvs and caches; a path also used as data is sent whole.
    found[path] = found[path] and source_only if path in found else source_only
    if path.suffix in _YAML and path.is_file() and path not in seen_yaml:
        seen_yaml.add(path)
        _walk_yaml(path, base_dir, found, seen_yaml)
    if rewrite and Path(_strip(value)).expanduser().is_absolute():
        return os.path.relpath(path, base_dir)
    return value


def _walk_yaml(path: Path, base_dir: Path, found: dict[Path, bool], seen_yaml: set[Path]) -> None:
    import yaml

    try:
        nested = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return  # the server reports what is wrong with it, naming the file
    _walk(nested, path.parent, base_dir, None, found, seen_yaml, rewrite=False)


def _strip(text: str) -> str:
    return text[len("file://") :] if text.startswith("file://") else text


def _as_local_path(text: str, folder: Path) -> Path | None:
    text = text.strip()
    if (
        not text
        or len(text) > 4096
        or "\n" in text
        or text.startswith(_NOT_PATHS)
        or "://" in text.replace("file://", "", 1)
    ):
        return None
    candidate = Path(_strip(text)).expanduser()
    if not candidate.is_absolute():
        candidate = folder / candidate
    try:
        # Where the spec says it is (`..` folded, a named link not replaced by its target), so the
        # server finds it at the same relative place.
        return Path(os.path.abspath(candidate)) if candidate.exists() else None
    except OSError:
        return None
