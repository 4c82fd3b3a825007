"""`client.maturity` over a team server: the CI files read here, the workspace judged there."""

from __future__ import annotations

from mlyard.client.maturity import MaturityOperations
from mlyard.client.remote.session import RemoteSession
from mlyard.entities.governance.maturity import CiEvidence, MaturityReport


class RemoteMaturityOperations(MaturityOperations):
    def __init__(self, session: RemoteSession) -> None:
        self._session = session

    def _assess(self, ci: CiEvidence) -> MaturityReport:
        return MaturityReport.model_validate(self._session.post_json("maturity", ci.model_dump(mode="json")))
