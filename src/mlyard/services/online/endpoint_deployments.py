"""Online deployments: every reference pinned when created or updated, then run by the server.

A deployment is recorded with its model pinned (`@latest` and aliases become the version they
are now), its environment resolved (`services.environments.resolve_environment`; none or
`inherit` is mlyard's own interpreter) and its scoring code stored content-addressed
(`services.code_snapshots.store_code`), so the team server's supervisor can start instances from
the record alone. A missing file, model or environment is refused before anything is written.

Each create or update is one `generation`; the supervisor rolls instances to the newest one and
reports back with `set_state` (Creating/Updating → Succeeded or Failed). Deployment logs (the
supervisor's events and what the instances print) are in the artifact store at
`endpoints/<endpoint>/<deployment>/logs/<uid>.log`; collected inputs and outputs below
`endpoints/<endpoint>/<deployment>/collected/`.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from mlyard.entities.automation import event as events
from mlyard.entities.endpoints.endpoint import DeploymentState, OnlineDeployment
from mlyard.entities.endpoints.endpoint_spec import (
    DeploymentSettings,
    OnlineDeploymentSpec,
    deployment_spec_from_dict,
    validate_deployment_name,
)
from mlyard.entities.governance.access import Actor, Role
from mlyard.errors import AlreadyExists, Conflict, InvalidArgument, InvalidSpec, NotFound
from mlyard.services.events.outbox import emit
from mlyard.services.online.endpoint_references import Resolved, resolve_references, with_overrides
from mlyard.services.online.endpoints import get_endpoint
from mlyard.services.workspaces import audit
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import endpoints as rows
from mlyard.store.tables import OnlineDeploymentRow

SUPERVISOR = Actor(name="mlyard-supervisor", role=Role.ADMIN, via="server")
MAX_LOG_LINES = 100_000
_RESOLVED_FIELDS = ("model", "environment", "code_configuration")


def create_deployment(
    workspace: Workspace,
    spec: OnlineDeploymentSpec,
    base_dir: Path,
    source: str = "deployment",
    endpoint_name: str | None = None,
    confined: Path | None = None,
) -> OnlineDeployment:
    """Resolve `spec` (paths relative to `base_dir`) and record it as generation 1, Creating.

    `confined` (a spec sent to a server): code and model folders must be inside that folder — the
    files the client uploaded — never elsewhere on the server."""
    endpoint = _endpoint_of(spec, endpoint_name, source)
    get_endpoint(workspace, endpoint)  # NotFound before anything is resolved or stored
    with workspace.database.read() as session:
        if rows.get_deployment_row(session, endpoint, spec.name) is not None:
            raise AlreadyExists(_exists(endpoint, spec.name))
    resolved = resolve_references(workspace, spec, base_dir, source, endpoint, confined)
    now = datetime.now(UTC)

    def work(session: Session) -> OnlineDeployment:
        if rows.get_endpoint_row(session, endpoint, lock=True) is None:
            raise NotFound(f"online endpoint {endpoint!r} was deleted meanwhile")
        if rows.get_deployment_row(session, endpoint, spec.name) is not None:
            raise AlreadyExists(_exists(endpoint, spec.name))
        row = OnlineDeploymentRow(
            endpoint_name=endpoint, name=spec.name,
            model_name=resolved.model.name if resolved.model else None,
            model_version=resolved.model.version if resolved.model else None,
            spec=_stored(resolved, spec.settings(), secrets.token_hex(8)), generation=1,
            state=DeploymentState.CREATING.value, error=None, created_at=now, updated_at=now,
            created_by=audit.current_actor().name,
        )  # fmt: skip
        session.add(row)
        session.flush()
        audit.record(
            session, "deployment.create", "online_deployment", f"{endpoint}/{spec.name}",
            f"created deployment {spec.name} of endpoint {endpoint}: {_describe(resolved, spec.settings())}",
            after={"model": resolved.model.ref if resolved.model else None, "generation": 1},
        )  # fmt: skip
        emit(
            session, events.MODEL_DEPLOYED, f"endpoints/{endpoint}/deployments/{spec.name}",
            {"ServiceName": f"{endpoint}/{spec.name}", "ServiceComputeType": "local",
             "ModelIds": resolved.model.ref if resolved.model else "", "ServiceTags": {},
             "ServiceProperties": {}, "EndpointName": endpoint, "DeploymentName": spec.name},
        )  # fmt: skip
        return rows.to_deployment_entity(row)

    return workspace.database.write(work)


def update_deployment(
    workspace: Workspace,
    endpoint: str,
    name: str,
    spec: OnlineDeploymentSpec | None = None,
    base_dir: Path | None = None,
    source: str = "deployment",
    overrides: dict[str, str] | None = None,
    confined: Path | None = None,
) -> OnlineDeployment:
    """A new generation from a whole new `spec`, or from the current one with `--set` `overrides`.

    The supervisor starts the new generation's instances and switches traffic to them once they
    are all ready (a rolling update); the old ones drain."""
    base = base_dir or Path.cwd()
    current = get_deployment(workspace, endpoint, name)
    if spec is not None:
        if spec.name != name or _endpoint_of(spec, endpoint, source) != endpoint:
            raise InvalidSpec(f"{source}: name: updates deployment {endpoint}/{name}, not {spec.name}")
        resolved = resolve_references(workspace, spec, base, source, endpoint, confined)
        settings = spec.settings()
    else:
        resolved, settings = with_overrides(workspace, current, overrides or {}, base, confined)

    def work(session: Session) -> OnlineDeployment:
        rows.get_endpoint_row(session, endpoint, lock=True)
        row = _deployment_row(session, endpoint, name)
        uid = (row.spec or {}).get("uid") or secrets.token_hex(8)
        row.model_name = resolved.model.name if resolved.model else None
        row.model_version = resolved.model.version if resolved.model else None
        row.spec, row.generation = _stored(resolved, settings, uid), row.generation + 1
        row.state, row.error, row.updated_at = DeploymentState.UPDATING.value, None, datetime.now(UTC)
        audit.record(
            session, "deployment.update", "online_deployment", f"{endpoint}/{name}",
            f"updated deployment {name} of endpoint {endpoint} to generation {row.generation}: "
            f"{_describe(resolved, settings)}",
            before={"model": current.model.ref if current.model else None, "generation": current.generation},
            after={"model": resolved.model.ref if resolved.model else None, "generation": row.generation},
        )  # fmt: skip
        emit(
            session, events.DEPLOYMENT_UPDATED, f"endpoints/{endpoint}/deployments/{name}",
            {"EndpointName": endpoint, "DeploymentName": name,
             "ModelIds": resolved.model.ref if resolved.model else "", "Generation": row.generation},
        )  # fmt: skip
        return rows.to_deployment_entity(row)

    return workspace.database.write(work)


def delete_deployment(workspace: Workspace, endpoint: str, name: str) -> None:
    """Remove a deployment that takes no traffic; its instances drain and stop."""

    def work(session: Session) -> None:
        endpoint_row = rows.get_endpoint_row(session, endpoint, lock=True)
        row = _deployment_row(session, endpoint, name)
        assert endpoint_row is not None
        live = int((endpoint_row.traffic or {}).get(name, 0))
        mirrored = int((endpoint_row.mirror_traffic or {}).get(name, 0))
        if live or mirrored:
            kind = f"{live} % of the live traffic" if live else f"{mirrored} % mirror traffic"
            raise Conflict(
                f"deployment {name!r} of endpoint {endpoint!r} takes {kind}; move it away first, e.g. "
                f'mlyard online-endpoint update --name {endpoint} --traffic "{name}=0 <other>=100"'
            )
        endpoint_row.traffic = {k: v for k, v in (endpoint_row.traffic or {}).items() if k != name}
        endpoint_row.mirror_traffic = {
            k: v for k, v in (endpoint_row.mirror_traffic or {}).items() if k != name
        }
        session.delete(row)
        audit.record(session, "deployment.delete", "online_deployment", f"{endpoint}/{name}",
                     f"deleted deployment {name} of endpoint {endpoint}")  # fmt: skip
        emit(session, events.DEPLOYMENT_DELETED, f"endpoints/{endpoint}/deployments/{name}",
             {"EndpointName": endpoint, "DeploymentName": name})  # fmt: skip

    workspace.database.write(work)


def get_deployment(workspace: Workspace, endpoint: str, name: str) -> OnlineDeployment:
    with workspace.database.read() as session:
        return rows.to_deployment_entity(_deployment_row(session, endpoint, name))


def list_deployments(workspace: Workspace, endpoint: str) -> list[OnlineDeployment]:
    get_endpoint(workspace, endpoint)
    with workspace.database.read() as session:
        return [rows.to_deployment_entity(row) for row in rows.list_deployment_rows(session, endpoint)]


def deployments_of_model(workspace: Workspace, model_name: str) -> list[OnlineDeployment]:
    """Where a model is served: the online deployments of any of its versions (its lineage's end)."""
    with workspace.database.read() as session:
        return [rows.to_deployment_entity(row) for row in rows.deployment_rows_of_model(session, model_name)]


def set_state(
    workspace: Workspace, endpoint: str, name: str, generation: int, state: DeploymentState, error: str | None
) -> bool:
    """The supervisor's report on `generation`; ignored (False) once a newer generation exists."""

    def work(session: Session) -> bool:
        row = rows.get_deployment_row(session, endpoint, name)
        if row is None or row.generation != generation or (row.state, row.error) == (state.value, error):
            return False
        row.state, row.error, row.updated_at = state.value, error, datetime.now(UTC)
        first_line = (error or "").strip().splitlines()[:1]
        with audit.acting_as(SUPERVISOR):
            audit.record(
                session, "deployment.state", "online_deployment", f"{endpoint}/{name}",
                f"deployment {name} of endpoint {endpoint}, generation {generation}: {state.value}"
                + (f": {first_line[0]}" if first_line else ""),
                after={"state": state.value, "generation": generation},
            )  # fmt: skip
        return True

    return workspace.database.write(work)


def log_path(endpoint: str, name: str, uid: str) -> str:
    return f"endpoints/{endpoint}/{name}/logs/{uid}.log"


def collected_root(endpoint: str, name: str) -> str:
    return f"endpoints/{endpoint}/{name}/collected"


def get_logs(workspace: Workspace, endpoint: str, name: str, lines: int | None = None) -> str:
    """The last `lines` lines of the deployment's log (all of it when None)."""
    if lines is not None and not 0 < lines <= MAX_LOG_LINES:
        raise InvalidArgument(f"--lines must be between 1 and {MAX_LOG_LINES}, got {lines}")
    deployment = get_deployment(workspace, endpoint, name)
    try:
        text = workspace.artifacts.get_bytes(log_path(endpoint, name, deployment.uid)).decode(
            errors="replace"
        )
    except NotFound:
        return ""
    if lines is None:
        return text
    return "".join(text.splitlines(keepends=True)[-lines:])


def spec_from_dict(data: dict[str, Any], source: str) -> OnlineDeploymentSpec:
    return deployment_spec_from_dict(data, source)


def _stored(resolved: Resolved, settings: DeploymentSettings, uid: str) -> dict[str, Any]:
    return {
        "uid": uid,
        "model_hash": resolved.model.content_hash if resolved.model else None,
        "model_folder_name": resolved.model.folder_name if resolved.model else None,
        "environment": resolved.environment,
        "environment_ref": resolved.environment_ref,
        "code": resolved.code.model_dump(mode="json") if resolved.code else None,
        "settings": settings.model_dump(mode="json", exclude_none=True),
    }


def _describe(resolved: Resolved, settings: DeploymentSettings) -> str:
    model = resolved.model.ref if resolved.model else "no model"
    code = f", {resolved.code.scoring_script}" if resolved.code else ""
    return f"{model}{code}, {settings.instance_count} instance(s)"


def _endpoint_of(spec: OnlineDeploymentSpec, given: str | None, source: str) -> str:
    """The endpoint named on the command line (or by the caller), else the file's: as in `az ml
    online-deployment create --endpoint-name`, the command line wins, so one deployment file
    serves a staging and a prod endpoint."""
    endpoint = given or spec.endpoint_name
    if endpoint is None:
        raise InvalidSpec(f"{source}: endpoint_name: required (in the file, or --endpoint-name)")
    return endpoint


def _deployment_row(session: Session, endpoint: str, name: str) -> OnlineDeploymentRow:
    row = rows.get_deployment_row(session, endpoint, name)
    if row is None:
        validate_deployment_name(name)
        if rows.get_endpoint_row(session, endpoint) is None:
            raise NotFound(
                f"online endpoint {endpoint!r} does not exist; list them with: mlyard online-endpoint list"
            )
        known = ", ".join(r.name for r in rows.list_deployment_rows(session, endpoint)) or "none"
        raise NotFound(f"endpoint {endpoint!r} has no deployment {name!r} (deployments: {known})")
    return row


def _exists(endpoint: str, name: str) -> str:
    return (
        f"deployment {name!r} of endpoint {endpoint!r} already exists; change it with: "
        f"mlyard online-deployment update --name {name} --endpoint-name {endpoint} --file ..."
    )
