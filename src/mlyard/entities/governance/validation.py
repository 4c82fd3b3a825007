"""Validation reports: what `mlyard validate` found, one problem per kind and column, with row counts."""

from __future__ import annotations

from datetime import datetime
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


# Staging checks (`mlyard check …`, the built-in components): a release candidate proven against
# its staging endpoint and data. The kinds are the names the approval gate requires.
CheckKind = Literal["smoke", "performance", "data_quality", "responsible_ai"]
CHECK_KINDS: tuple[CheckKind, ...] = ("smoke", "performance", "data_quality", "responsible_ai")


class CheckReport(BaseModel):
    """What one staging check measured and found: it passes when no problem is an error.

    `metrics` are the measurements (latency percentiles, fairness differences, …), `thresholds`
    what they were held to, `model` the version checked (`name:version`) that the report is
    recorded against, so that an approval gate can find it."""

    kind: CheckKind
    target: str
    model: str | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)
    thresholds: dict[str, float] = Field(default_factory=dict)
    problems: list[ValidationProblem] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def summary(self) -> dict[str, Any]:
        """The report as JSON for scripts and the stored artifact, with `passed` spelled out."""
        return {"passed": self.passed, **self.model_dump(mode="json")}

    def text(self) -> str:
        """A short summary for people: the verdict, each measurement against its threshold, the problems."""
        verdict = "passed" if self.passed else "FAILED"
        of_model = f" (model {self.model})" if self.model else ""
        lines = [f"{self.kind} check of {self.target}{of_model}: {verdict}"]
        for name, value in self.metrics.items():
            limit = self.thresholds.get(name)
            shown = f"{value:.4g}" if isinstance(value, float) else str(value)
            lines.append(f"  {name}: {shown}" + (f" (at most {limit:g})" if limit is not None else ""))
        lines += [f"  {p.severity}: {p.message}" for p in self.problems]
        return "\n".join(lines) + "\n"


class CheckRecord(BaseModel):
    """A check report recorded against the model version it checked (what the approval gate reads)."""

    id: str
    kind: CheckKind
    model_name: str
    model_version: str
    passed: bool
    summary: str
    report: dict[str, Any] = Field(default_factory=dict)
    location: str | None = None  # the report file, or the job output holding it
    job_id: str | None = None
    created_at: datetime
    created_by: str | None = None
