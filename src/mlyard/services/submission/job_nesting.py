"""Jobs submitted from inside jobs: each records who submitted it and how deep it is nested.

A job's process may submit jobs of its own (`MLYARD_JOB_ID` names the submitter). A script that
submits itself — a module-level submit imported again by every step, a command that re-runs its
own YAML — would do so without end; the workspace setting `max_job_nesting_depth` bounds it:
a top-level job has depth 0, one submitted from inside a job of depth d has depth d + 1, and
a submission deeper than the setting is refused before anything is recorded.

The depth of a pipeline step, sweep trial or parallel mini-batch is its parent job's: those are
the parent's own structure, not submissions.
"""

from __future__ import annotations

from mlyard.errors import Conflict, NotFound
from mlyard.services.tracking.jobs import get_job
from mlyard.services.workspaces.settings import get_settings
from mlyard.services.workspaces.workspace import Workspace

SUBMITTED_BY_TAG = "mlyard.submitted_by"
NESTING_DEPTH_TAG = "mlyard.nesting_depth"


def nesting_tags(workspace: Workspace, submitted_from: str | None) -> dict[str, str]:
    """The tags a job submitted from inside job `submitted_from` carries (none for a top-level
    job); `Conflict` when it would be nested deeper than the workspace allows."""
    if not submitted_from:
        return {}
    depth = nesting_depth(workspace, submitted_from) + 1
    limit = get_settings(workspace).max_job_nesting_depth
    if depth > limit:
        raise Conflict(
            f"job not submitted: it would be nested {depth} deep (submitted from inside job "
            f"{submitted_from}, itself nested {depth - 1} deep), over the workspace's "
            f"max_job_nesting_depth of {limit}. A script that submits a job at import or at every "
            'run submits without end: submit only under `if __name__ == "__main__":`; to allow '
            "deeper nesting: mlyard workspace settings set max_job_nesting_depth=N"
        )
    return {SUBMITTED_BY_TAG: submitted_from, NESTING_DEPTH_TAG: str(depth)}


def nesting_depth(workspace: Workspace, job_id: str) -> int:
    """How deep job `job_id` is nested: 0 for a job submitted from outside any job (or from a
    job of another workspace, which this one cannot see)."""
    seen: set[str] = set()
    current: str | None = job_id
    while current is not None and current not in seen:
        seen.add(current)
        try:
            job = get_job(workspace, current)
        except NotFound:
            return 0
        recorded = job.tags.get(NESTING_DEPTH_TAG, "")
        if recorded.isdigit():
            return int(recorded)
        current = job.parent_job_id  # a step or trial: as deep as its parent
    return 0
