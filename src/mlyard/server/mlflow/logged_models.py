"""MLflow 3 logged models: create, get, finalize, tags, params, search.

`mlflow.<flavor>.log_model` creates one (pending), uploads its files through the artifact routes
to `mlflow-artifacts:/<experiment id>/models/<model id>/artifacts`, then finalizes it ready.
The 3.x client has no fallback when these routes are missing: it fails the run.
"""

from __future__ import annotations

from typing import Any

from fastapi import Response
from fastapi.responses import JSONResponse

from mlyard.entities.jobs.search import Term, parse_terms
from mlyard.entities.registry.logged_model import LoggedModel
from mlyard.errors import InvalidArgument
from mlyard.server.mlflow.convert import LOGGED_MODEL_STATUS_FROM, logged_model_json
from mlyard.server.mlflow.experiments import existing_numbers, experiment_number, mlflow_ids_of
from mlyard.server.mlflow.routing import API_PREFIX, Contributor, Reader, empty, mlflow_router, ok
from mlyard.server.mlflow.schemas import (
    CreateLoggedModel,
    FinalizeLoggedModel,
    KeyValue,
    LoggedModelParams,
    LoggedModelTags,
    SearchLoggedModels,
)
from mlyard.server.mlflow.search import next_token, one_more, page_offset
from mlyard.services.model_registry import logged_models
from mlyard.services.workspaces.workspace import Workspace

router = mlflow_router(API_PREFIX + "/logged-models", "mlflow logged models")


def _models_json(workspace: Workspace, found: list[LoggedModel]) -> list[dict[str, Any]]:
    ids = mlflow_ids_of(workspace, {model.experiment_id for model in found})
    return [logged_model_json(model, ids[model.experiment_id]) for model in found]


def _one(workspace: Workspace, model: LoggedModel) -> JSONResponse:
    return ok({"model": _models_json(workspace, [model])[0]})


def _pairs(pairs: list[KeyValue]) -> dict[str, Any]:
    return {pair.key: pair.value for pair in pairs}


@router.post("")
def create_logged_model(workspace: Contributor, body: CreateLoggedModel) -> JSONResponse:
    model = logged_models.create_logged_model(
        workspace, experiment_number(workspace, body.experiment_id), body.name, body.source_run_id,
        body.model_type, _pairs(body.params), _pairs(body.tags),
    )  # fmt: skip
    return _one(workspace, model)


@router.post("/search")
def search_logged_models(workspace: Reader, body: SearchLoggedModels) -> JSONResponse:
    """By experiment, and `name`, `source_run_id`, `status`, `model_type` with = or != (joined by AND)."""
    equal, not_equal = _filters(parse_terms(body.filter))
    numbers = existing_numbers(workspace, body.experiment_ids)
    if body.experiment_ids and not numbers:
        return ok({"models": []})
    offset, cap = page_offset(body.page_token), logged_models.MAX_SEARCH_RESULTS
    found = logged_models.search_logged_models(
        workspace, numbers, equal, not_equal, one_more(body.max_results, cap), offset
    )
    answer: dict[str, Any] = {"models": _models_json(workspace, found[: body.max_results])}
    token = next_token(len(found), body.max_results, offset, cap)
    if token:
        answer["next_page_token"] = token
    return ok(answer)


def _filters(terms: list[Term]) -> tuple[dict[str, str], dict[str, str]]:
    equal: dict[str, str] = {}
    not_equal: dict[str, str] = {}
    for term in terms:
        if (
            term.kind not in (None, "attributes")
            or term.op not in ("=", "!=")
            or not isinstance(term.value, str)
        ):
            raise InvalidArgument(
                f"logged models are filtered by {', '.join(logged_models.SEARCHABLE)} with = or != and a "
                f"quoted value, e.g. name = 'model'; not by {term.kind or 'attributes'}.{term.key} {term.op}"
            )
        value = term.value
        if term.key == "status":
            if value not in LOGGED_MODEL_STATUS_FROM:
                raise InvalidArgument(
                    f"unknown logged model status {value!r}; use {', '.join(LOGGED_MODEL_STATUS_FROM)}"
                )
            value = LOGGED_MODEL_STATUS_FROM[value].value
        (equal if term.op == "=" else not_equal)[term.key] = value
    return equal, not_equal


@router.get("/{model_id}")
def get_logged_model(workspace: Reader, model_id: str) -> JSONResponse:
    return _one(workspace, logged_models.get_logged_model(workspace, model_id))


@router.patch("/{model_id}")
def finalize_logged_model(workspace: Contributor, model_id: str, body: FinalizeLoggedModel) -> JSONResponse:
    status = LOGGED_MODEL_STATUS_FROM[body.status]
    return _one(workspace, logged_models.finalize_logged_model(workspace, model_id, status))


@router.patch("/{model_id}/tags")
def set_logged_model_tags(workspace: Contributor, model_id: str, body: LoggedModelTags) -> Response:
    logged_models.set_logged_model_tags(workspace, model_id, _pairs(body.tags))
    return empty()


@router.delete("/{model_id}/tags/{tag_key:path}")
def delete_logged_model_tag(workspace: Contributor, model_id: str, tag_key: str) -> Response:
    logged_models.delete_logged_model_tag(workspace, model_id, tag_key)
    return empty()


@router.post("/{model_id}/params")
def log_logged_model_params(workspace: Contributor, model_id: str, body: LoggedModelParams) -> Response:
    logged_models.log_logged_model_params(workspace, model_id, _pairs(body.params))
    return empty()
