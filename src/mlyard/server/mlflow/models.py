"""The MLflow model registry over mlyard's: registered models, versions, download URIs, aliases.

`model-versions/create` copies the files behind its `source` into a new, immutable mlyard model
version of flavor `mlflow`, READY at once:
  models:/<model id>                                   a logged model (what `log_model` registers)
  runs:/<run id>/<path>                                an MLflow model folder the run logged
  mlflow-artifacts:/<experiment id>/<run id>/artifacts/<path>, …/models/<model id>/artifacts
Aliases move through `services.models.set_alias`, so a protected alias (`production`) is refused
to API callers: it moves only through an approved promotion.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Query, Response
from fastapi.responses import JSONResponse

from mlyard.entities.jobs.search import Term, parse_terms
from mlyard.entities.registry.model import Model, ModelVersion
from mlyard.entities.specs.names import AssetRef
from mlyard.errors import InvalidArgument
from mlyard.server.mlflow.convert import model_version_json, registered_model_json, version_download_uri
from mlyard.server.mlflow.routing import API_PREFIX, Contributor, Operator, Reader, empty, mlflow_router, ok
from mlyard.server.mlflow.schemas import (
    MAX_RESULTS,
    AliasRef,
    CreateModelVersion,
    CreateRegisteredModel,
    GetLatestVersions,
    SetAlias,
)
from mlyard.server.mlflow.search import matches, page_offset, page_token
from mlyard.services.model_registry import logged_models, models
from mlyard.services.tracking import jobs
from mlyard.services.workspaces.workspace import Workspace

router = mlflow_router(API_PREFIX, "mlflow registry")

_LOGGED_MODEL = re.compile(r"^models:/(m-[0-9a-f]{32})/?$")
_RUN_FOLDER = re.compile(r"^runs:/([^/]+)/?(.*)$")
_ARTIFACTS = re.compile(r"^mlflow-artifacts:/+([^/]+)/([^/]+)/artifacts/?(.*)$")
_LOGGED_ARTIFACTS = re.compile(r"^mlflow-artifacts:/+([^/]+)/models/(m-[0-9a-f]{32})/artifacts/?$")


def _version(workspace: Workspace, name: str, version: str) -> ModelVersion:
    return models.get_model_version(workspace, AssetRef(name, version=version))


def _registered(workspace: Workspace, model: Model) -> dict[str, Any]:
    latest = _version(workspace, model.name, model.latest_version) if model.latest_version else None
    return registered_model_json(model, latest)


# --- registered models -------------------------------------------------------------------------


@router.post("/registered-models/create")
def create_registered_model(workspace: Contributor, body: CreateRegisteredModel) -> JSONResponse:
    tags = {pair.key: str(pair.value) for pair in body.tags}
    model = models.create_model(workspace, body.name, body.description, tags)
    return ok({"registered_model": _registered(workspace, model)})


@router.get("/registered-models/get")
def get_registered_model(workspace: Reader, name: Annotated[str, Query(min_length=1)]) -> JSONResponse:
    return ok({"registered_model": _registered(workspace, models.get_model(workspace, name))})


@router.get("/registered-models/search")
def search_registered_models(
    workspace: Reader,
    filter: str | None = None,
    max_results: Annotated[int, Query(ge=1, le=MAX_RESULTS)] = 100,
    token: Annotated[str | None, Query(alias="page_token")] = None,
) -> JSONResponse:
    """Models by name and tags (`name LIKE 'churn%' AND tags.team = 'ml'`), in name order."""
    terms = _terms(filter, ("name",))
    found = [m for m in models.list_models(workspace) if _matches(terms, {"name": m.name}, m.tags)]
    page, more = _page(found, max_results, token)
    return ok({"registered_models": [_registered(workspace, m) for m in page], **more})


@router.post("/registered-models/get-latest-versions")
def get_latest_versions(workspace: Reader, body: GetLatestVersions) -> JSONResponse:
    """The newest version (stage "None": mlyard has no stages); none when only other stages are asked."""
    if body.stages and "none" not in {stage.lower() for stage in body.stages}:
        return ok({"model_versions": []})
    latest = models.get_model(workspace, body.name).latest_version
    found = [_version(workspace, body.name, latest)] if latest else []
    return ok({"model_versions": [model_version_json(v) for v in found]})


# --- versions ----------------------------------------------------------------------------------


@router.post("/model-versions/create")
def create_model_version(workspace: Contributor, body: CreateModelVersion) -> JSONResponse:
    tags = jobs.check_tags({pair.key: pair.value for pair in body.tags})
    source = body.source.strip()
    model_id, run_folder = _parse_source(source, body.model_id)
    if model_id is not None:
        version = logged_models.register_logged_model(
            workspace, model_id, body.name, tags, body.description, source
        )
    else:
        run_id, path = run_folder
        version = logged_models.register_job_artifacts(
            workspace, run_id, path, body.name, tags, body.description, source
        )
    return ok({"model_version": model_version_json(version)})


def _parse_source(source: str, model_id: str | None) -> tuple[str | None, tuple[str, str]]:
    """(logged model id, ("", "")) or (None, (run id, folder)) for a source the server can read."""
    if found := _LOGGED_MODEL.match(source) or _LOGGED_ARTIFACTS.match(source):
        return found[found.lastindex or 1], ("", "")
    if model_id and source.startswith("models:/"):
        return model_id, ("", "")
    if found := _RUN_FOLDER.match(source):
        return None, (found[1], found[2])
    if found := _ARTIFACTS.match(source):
        return None, (found[2], found[3])
    raise InvalidArgument(
        f"cannot register source {source!r}: the server reads models:/<model id>, runs:/<run id>/<path> "
        "or mlflow-artifacts:/… URIs; log the model to this server first (mlflow.<flavor>.log_model)"
    )


@router.get("/model-versions/get")
def get_model_version(
    workspace: Reader, name: Annotated[str, Query(min_length=1)], version: Annotated[str, Query(min_length=1)]
) -> JSONResponse:
    return ok({"model_version": model_version_json(_version(workspace, name, version))})


@router.get("/model-versions/get-download-uri")
def get_download_uri(
    workspace: Reader, name: Annotated[str, Query(min_length=1)], version: Annotated[str, Query(min_length=1)]
) -> JSONResponse:
    """Where the version's files are, for the client to list and fetch (MLflow-format folders only)."""
    found = _version(workspace, name, version)
    if found.flavor != "mlflow":
        raise InvalidArgument(
            f"model {found.ref} has flavor {found.flavor!r}, not an MLflow model folder: load it with "
            f"mlyard (client.models.load('{found.ref}')), or register an MLflow-format folder with "
            "--type mlflow_model"
        )
    return ok({"artifact_uri": version_download_uri(found)})


