"""MLflow experiments: get-by-name (404 when absent, as `set_experiment` expects), create, get, search.

Experiment ids are mlyard's integer ids as text, except `Default`, which MLflow clients know as
"0": it answers to "0" even before its first run created it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from fastapi.responses import JSONResponse

from mlyard.entities.jobs.experiment import Experiment
from mlyard.entities.jobs.search import Clause, parse_terms
from mlyard.errors import AlreadyExists, InvalidArgument, NotFound
from mlyard.server.mlflow.convert import DEFAULT_EXPERIMENT_ID, experiment_id, experiment_json
from mlyard.server.mlflow.routing import API_PREFIX, Contributor, Reader, mlflow_router, ok
from mlyard.server.mlflow.schemas import CreateExperiment, SearchExperiments
from mlyard.server.mlflow.search import next_token, one_more, page_offset
from mlyard.services.tracking import experiments
from mlyard.services.tracking.jobs import DEFAULT_EXPERIMENT
from mlyard.services.workspaces.workspace import Workspace

router = mlflow_router(API_PREFIX + "/experiments", "mlflow experiments")


def experiment_name(workspace: Workspace, ident: str) -> str:
    """The name of the experiment an MLflow id names; 400 for a non-integer, 404 for an unknown id."""
    if ident == DEFAULT_EXPERIMENT_ID:
        return DEFAULT_EXPERIMENT
    return experiments.get_experiment(workspace, _as_int(ident)).name


def experiment_names(workspace: Workspace, idents: list[str]) -> list[str]:
    """Names of the experiments among MLflow ids (unknown ids match no run, as in MLflow)."""
    wanted = {_as_int(ident) for ident in idents if ident != DEFAULT_EXPERIMENT_ID}
    names = list(experiments.names_by_id(workspace, wanted).values())
    return names + [DEFAULT_EXPERIMENT] * (DEFAULT_EXPERIMENT_ID in idents)


def mlflow_ids(workspace: Workspace, names: set[str]) -> dict[str, str]:
    """experiment name → MLflow experiment id."""
    ids = {name: str(ident) for name, ident in experiments.ids_by_name(workspace, names).items()}
    return {**ids, DEFAULT_EXPERIMENT: DEFAULT_EXPERIMENT_ID}


def experiment_number(workspace: Workspace, ident: str) -> int:
    """mlyard's id of the experiment an MLflow id names; "0" creates `Default` if it must."""
    if ident != DEFAULT_EXPERIMENT_ID:
        return experiments.get_experiment(workspace, _as_int(ident)).id
    found = experiments.find_experiment(workspace, DEFAULT_EXPERIMENT)
    if found is None:
        try:
            found = experiments.create_experiment(workspace, DEFAULT_EXPERIMENT)
        except AlreadyExists:  # created meanwhile by another request
            found = experiments.find_experiment(workspace, DEFAULT_EXPERIMENT)
    assert found is not None
    return found.id


def existing_numbers(workspace: Workspace, idents: list[str]) -> list[int]:
    """mlyard's ids of the experiments among MLflow ids, for reads (an unknown id matches nothing)."""
    numbers = [_as_int(ident) for ident in idents if ident != DEFAULT_EXPERIMENT_ID]
    default = (
        experiments.find_experiment(workspace, DEFAULT_EXPERIMENT)
        if DEFAULT_EXPERIMENT_ID in idents
        else None
    )
    return numbers + ([default.id] if default else [])


def mlflow_ids_of(workspace: Workspace, numbers: set[int]) -> dict[int, str]:
    """mlyard experiment id → MLflow experiment id."""
    names = experiments.names_by_id(workspace, numbers)
    return {number: DEFAULT_EXPERIMENT_ID if names.get(number) == DEFAULT_EXPERIMENT else str(number)
            for number in numbers}  # fmt: skip


def _as_int(ident: str) -> int:
    try:
        return int(ident)
    except ValueError:
        raise InvalidArgument(f"experiment_id must be an integer, got {ident!r}") from None


def _find(workspace: Workspace, ident: str) -> Experiment | None:
    if ident == DEFAULT_EXPERIMENT_ID:
        return experiments.find_experiment(workspace, DEFAULT_EXPERIMENT)
    return experiments.get_experiment(workspace, _as_int(ident))


@router.get("/get-by-name")
def get_experiment_by_name(
    workspace: Reader, experiment_name: Annotated[str, Query(min_length=1)]
) -> JSONResponse:
    found = experiments.find_experiment(workspace, experiment_name)
    if found is None and experiment_name != DEFAULT_EXPERIMENT:
        raise NotFound(f"experiment {experiment_name!r} does not exist")
    return ok({"experiment": experiment_json(found)})


@router.get("/get")
def get_experiment(workspace: Reader, experiment_id: Annotated[str, Query(min_length=1)]) -> JSONResponse:
    return ok({"experiment": experiment_json(_find(workspace, experiment_id))})


@router.post("/create")
def create_experiment(workspace: Contributor, body: CreateExperiment) -> JSONResponse:
    """A new experiment; its artifacts live with its runs' (`artifact_location` is not honoured)."""
    created = experiments.create_experiment(workspace, body.name)
    return ok({"experiment_id": experiment_id(created)})


@router.post("/search")
def search_experiments(workspace: Reader, body: SearchExperiments) -> JSONResponse:
    """Experiments by name (`name = 'x'`, `name LIKE 'diab%'`), newest first, a page at a time."""
    clauses = [
        Clause(kind=term.kind or "attributes", key=term.key, op=term.op, value=term.value)
        for term in parse_terms(body.filter)
    ]
    offset, cap = page_offset(body.page_token), experiments.MAX_SEARCH_RESULTS
    found = experiments.search_experiments(workspace, clauses, one_more(body.max_results, cap), offset)
    answer: dict[str, object] = {"experiments": [experiment_json(e) for e in found[: body.max_results]]}
    token = next_token(len(found), body.max_results, offset, cap)
    if token:
        answer["next_page_token"] = token
    return ok(answer)
