"""Rows of batch endpoints and deployments, and their conversion to entities.

A deployment row's `spec` holds what was resolved at create time: description, tags, scoring
script, stored code, resolved environment, compute, instance count and the batch settings.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mlyard.entities.endpoints.batch_endpoint import BatchDeployment, BatchEndpoint
from mlyard.store.jobs import as_utc
from mlyard.store.tables import BatchDeploymentRow, BatchEndpointRow

SPEC_FIELDS = (
    "description", "tags", "scoring_script", "code_artifact", "code_hash", "environment",
    "environment_ref", "compute", "instance_count", "settings",
)  # fmt: skip


def endpoint_row(session: Session, name: str) -> BatchEndpointRow | None:
    return session.get(BatchEndpointRow, name)


def endpoint_rows(session: Session) -> list[BatchEndpointRow]:
    return list(session.scalars(select(BatchEndpointRow).order_by(BatchEndpointRow.name)))


def deployment_row(session: Session, endpoint: str, name: str) -> BatchDeploymentRow | None:
    return session.scalars(
        select(BatchDeploymentRow).where(
            BatchDeploymentRow.endpoint_name == endpoint, BatchDeploymentRow.name == name
        )
    ).first()


def deployment_rows(session: Session, endpoint: str) -> list[BatchDeploymentRow]:
    return list(
        session.scalars(
            select(BatchDeploymentRow)
            .where(BatchDeploymentRow.endpoint_name == endpoint)
            .order_by(BatchDeploymentRow.name)
        )
    )


def deployment_names(session: Session, endpoint: str) -> list[str]:
    return [row.name for row in deployment_rows(session, endpoint)]


def delete_deployments(session: Session, endpoint: str) -> None:
    session.execute(delete(BatchDeploymentRow).where(BatchDeploymentRow.endpoint_name == endpoint))


def deployment_spec(deployment: BatchDeployment) -> dict[str, Any]:
    """The `spec` column of a deployment row."""
    dumped = deployment.model_dump(mode="json")
    return {field: dumped[field] for field in SPEC_FIELDS}


def endpoint_entity(session: Session, row: BatchEndpointRow) -> BatchEndpoint:
    return BatchEndpoint(
        name=row.name,
        description=row.description,
        tags=row.tags or {},
        default_deployment=row.default_deployment,
        deployments=deployment_names(session, row.name),
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        created_by=row.created_by,
    )


def deployment_entity(row: BatchDeploymentRow, default: str | None) -> BatchDeployment:
    return BatchDeployment.model_validate(
        {
            **row.spec,
            "name": row.name,
            "endpoint_name": row.endpoint_name,
            "model_name": row.model_name,
            "model_version": row.model_version,
            "is_default": row.name == default,
            "created_at": as_utc(row.created_at),
            "updated_at": as_utc(row.updated_at),
            "created_by": row.created_by,
        }
    )
