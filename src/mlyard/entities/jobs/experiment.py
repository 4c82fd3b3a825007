"""An experiment: the named group a job's runs belong to (created on first use)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class Experiment(BaseModel):
    id: int
    name: str
    created_at: datetime
