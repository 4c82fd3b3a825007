"""Experiments by id and name: explicit creation, lookup and search (jobs create theirs on first use).

Rules that live here: experiment names follow the asset naming rule and are unique; experiments
are never renamed or deleted, so an id always names the same experiment.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from mlyard.entities.jobs.experiment import Experiment
from mlyard.entities.jobs.search import Clause
from mlyard.entities.specs.names import validate_name
from mlyard.errors import AlreadyExists, InvalidArgument, NotFound
from mlyard.services.workspaces import audit
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import experiments as rows

MAX_SEARCH_RESULTS = 50_000


def create_experiment(workspace: Workspace, name: str) -> Experiment:
    """A new, empty experiment; `AlreadyExists` when the name is taken."""
    validate_name(name, "experiment name")
    now = datetime.now(UTC)

    def work(session: Session) -> int:
        experiment_id = rows.insert(session, name, now)
        if experiment_id is None:
            raise AlreadyExists(f"experiment {name!r} already exists")
        audit.record(
            session, "experiment.create", "experiment", str(experiment_id), f"experiment {name} created"
        )
        return experiment_id

    return Experiment(id=workspace.database.write(work), name=name, created_at=now)


def get_experiment(workspace: Workspace, experiment_id: int) -> Experiment:
    with workspace.database.read() as session:
        found = rows.get(session, experiment_id)
    if found is None:
        raise NotFound(
            f"experiment {experiment_id} does not exist; list experiments with: mlyard job experiments"
        )
    return found


def find_experiment(workspace: Workspace, name: str) -> Experiment | None:
    """The experiment named `name`, or None."""
    with workspace.database.read() as session:
        return rows.find(session, name)


def experiment_of_job(workspace: Workspace, job_id: str) -> Experiment:
    """The experiment a job belongs to; `NotFound` when the job does not exist (one indexed lookup)."""
    with workspace.database.read() as session:
        found = rows.of_job(session, job_id)
    if found is None:
        raise NotFound(f"job {job_id!r} does not exist; list jobs with: mlyard job list")
    return found


def ids_by_name(workspace: Workspace, names: Iterable[str]) -> dict[str, int]:
    """name → id of the existing experiments among `names`."""
    with workspace.database.read() as session:
        return rows.by_names(session, set(names))


def names_by_id(workspace: Workspace, ids: Iterable[int]) -> dict[int, str]:
    """id → name of the existing experiments among `ids`."""
    with workspace.database.read() as session:
        return rows.by_ids(session, set(ids))


def search_experiments(
    workspace: Workspace, name_clauses: Sequence[Clause] = (), max_results: int = 1000, offset: int = 0
) -> list[Experiment]:
    """Experiments whose name matches every clause (`=`, `!=`, `LIKE`, `ILIKE`, `IN`), newest first."""
    for clause in name_clauses:
        if clause.kind != "attributes" or clause.key != "name" or clause.op in ("<", "<=", ">", ">="):
            raise InvalidArgument(
                f"experiments are searched by name only (=, !=, LIKE, ILIKE, IN), not by {clause.kind}."
                f"{clause.key} {clause.op}"
            )
    if not 0 < max_results <= MAX_SEARCH_RESULTS:
        raise InvalidArgument(f"max_results must be between 1 and {MAX_SEARCH_RESULTS}, got {max_results}")
    with workspace.database.read() as session:
        return rows.search(session, name_clauses, max_results, offset)
