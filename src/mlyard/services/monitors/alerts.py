"""SHIM, to be replaced by branch monitor-alerts' `services/monitors/alerts.py` at merge: the same
entry point (`apply_verdicts`) with the agreed signature, doing nothing but say what breached, so
the monitor job can call it before that branch lands. Not for main."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mlyard.entities.monitor import Verdict
from mlyard.services.workspaces.workspace import Workspace


@dataclass(frozen=True)
class AlertOutcome:
    newly_breached: tuple[str, ...] = ()

    @property
    def breached(self) -> bool:
        return bool(self.newly_breached)


def apply_verdicts(
    workspace: Workspace,
    *,
    monitor_name: str,
    job_id: str,
    verdicts: Sequence[Verdict],
    emails: Sequence[str],
    webhooks: Sequence[str] = (),
    model: str | None = None,
) -> AlertOutcome:
    return AlertOutcome(tuple(sorted({v.signal for v in verdicts if v.breached})))
