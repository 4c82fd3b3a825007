"""`client.maturity`: how mature the workspace's MLOps is (services/assessment/maturity.py).

The repository's CI files are read here, where the repository is; the workspace is judged where
it is — in this process, or by the team server, which receives what the CI files run.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path

from mlyard.entities.governance.maturity import CiEvidence, MaturityReport
from mlyard.services.assessment.ci_files import scan_repository
from mlyard.services.assessment.maturity import assess_workspace
from mlyard.services.workspaces.workspace import Workspace


class MaturityOperations(ABC):
    def assess(self, repo: str | os.PathLike[str] | None = None) -> MaturityReport:
        """The workspace against the MLOps maturity model: its level, every criterion met or not
        with its evidence, and a next step for each unmet one. `repo`: a repository whose CI files
        (`.github/workflows`, `.azure-pipelines`, `azure-pipelines.yml`) count too."""
        return self._assess(scan_repository(Path(repo)) if repo is not None else CiEvidence())

    @abstractmethod
    def _assess(self, ci: CiEvidence) -> MaturityReport: ...


class LocalMaturityOperations(MaturityOperations):
    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    def _assess(self, ci: CiEvidence) -> MaturityReport:
        return assess_workspace(self._workspace, ci)
