"""Registered environments: versioned, immutable specs with what they resolve to locally."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from mlyard.entities.assets.environment_spec import EnvironmentSpec, ResolvedEnvironment


class Environment(BaseModel):
    """One version of an environment. `spec` is stored with its conda and requirements files read
    in, so it stands alone; `resolved` is what every job using this version builds."""

    name: str
    version: str
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    spec: EnvironmentSpec
    spec_hash: str
    resolved: ResolvedEnvironment
    created_at: datetime
    created_by: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "python_version": self.resolved.python_version,
            "requirements": list(self.resolved.requirements),
            "image": self.resolved.image,
            "spec_hash": self.spec_hash,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
        }
