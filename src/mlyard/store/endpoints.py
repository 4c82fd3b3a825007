"""Rows of online endpoints and deployments, and their conversion to entities.

An endpoint's keys and token secret stay on the row: entities never carry them, only
`services.endpoints.get_credentials` reads them.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mlyard.entities.endpoints.endpoint import (
    CodeReference,
    DeploymentState,
    ModelReference,
    OnlineDeployment,
    OnlineEndpoint,
)
from mlyard.entities.endpoints.endpoint_spec import DeploymentSettings
from mlyard.store.jobs import as_utc
from mlyard.store.tables import OnlineDeploymentRow, OnlineEndpointRow


def get_endpoint_row(session: Session, name: str, lock: bool = False) -> OnlineEndpointRow | None:
    """The endpoint's row; `lock` takes it FOR UPDATE (PostgreSQL) so traffic changes serialise."""
    stmt = select(OnlineEndpointRow).where(OnlineEndpointRow.name == name)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def list_endpoint_rows(session: Session) -> list[OnlineEndpointRow]:
    return list(session.scalars(select(OnlineEndpointRow).order_by(OnlineEndpointRow.name)))


def get_deployment_row(session: Session, endpoint: str, name: str) -> OnlineDeploymentRow | None:
    return session.scalars(
        select(OnlineDeploymentRow).where(
            OnlineDeploymentRow.endpoint_name == endpoint, OnlineDeploymentRow.name == name
        )
    ).first()


def list_deployment_rows(session: Session, endpoint: str | None = None) -> list[OnlineDeploymentRow]:
    stmt = select(OnlineDeploymentRow).order_by(OnlineDeploymentRow.endpoint_name, OnlineDeploymentRow.name)
    if endpoint is not None:
        stmt = stmt.where(OnlineDeploymentRow.endpoint_name == endpoint)
    return list(session.scalars(stmt))


def deployment_rows_of_model(session: Session, model_name: str) -> list[OnlineDeploymentRow]:
    """The online deployments serving any version of `model_name`."""
    stmt = (
        select(OnlineDeploymentRow)
        .where(OnlineDeploymentRow.model_name == model_name)
        .order_by(OnlineDeploymentRow.endpoint_name, OnlineDeploymentRow.name)
    )
    return list(session.scalars(stmt))


def delete_deployment_rows(session: Session, endpoint: str) -> None:
    session.execute(delete(OnlineDeploymentRow).where(OnlineDeploymentRow.endpoint_name == endpoint))


def to_endpoint_entity(row: OnlineEndpointRow) -> OnlineEndpoint:
    return OnlineEndpoint(
        name=row.name,
        description=row.description,
        auth_mode=row.auth_mode,
        traffic={str(k): int(v) for k, v in (row.traffic or {}).items()},
        mirror_traffic={str(k): int(v) for k, v in (row.mirror_traffic or {}).items()},
        tags=row.tags or {},
        properties=row.properties or {},
        provisioning_state=row.state,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        created_by=row.created_by,
    )


def to_deployment_entity(row: OnlineDeploymentRow) -> OnlineDeployment:
    spec = row.spec or {}
    model = (
        ModelReference(
            name=row.model_name,
            version=row.model_version,
            content_hash=spec.get("model_hash", ""),
            folder_name=spec.get("model_folder_name"),
        )  # fmt: skip
        if row.model_name and row.model_version
        else None
    )
    return OnlineDeployment(
        endpoint_name=row.endpoint_name,
        name=row.name,
        model=model,
        environment=spec.get("environment"),
        environment_ref=spec.get("environment_ref"),
        code=CodeReference.model_validate(spec["code"]) if spec.get("code") else None,
        settings=DeploymentSettings.model_validate(spec.get("settings") or {}),
        generation=row.generation,
        provisioning_state=DeploymentState(row.state),
        error=row.error,
        uid=str(spec.get("uid") or row.id),
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        created_by=row.created_by,
    )
