"""Deleting a job for good, as MLflow's `gc` does for deleted runs: its rows (params, tags, metric
points, lineage edges, outputs, logged models) and its files (`jobs/<id>/`, logged models' folders).

Rules that live here (the CLI, the REST API and the studio all call `delete_job_permanently`):
- admins only: the actor's role is checked here, so no caller can skip it;
- a job goes with the jobs below it (a pipeline's steps, a sweep's trials), all of them ended
  (Completed, Failed or Canceled): a running job is canceled first;
- refused, with nothing removed, while something else still needs it: a model version it produced
  (the registry keeps every version's lineage, as Azure ML keeps archived versions), or files under its
  folder that another job reused or a data asset or model version was registered from;
- the rows go in one transaction with the audit record; the files after it commits (a file left
  behind by a crash is unreachable, never a row pointing at missing files).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from mlyard.entities.governance.access import Role
from mlyard.errors import Conflict, NotFound, PermissionDenied
from mlyard.services.workspaces import audit
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import job_deletion as rows
from mlyard.store.job_runs import is_terminal

SHOWN = 5  # blockers named in a refusal


@dataclass(frozen=True)
class DeletedJobs:
    """What a permanent delete removed: the job and the jobs below it, parents first."""

    job_id: str
    job_ids: list[str]


def delete_job_permanently(workspace: Workspace, job_id: str) -> DeletedJobs:
    actor = audit.current_actor()
    if not actor.role.allows(Role.ADMIN):
        raise PermissionDenied(
            f"{actor.name} has role {actor.role.value}; deleting job {job_id} for good needs admin"
        )

    def work(session: Session) -> tuple[list[str], list[str]]:
        found = rows.job_and_descendants(session, job_id)
        if not found:
            raise NotFound(f"job {job_id!r} does not exist; list jobs with: mlyard job list")
        running = [f"{job} ({status})" for job, status in found if not is_terminal(status)]
        if running:
            raise Conflict(
                f"job {job_id} cannot be deleted while {_listed(running)} has not ended; "
                f"cancel it first: mlyard job cancel {job_id}"
            )
        ids = [job for job, _ in found]
        _refuse_when_needed(session, job_id, ids)
        logged = rows.delete_job_rows(session, ids)
        below = f" and {len(ids) - 1} job(s) below it" if len(ids) > 1 else ""
        audit.record(session, "job.delete", "job", job_id, f"deleted job {job_id}{below} for good",
                     before={"jobs": ids, "logged_models": logged})  # fmt: skip
        return ids, logged

    ids, logged = workspace.database.write(work)
    # The folders' layouts are execution/job_runs.job_root and model_registry/logged_models'
    # logged_model_root, both above this package.
    for job in ids:
        workspace.artifacts.delete(f"jobs/{job}")
    for model_id in logged:
        workspace.artifacts.delete(f"logged-models/{model_id}")
    return DeletedJobs(job_id, ids)


def _refuse_when_needed(session: Session, job_id: str, ids: list[str]) -> None:
    versions = rows.versions_produced_by(session, ids)
    if versions:
        named = [f"{name}:{version} (from job {job})" for name, version, job in versions]
        raise Conflict(
            f"job {job_id} cannot be deleted: it produced model version(s) {_listed(named)}, "
            "whose lineage the registry keeps (archive the versions instead, and keep the job)"
        )
    used = rows.files_used_elsewhere(session, ids)
    if used:
        raise Conflict(f"job {job_id} cannot be deleted: its files are used by {_listed(used)}")


def _listed(items: list[str]) -> str:
    more = f" and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return ", ".join(items[:SHOWN]) + more
