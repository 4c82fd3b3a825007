"""A monitor run is a job (`type: monitor`): listed, streamed, shown and retried like any other.

Its spec is a snapshot of the monitor as it was when the run was asked for, with `as_of`, the
moment its windows end: a retried run reads the same windows, and a run still reads after its
monitor is deleted. The runner (runtime/launch → `python -m mlyard.monitoring.monitor_run`) does
the work.
"""

from __future__ import annotations

from datetime import UTC, datetime

from mlyard.entities.automation.monitor import MONITOR_JOB_TYPE, MONITOR_TAG
from mlyard.entities.jobs.job import Job
from mlyard.services.monitors.monitors import get_monitor
from mlyard.services.submission.references import Submission, queue_submission
from mlyard.services.workspaces.workspace import Workspace


def submit_monitor_run(
    workspace: Workspace,
    name: str,
    dispatch: str | None = None,
    tags: dict[str, str] | None = None,
    as_of: datetime | None = None,
) -> Job:
    """Record a Queued monitor job for monitor `name` (a runner or the server's orchestrator runs it)."""
    monitor = get_monitor(workspace, name)
    as_of = as_of or datetime.now(UTC)
    spec = {
        "type": MONITOR_JOB_TYPE,
        "monitor": monitor.name,
        "as_of": as_of.isoformat(),
        "lookback": monitor.lookback,
        "target": {"kind": monitor.target_kind, "endpoint": monitor.endpoint,
                   "deployment": monitor.deployment, "model": monitor.model},
        "create_monitor": monitor.spec,
    }  # fmt: skip
    display = f"{monitor.name}-{as_of.strftime('%Y%m%d%H%M%S')}"
    submission = Submission(
        MONITOR_JOB_TYPE, spec, monitor.name, display, {**(tags or {}), MONITOR_TAG: monitor.name}
    )
    return queue_submission(workspace, submission, dispatch=dispatch)
