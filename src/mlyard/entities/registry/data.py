"""Data assets: versioned, immutable files, folders and tables."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AliasChoices, BaseModel, Field


class DataType(StrEnum):
    URI_FILE = "uri_file"
    URI_FOLDER = "uri_folder"
    MLTABLE = "mltable"


class ColumnProfile(BaseModel):
    """Summary of one column of a tabular asset; numeric fields are None for other kinds."""

    name: str
    type: str
    null_count: int
    distinct_count: int
    min: float | str | None = None
    max: float | str | None = None
    mean: float | None = None
    top_values: list[tuple[str, int]] = Field(default_factory=list)
    # Numeric columns: counts of `histogram_edges`' equal-width bins (one edge more than counts).
    histogram_edges: list[float] = Field(default_factory=list)
    histogram_counts: list[int] = Field(default_factory=list)


class TableProfile(BaseModel):
    row_count: int
    schema_: dict[str, str] = Field(alias="schema", serialization_alias="schema")
    columns: list[ColumnProfile]

    model_config = {"populate_by_name": True}


class DataAsset(BaseModel):
    name: str
    version: str
    type: DataType
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    content_hash: str
    size_bytes: int
    file_count: int
    row_count: int | None = None
    data_schema: dict[str, str] | None = Field(
        default=None, serialization_alias="schema", validation_alias=AliasChoices("data_schema", "schema")
    )
    profile: list[ColumnProfile] | None = None
    artifact_path: str
    source_path: str | None = None
    created_at: datetime
    created_by: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"

    def summary(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"profile"}, by_alias=True)
