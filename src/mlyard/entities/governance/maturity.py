"""`mlyard maturity`'s records: what a repository's CI files show, and the assessment itself.

The levels and criteria are Microsoft's MLOps maturity model (services/assessment/maturity.py
quotes them); these types only carry the answer between the rule, the REST API and the SDK.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

LEVEL_NAMES: dict[int, str] = {
    0: "No MLOps",
    1: "DevOps but no MLOps",
    2: "Automated training",
    3: "Automated model deployment",
    4: "Full MLOps automated operations",
}
AREAS = ("People", "Model creation", "Model release", "Application integration")


class CiFile(BaseModel):
    """One CI definition of a repository and the commands its steps run."""

    path: str  # relative to the repository
    system: str  # github | azure
    # "mlyard <noun> <verb>" (or "mlyard validate"), in the order first seen, and "tests" for a
    # test runner (pytest, make test): what the assessment reads, not the whole file.
    commands: list[str] = Field(default_factory=list)


class CiEvidence(BaseModel):
    """What `--repo` holds: read by the client where the repository is, judged by the rule where
    the workspace is (a team server when remote)."""

    repo: str | None = None
    version_controlled: bool = False  # a .git folder or file at its root
    files: list[CiFile] = Field(default_factory=list)


class MaturityCriterion(BaseModel):
    id: str  # stable, for scripts: e.g. "automated_training"
    level: int
    area: str
    criterion: str  # the model's wording, and what mlyard checks for it
    met: bool
    evidence: str  # counts, names, ids: what was found (or that nothing was)
    next: str | None = None  # a concrete step when not met


class MaturityReport(BaseModel):
    level: int  # the highest level whose criteria, and all lower levels' criteria, are met
    level_name: str
    criteria: list[MaturityCriterion]
    repo: str | None = None
    ci_files: list[str] = Field(default_factory=list)
