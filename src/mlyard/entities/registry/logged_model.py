"""A logged model: model files a run logged through the MLflow 3 client, before or without registration.

Its files live in a folder of their own in the artifact store; registering it copies them into an
immutable model version (`services.logged_models.register_logged_model`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class LoggedModelStatus(StrEnum):
    PENDING = "pending"  # created, files being uploaded
    READY = "ready"  # every file uploaded; can be registered
    FAILED = "failed"  # the upload failed; cannot be registered


class LoggedModel(BaseModel):
    id: str
    experiment_id: int
    name: str
    source_run_id: str | None = None
    status: LoggedModelStatus
    model_type: str | None = None
    params: dict[str, str] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    artifact_path: str
    created_at: datetime
    updated_at: datetime
