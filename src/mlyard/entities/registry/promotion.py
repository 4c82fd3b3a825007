"""A promotion request: asking that a protected model alias move to a version, and its decision."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel


class PromotionState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELED = "canceled"


class PromotionRequest(BaseModel):
    id: str
    model_name: str
    version: str
    alias: str
    state: PromotionState
    reason: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_comment: str | None = None
    previous_version: str | None = None  # what the alias pointed at when it was approved

    @property
    def target(self) -> str:
        return f"{self.model_name}:{self.version} → @{self.alias}"
