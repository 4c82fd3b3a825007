"""A registered component version: its spec and where its stored code lives."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from mlyard.entities.assets.component_spec import CommandComponentSpec


class Component(BaseModel):
    name: str
    version: str
    spec: CommandComponentSpec
    spec_hash: str  # of the spec and the code's content: equal hashes are the same component
    code_path: str | None = None  # artifact folder, content-addressed by code_hash
    code_hash: str | None = None
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    created_at: datetime
    created_by: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"
