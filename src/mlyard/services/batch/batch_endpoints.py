"""Batch endpoints and their deployments: create, update, delete, the default deployment.

Rules that live here: a deployment belongs to an existing endpoint; its model is pinned to a
version when it is created (`@latest` becomes the version it was then), its code is stored
(content-addressed) and its environment resolved, so a job it runs later scores with exactly
that; the first deployment of an endpoint becomes its default; the default cannot be deleted
while other deployments remain; deleting an endpoint deletes its deployments (its jobs stay).
Every change is in the audit trail, written in the change's transaction.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mlyard.entities.endpoints.batch_endpoint import (
    SETTING_FIELDS,
    BatchDeployment,
    BatchDeploymentSpec,
    BatchEndpoint,
    BatchEndpointSpec,
    BatchResources,
    BatchSettings,
)
from mlyard.entities.specs.names import validate_name
from mlyard.entities.specs.overrides import apply_override
from mlyard.entities.specs.spec_files import validate_spec
from mlyard.entities.specs.spec_values import TextMap
from mlyard.errors import AlreadyExists, Conflict, InvalidArgument, InvalidSpec, MlyardError, NotFound
from mlyard.services.assets.code_snapshots import resolve_code, store_code
from mlyard.services.assets.computes import check_compute
from mlyard.services.registries.resolution import find_model
from mlyard.services.submission.references import resolve_environment
from mlyard.services.workspaces import audit
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import batch_endpoints as rows
from mlyard.store.tables import BatchDeploymentRow, BatchEndpointRow

_DEPLOYMENT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")
NO_CODE_FLAVORS = ("sklearn", "pytorch", "onnx", "mlflow")  # flavors `serving.scorers` scores without code


def _missing_endpoint(name: str) -> NotFound:
    return NotFound(
        f"batch endpoint {name!r} does not exist; create it with: mlyard batch-endpoint create --name {name}"
    )


def _missing_deployment(endpoint: str, name: str, known: list[str]) -> NotFound:
    listed = ", ".join(known) or "none yet"
    return NotFound(f"batch endpoint {endpoint!r} has no deployment {name!r} (deployments: {listed})")


# --- endpoints -----------------------------------------------------------------------------------


def create_endpoint(workspace: Workspace, spec: BatchEndpointSpec) -> BatchEndpoint:
    validate_name(spec.name, "batch endpoint name")
    if spec.defaults.deployment_name:
        raise InvalidArgument(
            f"defaults.deployment_name: endpoint {spec.name} has no deployments yet; create one with "
            "mlyard batch-deployment create --file … (the first becomes the default)"
        )
    now = datetime.now(UTC)

    def work(session: Session) -> BatchEndpoint:
        if rows.endpoint_row(session, spec.name) is not None:
            raise AlreadyExists(f"batch endpoint {spec.name!r} already exists")
        row = BatchEndpointRow(
            name=spec.name, description=spec.description, default_deployment=None, tags=dict(spec.tags),
            created_at=now, updated_at=now, created_by=audit.current_actor().name,
        )  # fmt: skip
        session.add(row)
        session.flush()
        audit.record(session, "batch_endpoint.create", "batch_endpoint", spec.name,
                     f"batch endpoint {spec.name} created")  # fmt: skip
        return rows.endpoint_entity(session, row)

    try:
        return workspace.database.write(work)
    except IntegrityError:
        raise AlreadyExists(f"batch endpoint {spec.name!r} already exists") from None


def get_endpoint(workspace: Workspace, name: str) -> BatchEndpoint:
    with workspace.database.read() as session:
        row = rows.endpoint_row(session, name)
        if row is None:
            raise _missing_endpoint(name)
        return rows.endpoint_entity(session, row)


def list_endpoints(workspace: Workspace) -> list[BatchEndpoint]:
    with workspace.database.read() as session:
        return [rows.endpoint_entity(session, row) for row in rows.endpoint_rows(session)]


def update_endpoint(workspace: Workspace, name: str, changes: dict[str, str]) -> BatchEndpoint:
    """Azure's `--set` pairs: `defaults.deployment_name=X`, `description=…`, `tags.k=v`."""

    def work(session: Session) -> BatchEndpoint:
        row = _endpoint_for_update(session, name)
        before = {"default_deployment": row.default_deployment, "description": row.description,
                  "tags": dict(row.tags or {})}  # fmt: skip
        tags = dict(row.tags or {})
        for key, value in changes.items():
            if key in ("defaults.deployment_name", "default_deployment"):
                known = rows.deployment_names(session, name)
                if value not in known:
                    raise _missing_deployment(name, value, known)
                row.default_deployment = value
            elif key == "description":
                row.description = value
            elif key.startswith("tags.") and len(key) > len("tags."):
                tags[key[len("tags.") :]] = value
            else:
                raise InvalidArgument(
                    f"--set {key}: a batch endpoint's settable fields are defaults.deployment_name, "
                    "description and tags.<key>"
                )
        row.tags = tags
        row.updated_at = datetime.now(UTC)
        after = {"default_deployment": row.default_deployment, "description": row.description, "tags": tags}
        summary = f"batch endpoint {name} updated: {', '.join(sorted(changes))}"
        audit.record(session, "batch_endpoint.update", "batch_endpoint", name, summary, before, after)
        return rows.endpoint_entity(session, row)

    return workspace.database.write(work)


