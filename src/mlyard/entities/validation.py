"""Validation reports: what `mlyard validate` found, one problem per kind and column, with row counts."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

ValidationKind = Literal["data", "training", "scoring"]
Severity = Literal["error", "warning"]


class ValidationProblem(BaseModel):
    """One thing wrong (or, as a warning, worth knowing): `check` names the rule that found it
    (`missing_column`, `type`, `range`, `null_rate`, …), `rows` how many rows it affects."""

    check: str
    message: str
    column: str | None = None
    rows: int | None = None
    severity: Severity = "error"


class ValidationReport(BaseModel):
    """Every problem one validation found; it passes when none of them is an error."""

    kind: ValidationKind
    target: str
    checked_rows: int | None = None
    problems: list[ValidationProblem] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)

    @property
    def errors(self) -> list[ValidationProblem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def passed(self) -> bool:
        return not self.errors

    def summary(self) -> dict[str, Any]:
        """The report as JSON for scripts, with `passed` spelled out."""
        return {"passed": self.passed, **self.model_dump(mode="json")}
