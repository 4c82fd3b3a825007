"""Names and references, written as Azure ML writes them: `name:version`, `name@latest`, `name@alias`.

An optional `azureml:` prefix is accepted and ignored so YAML from azureml-examples reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from mlyard.errors import InvalidArgument

# Azure ML asset names: start with a letter or digit, then letters, digits, '-', '_', '.'; ≤ 255.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,254}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_ALIAS = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")
_KEY = re.compile(r"^[A-Za-z0-9_.\-/ :]{1,250}$")

LATEST = "latest"


def validate_name(name: str, what: str = "name") -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidArgument(
            f"invalid {what} {name!r}: use letters, digits, '-', '_' or '.', starting with a "
            "letter or digit (at most 255 characters)"
        )
    return name


def validate_version(version: str, what: str = "version") -> str:
    if not isinstance(version, str) or not _VERSION.match(version):
        raise InvalidArgument(
            f"invalid {what} {version!r}: use letters, digits, '-', '_' or '.' (at most 64)"
        )
    return version


def validate_alias(alias: str) -> str:
    if not isinstance(alias, str) or not _ALIAS.match(alias) or alias == LATEST:
        raise InvalidArgument(
            f"invalid alias {alias!r}: start with a letter, then letters, digits, '-' or '_'; "
            "'latest' is reserved"
        )
    return alias


@lru_cache(maxsize=4096)
def validate_key(key: str, what: str) -> str:
    """Keys of params, metrics and tags: short, printable, no quotes (they appear in filters).

    Cached: a training loop logs the same few keys thousands of times."""
    if not isinstance(key, str) or not _KEY.match(key):
        raise InvalidArgument(
            f"invalid {what} key {key!r}: use 1-250 letters, digits, '_', '-', '.', '/', ' ' or ':'"
        )
    return key


@dataclass(frozen=True)
class AssetRef:
    """A parsed reference: exactly one of `version` or `alias` is set (`latest` is an alias)."""

    name: str
    version: str | None = None
    alias: str | None = None

    def __str__(self) -> str:
        return f"{self.name}:{self.version}" if self.version else f"{self.name}@{self.alias}"


def parse_ref(ref: str, default_alias: str | None = LATEST) -> AssetRef:
    """Parse `name:version`, `name@alias` or a bare `name` (→ `default_alias`)."""
    if not isinstance(ref, str) or not ref.strip():
        raise InvalidArgument("empty reference: expected 'name:version' or 'name@alias'")
    text = ref.strip()
    if text.startswith("azureml:"):
        text = text[len("azureml:") :]
    if "@" in text:
        name, _, alias = text.partition("@")
        validate_name(name)
        if alias != LATEST:
            validate_alias(alias)
        return AssetRef(name=name, alias=alias)
    if ":" in text:
        name, _, version = text.partition(":")
        return AssetRef(name=validate_name(name), version=validate_version(version))
    if default_alias is None:
        raise InvalidArgument(f"reference {ref!r} needs a version or alias: 'name:1' or 'name@latest'")
    return AssetRef(name=validate_name(text), alias=default_alias)