def delete_endpoint(workspace: Workspace, name: str) -> None:
    """The endpoint and its deployments; the jobs they ran stay, with their outputs."""

    def work(session: Session) -> None:
        row = _endpoint_for_update(session, name)
        deployments = rows.deployment_names(session, name)
        rows.delete_deployments(session, name)
        session.delete(row)
        gone = f" and its deployments {', '.join(deployments)}" if deployments else ""
        audit.record(session, "batch_endpoint.delete", "batch_endpoint", name,
                     f"batch endpoint {name}{gone} deleted")  # fmt: skip

    workspace.database.write(work)


def _endpoint_for_update(session: Session, name: str) -> BatchEndpointRow:
    row = rows.endpoint_row(session, name)
    if row is None:
        raise _missing_endpoint(name)
    return row


# --- deployments ---------------------------------------------------------------------------------


def create_deployment(
    workspace: Workspace,
    spec: BatchDeploymentSpec,
    base_dir: Path,
    source: str,
    set_default: bool = False,
    replace: bool = False,
) -> BatchDeployment:
    """Resolve and store a deployment; `replace` updates an existing one from a full spec instead."""
    if not _DEPLOYMENT_NAME.match(spec.name):
        raise InvalidSpec(
            f"{source}: name: {spec.name!r} is not a valid deployment name: start with a letter, then "
            "letters, digits, '-' or '_' (at most 64)"
        )
    get_endpoint(workspace, spec.endpoint_name)  # NotFound before anything is stored
    deployment = _resolve_deployment(workspace, spec, base_dir, source)
    now = datetime.now(UTC)

    def work(session: Session) -> BatchDeployment:
        endpoint = _endpoint_for_update(session, spec.endpoint_name)
        row = rows.deployment_row(session, spec.endpoint_name, spec.name)
        if row is not None and not replace:
            raise AlreadyExists(
                f"batch endpoint {spec.endpoint_name!r} already has a deployment {spec.name!r}; change it "
                "with: mlyard batch-deployment update"
            )
        if row is None and replace:
            raise _missing_deployment(
                spec.endpoint_name, spec.name, rows.deployment_names(session, spec.endpoint_name)
            )
        before = rows.deployment_entity(row, None).model_dump(mode="json") if row is not None else None
        if row is None:
            row = BatchDeploymentRow(
                endpoint_name=spec.endpoint_name, name=spec.name, created_at=now,
                created_by=audit.current_actor().name,
            )  # fmt: skip
            session.add(row)
        row.model_name, row.model_version = deployment.model_name, deployment.model_version
        row.spec = rows.deployment_spec(deployment)
        row.updated_at = now
        if set_default or endpoint.default_deployment is None:
            endpoint.default_deployment = spec.name
            endpoint.updated_at = now
        session.flush()
        created = rows.deployment_entity(row, endpoint.default_deployment)
        what = "updated" if before is not None else "created"
        audit.record(
            session, f"batch_deployment.{'update' if before is not None else 'create'}", "batch_deployment",
            f"{spec.endpoint_name}/{spec.name}",
            f"batch deployment {spec.endpoint_name}/{spec.name} {what}: model {deployment.model_ref}"
            + (" (default)" if created.is_default else ""),
            before, created.model_dump(mode="json"),
        )  # fmt: skip
        return created

    try:
        return workspace.database.write(work)
    except IntegrityError:
        raise AlreadyExists(
            f"batch endpoint {spec.endpoint_name!r} already has a deployment {spec.name!r}"
        ) from None