@router.get("/model-versions/search")
def search_model_versions(
    workspace: Reader,
    filter: str | None = None,
    max_results: Annotated[int, Query(ge=1, le=MAX_RESULTS)] = 1000,
    token: Annotated[str | None, Query(alias="page_token")] = None,
) -> JSONResponse:
    """Versions by `name`, `run_id` and tags (=, !=, LIKE, IN), newest first per model."""
    terms = _terms(filter, ("name", "run_id"))
    by_name = [t for t in terms if t.key == "name" and t.kind != "tags"]
    names = [m.name for m in models.list_models(workspace) if _matches(by_name, {"name": m.name}, {})]
    found = [
        version
        for name in names
        for version in models.list_model_versions(workspace, name, include_archived=True)
        if _matches(terms, {"name": version.name, "run_id": version.job_id}, version.tags)
    ]
    page, more = _page(found, max_results, token)
    return ok({"model_versions": [model_version_json(v) for v in page], **more})


# --- aliases -----------------------------------------------------------------------------------


@router.post("/registered-models/alias")
def set_alias(workspace: Operator, body: SetAlias) -> Response:
    models.set_alias(workspace, body.name, body.alias, body.version)
    return empty()


@router.delete("/registered-models/alias")
def delete_alias(
    workspace: Operator, body: AliasRef | None = None, name: str | None = None, alias: str | None = None
) -> Response:
    """The client sends the alias in a JSON body; query parameters work too."""
    name, alias = (body.name, body.alias) if body else (name, alias)
    if not name or not alias:
        raise InvalidArgument("deleting an alias needs 'name' and 'alias'")
    models.delete_alias(workspace, name, alias)
    return empty()


@router.get("/registered-models/alias")
def get_version_by_alias(
    workspace: Reader, name: Annotated[str, Query(min_length=1)], alias: Annotated[str, Query(min_length=1)]
) -> JSONResponse:
    return ok(
        {
            "model_version": model_version_json(
                models.get_model_version(workspace, AssetRef(name, alias=alias))
            )
        }
    )


# --- helpers -----------------------------------------------------------------------------------


def _terms(text: str | None, keys: tuple[str, ...]) -> list[Term]:
    """The clauses of a registry search: on `keys` or on tags, compared with text."""
    terms = parse_terms(text)
    for term in terms:
        known = term.kind == "tags" or (term.kind in (None, "attributes") and term.key in keys)
        if not known or isinstance(term.value, float):
            raise InvalidArgument(
                f"this search filters by {', '.join(keys)} or tags with a quoted value "
                f"(e.g. name = 'churn'), not by {term.kind + '.' if term.kind else ''}{term.key}"
            )
    return terms


def _matches(terms: list[Term], attributes: dict[str, str | None], tags: dict[str, str]) -> bool:
    return all(matches(t, tags.get(t.key) if t.kind == "tags" else attributes.get(t.key)) for t in terms)


def _page(items: list[Any], max_results: int, token: str | None) -> tuple[list[Any], dict[str, str]]:
    offset = page_offset(token)
    end = offset + max_results
    return items[offset:end], ({"next_page_token": page_token(end)} if end < len(items) else {})
