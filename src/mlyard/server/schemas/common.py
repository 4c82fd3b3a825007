"""Shared parts of the REST API's bodies: the strict request base, scalar values, errors, health."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    WithJsonSchema,
    model_validator,
)

_JSON_TYPES = {dict: "an object", list: "an array", type(None): "null"}


def _scalar(value: Any) -> str | int | float | bool:
    # One validator, not a union of four: a wrong value gets one error, not one per member.
    if isinstance(value, str | int | float):  # bool is an int
        return value
    raise ValueError(f"expected a string, number or boolean, got {_JSON_TYPES.get(type(value), repr(value))}")


# Param and tag values are stored as text; numbers and booleans are accepted and written as text.
Scalar = Annotated[
    str | int | float | bool,
    PlainValidator(_scalar),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}),
]
INT64 = 2**63  # steps and timestamps are 64-bit integer columns


class Request(BaseModel):
    """Base of every request body: unknown fields and NUL characters are refused."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul_characters(cls, data: Any) -> Any:
        # PostgreSQL text cannot hold NUL: refuse it here, by field, rather than fail in the database.
        where = _find_nul_character(data)
        if where is not None:
            raise ValueError(
                f"text must not contain NUL characters (\\u0000){f' (at {where})' if where else ''}"
            )
        return data


def _find_nul_character(value: Any, path: str = "") -> str | None:
    """The path of the first string (or key) in `value` holding a NUL character, else None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            found = _find_nul_character(key, inner) or _find_nul_character(item, inner)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _find_nul_character(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


class ErrorBody(BaseModel):
    """Every error response: a stable code (as in `mlyard.errors`) and a message for people."""

    error_code: str
    message: str


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    workspaces: dict[str, str] = Field(description="workspace name → 'ok' or why its database is unusable")


class WorkspaceSummary(BaseModel):
    name: str


class WorkspaceList(BaseModel):
    value: list[WorkspaceSummary]


class WorkspaceInfo(BaseModel):
    name: str
    path: str
    database: str = Field(description="database URL, password hidden")
    artifacts: str
    created_at: str
    schema_revision: str | None = None
    schema_head: str | None = None
    experiments: int = 0
    jobs: int = 0
    data_asset_versions: int = 0
    models: int = 0
    model_versions: int = 0