def _resolve_deployment(
    workspace: Workspace, spec: BatchDeploymentSpec, base_dir: Path, source: str
) -> BatchDeployment:
    try:
        model = find_model(workspace, spec.model)
    except MlyardError as exc:
        raise type(exc)(f"{source}: model: {exc.message}") from None
    check_compute(workspace, spec.compute, f"{source}: compute")
    script = code_artifact = digest = None
    if spec.code_configuration is not None:
        given = spec.code_configuration
        code, digest = resolve_code(given.code or ".", base_dir, f"{source}: code_configuration.code")
        assert code is not None and digest is not None
        folder = Path(code)
        entry = (folder if folder.is_dir() else folder.parent) / given.scoring_script
        if not entry.is_file():
            raise NotFound(
                f"{source}: code_configuration.scoring_script: {given.scoring_script} does not exist "
                f"(looked for {entry})"
            )
        script, code_artifact = given.scoring_script, store_code(workspace, folder, digest)
    elif model.flavor not in NO_CODE_FLAVORS:
        raise InvalidSpec(
            f"{source}: code_configuration: model {model.ref} has flavor {model.flavor!r}, which cannot be "
            f"scored without code (no-code flavors: {', '.join(NO_CODE_FLAVORS)}); give "
            "code_configuration: {code: ./src, scoring_script: score.py}"
        )
    environment, environment_ref = resolve_environment(workspace, spec.environment, base_dir, source)
    return BatchDeployment(
        name=spec.name, endpoint_name=spec.endpoint_name, description=spec.description, tags=dict(spec.tags),
        model_name=model.name, model_version=model.version, scoring_script=script,
        code_artifact=code_artifact, code_hash=digest, environment=environment,
        environment_ref=environment_ref, compute=spec.compute,
        instance_count=spec.resources.instance_count, settings=spec.batch_settings(),
    )  # fmt: skip


def get_deployment(workspace: Workspace, endpoint: str, name: str) -> BatchDeployment:
    with workspace.database.read() as session:
        parent = rows.endpoint_row(session, endpoint)
        if parent is None:
            raise _missing_endpoint(endpoint)
        row = rows.deployment_row(session, endpoint, name)
        if row is None:
            raise _missing_deployment(endpoint, name, rows.deployment_names(session, endpoint))
        return rows.deployment_entity(row, parent.default_deployment)


def default_deployment(workspace: Workspace, endpoint: str) -> BatchDeployment:
    """The deployment an invoke without `--deployment-name` uses."""
    found = get_endpoint(workspace, endpoint)
    if found.default_deployment is None:
        raise NotFound(
            f"batch endpoint {endpoint!r} has no deployments to score with; create one with: "
            "mlyard batch-deployment create --file deployment.yml"
        )
    return get_deployment(workspace, endpoint, found.default_deployment)


def list_deployments(workspace: Workspace, endpoint: str) -> list[BatchDeployment]:
    with workspace.database.read() as session:
        parent = rows.endpoint_row(session, endpoint)
        if parent is None:
            raise _missing_endpoint(endpoint)
        return [
            rows.deployment_entity(r, parent.default_deployment)
            for r in rows.deployment_rows(session, endpoint)
        ]


