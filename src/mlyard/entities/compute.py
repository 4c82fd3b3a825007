"""Compute targets: where a job's processes run (`local`, or a Ray cluster)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

ComputeType = Literal["local", "ray"]


class Compute(BaseModel):
    name: str
    type: ComputeType
    address: str | None = None  # ray: `auto`, `ray://host:10001`, or None for a local Ray instance
    description: str | None = None
    properties: dict[str, str] = Field(default_factory=dict)
    created_at: datetime | None = None
