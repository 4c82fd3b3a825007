"""`mlyard maturity` through a server: the client sends what its repository's CI files run (it has
the repository; the server does not), the server judges them with the workspace's evidence."""

from __future__ import annotations

from fastapi import APIRouter

from mlyard.entities.governance.maturity import CiEvidence, MaturityReport
from mlyard.server.auth import ReaderWorkspace
from mlyard.services.assessment.maturity import assess_workspace

router = APIRouter(prefix="/api/v1/workspaces/{ws}", tags=["maturity"])


@router.post("/maturity", response_model=MaturityReport)
def assess_maturity(workspace: ReaderWorkspace, body: CiEvidence | None = None) -> MaturityReport:
    """The workspace against the MLOps maturity model (a reader may ask: it changes nothing);
    `body`: the CI files of the caller's repository, if any."""
    return assess_workspace(workspace, body)