def update_deployment(
    workspace: Workspace, endpoint: str, name: str, changes: dict[str, str]
) -> BatchDeployment:
    """Azure's `--set` pairs on a deployment: its settings (`mini_batch_size=20`,
    `settings.retry_settings.max_retries=1`), `resources.instance_count`, `compute`, `description`,
    `tags.k`. The model, code and environment change with `update --file`."""
    current = get_deployment(workspace, endpoint, name)
    view: dict[str, Any] = {
        "description": current.description, "tags": dict(current.tags), "compute": current.compute,
        "resources": {"instance_count": current.instance_count},
        "settings": current.settings.model_dump(mode="json"),
    }  # fmt: skip
    for key, value in changes.items():
        apply_override(view, _settable(key), value, "--set")
    settings = validate_spec(BatchSettings, view["settings"], "--set settings", unknown_fields="refuse")
    resources = validate_spec(BatchResources, view["resources"], "--set resources", unknown_fields="refuse")
    editable = {k: view[k] for k in ("description", "tags", "compute")}
    fields = validate_spec(_Editable, editable, "--set", unknown_fields="refuse")
    if fields.compute != current.compute:
        check_compute(workspace, fields.compute, "--set compute")
    updated = current.model_copy(
        update={"description": fields.description, "tags": fields.tags, "compute": fields.compute,
                "instance_count": resources.instance_count, "settings": settings}
    )  # fmt: skip

    def work(session: Session) -> BatchDeployment:
        row = rows.deployment_row(session, endpoint, name)
        if row is None:
            raise _missing_deployment(endpoint, name, rows.deployment_names(session, endpoint))
        row.spec = rows.deployment_spec(updated)
        row.updated_at = datetime.now(UTC)
        audit.record(
            session, "batch_deployment.update", "batch_deployment", f"{endpoint}/{name}",
            f"batch deployment {endpoint}/{name} updated: {', '.join(sorted(changes))}",
            current.model_dump(mode="json"), updated.model_dump(mode="json"),
        )  # fmt: skip
        return updated

    return workspace.database.write(work)


class _Editable(BaseModel):
    """The fields of a deployment besides its settings that `--set` may change."""

    model_config = ConfigDict(extra="forbid")

    description: str | None = None
    tags: TextMap = Field(default_factory=dict)
    compute: str | None = None


def _settable(key: str) -> str:
    head = key.split(".", 1)[0]
    if head in SETTING_FIELDS:
        return f"settings.{key}"
    if key == "instance_count":
        return "resources.instance_count"
    if head in ("settings", "resources", "description", "tags", "compute"):
        return key
    raise InvalidArgument(
        f"--set {key}: a batch deployment's settable fields are its settings ({', '.join(SETTING_FIELDS)}), "
        "resources.instance_count, compute, description and tags.<key>; the model, code and environment "
        "change with: mlyard batch-deployment update --file deployment.yml"
    )


def delete_deployment(workspace: Workspace, endpoint: str, name: str) -> None:
    def work(session: Session) -> None:
        parent = _endpoint_for_update(session, endpoint)
        row = rows.deployment_row(session, endpoint, name)
        known = rows.deployment_names(session, endpoint)
        if row is None:
            raise _missing_deployment(endpoint, name, known)
        if parent.default_deployment == name:
            others = [other for other in known if other != name]
            if others:
                raise Conflict(
                    f"deployment {name!r} is the default of batch endpoint {endpoint!r}; make another the "
                    f"default first: mlyard batch-endpoint update --name {endpoint} "
                    f"--set defaults.deployment_name={others[0]}"
                )
            parent.default_deployment = None
        session.delete(row)
        audit.record(session, "batch_deployment.delete", "batch_deployment", f"{endpoint}/{name}",
                     f"batch deployment {endpoint}/{name} deleted")  # fmt: skip

    workspace.database.write(work)
