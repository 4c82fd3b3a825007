"""`azureml://registries/<registry>/<kind>/<name>/versions/<v>` and `.../labels/<label>`, parsed.

Azure ML writes registry assets as `azureml://registries/<registry>/models/<name>/versions/<v>`
and `.../labels/latest`; mlyard's aliases (`@production`) are labels too: `.../labels/production`.
No version and no label means latest. `azureml` and `mlyard` are catalogs, not stores: references
into them are left to those catalogs (`is_store_ref` is False).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mlyard.entities.specs.names import LATEST, AssetRef
from mlyard.errors import InvalidArgument
from mlyard.services.registries.registries import RESERVED

PREFIX = "azureml://registries/"
KINDS = {"models": "model", "environments": "environment", "components": "component", "data": "data"}
_REF = re.compile(
    r"^azureml://registries/(?P<registry>[^/]+)/(?P<kind>[^/]+)/(?P<name>[^/]+)"
    r"(?:/versions/(?P<version>[^/]+)|/labels/(?P<label>[^/]+))?/?$"
)


@dataclass(frozen=True)
class RegistryRef:
    """One asset of a registry, by version or label (exactly one is set)."""

    registry: str
    kind: str  # models | environments | components | data
    name: str
    version: str | None = None
    label: str | None = None

    @property
    def asset_ref(self) -> AssetRef:
        return (
            AssetRef(self.name, version=self.version)
            if self.version
            else AssetRef(self.name, alias=self.label)
        )

    @property
    def what(self) -> str:
        return KINDS[self.kind]

    def pinned(self, version: str) -> RegistryRef:
        return RegistryRef(self.registry, self.kind, self.name, version=version)

    def __str__(self) -> str:
        tail = f"versions/{self.version}" if self.version else f"labels/{self.label}"
        return f"{PREFIX}{self.registry}/{self.kind}/{self.name}/{tail}"


def is_store_ref(text: object) -> bool:
    """True for a reference into a registry store (not Azure's or mlyard's own catalogs)."""
    if not isinstance(text, str) or not text.strip().startswith(PREFIX):
        return False
    registry = text.strip()[len(PREFIX) :].split("/", 1)[0]
    return registry.lower() not in RESERVED


def parse_registry_ref(text: str, kind: str | None = None) -> RegistryRef:
    """The parsed reference; InvalidArgument naming it when it is malformed or of another kind."""
    match = _REF.match(text.strip())
    kinds = kind or "<models|environments|components|data>"
    expected = f"{PREFIX}<registry>/{kinds}/<name>[/versions/<v> | /labels/<label>]"
    if match is None or match.group("kind") not in KINDS:
        raise InvalidArgument(f"{text!r} is not a registry reference; expected {expected}")
    if kind is not None and match.group("kind") != kind:
        raise InvalidArgument(
            f"{text!r} names {match.group('kind')}, but {kind} are expected here: {expected}"
        )
    version, label = match.group("version"), match.group("label")
    return RegistryRef(
        match.group("registry"), match.group("kind"), match.group("name"), version,
        None if version else (label or LATEST),
    )  # fmt: skip
