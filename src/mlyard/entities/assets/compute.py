"""Compute targets: where a job's processes run (`local`, a Ray cluster, or `docker`: local
processes in their environment's container, with docker or podman)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

ComputeType = Literal["local", "ray", "docker"]


class Compute(BaseModel):
    name: str
    type: ComputeType
    # ray: `auto`, `ray://host:10001`, or None for a local Ray instance; docker: the container
    # runtime (`docker`, `podman` or a path), or None for the first of them installed
    address: str | None = None
    description: str | None = None
    properties: dict[str, str] = Field(default_factory=dict)
    created_at: datetime | None = None
