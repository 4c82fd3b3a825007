"""Previews of stored files for the studio: text, JSON, CSV as a table, images — bounded in size."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from mlyard.errors import InvalidArgument
from mlyard.services.workspaces.workspace import Workspace

MAX_PREVIEW_BYTES = 512 * 1024
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200
# SVG is left out on purpose: it can carry script, so it is never served inline.
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
               ".webp": "image/webp"}  # fmt: skip
TEXT_SUFFIXES = {
    ".txt",
    ".log",
    ".md",
    ".py",
    ".yml",
    ".yaml",
    ".toml",
    ".cfg",
    ".ini",
    ".sh",
    ".html",
    ".svg",
}


@dataclass
class Preview:
    kind: str  # text | json | csv | image | binary
    size: int
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)
    truncated: bool = False


def preview(workspace: Workspace, stored: str, name: str) -> Preview:
    size = workspace.artifacts.size(stored)  # NotFound naming the path
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in IMAGE_TYPES:
        return Preview("image", size)
    data = workspace.artifacts.read_range(stored, 0, MAX_PREVIEW_BYTES)
    truncated = size > len(data)
    if suffix not in TEXT_SUFFIXES | {".json", ".csv"} and b"\x00" in data[:4096]:
        return Preview("binary", size)
    text = data.decode("utf-8", "replace")
    if suffix == ".json" and not truncated:
        try:
            return Preview("json", size, json.dumps(json.loads(text), indent=2, ensure_ascii=False))
        except ValueError:
            pass  # not valid JSON after all: shown as text
    if suffix == ".csv":
        rows = list(csv.reader(io.StringIO(text)))[: MAX_ROWS + 1]
        return Preview("csv", size, rows=rows, truncated=truncated or len(rows) > MAX_ROWS)
    return Preview("text", size, text, truncated=truncated)


def raw(workspace: Workspace, stored: str) -> tuple[bytes, str]:
    """The bytes of a stored image and its media type (anything else as an octet stream)."""
    size = workspace.artifacts.size(stored)
    if size > MAX_IMAGE_BYTES:
        raise InvalidArgument(f"{stored} is {size} bytes, more than the {MAX_IMAGE_BYTES} a preview shows")
    media_type = IMAGE_TYPES.get(PurePosixPath(stored).suffix.lower(), "application/octet-stream")
    return workspace.artifacts.read_range(stored, 0, size), media_type
