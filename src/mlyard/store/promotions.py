"""Rows of promotion requests. The rules (who may decide, self-approval) are in services/promotions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mlyard.entities.registry.promotion import PromotionRequest, PromotionState
from mlyard.store.jobs import as_utc
from mlyard.store.tables import PromotionRequestRow


def insert(session: Session, values: dict[str, Any]) -> None:
    session.add(PromotionRequestRow(**values))


def get(session: Session, request_id: str) -> PromotionRequest | None:
    row = session.get(PromotionRequestRow, request_id)
    return _to_entity(row) if row is not None else None


def find_pending(session: Session, name: str, version: str, alias: str) -> PromotionRequest | None:
    row = session.execute(
        select(PromotionRequestRow).where(
            PromotionRequestRow.model_name == name,
            PromotionRequestRow.version == version,
            PromotionRequestRow.alias == alias,
            PromotionRequestRow.state == PromotionState.PENDING.value,
        )
    ).scalar()
    return _to_entity(row) if row is not None else None


def decide(session: Session, request_id: str, state: PromotionState, values: dict[str, Any]) -> bool:
    """Move a pending request to `state`; False when it was no longer pending (a concurrent decision)."""
    done = session.execute(
        update(PromotionRequestRow)
        .where(
            PromotionRequestRow.id == request_id, PromotionRequestRow.state == PromotionState.PENDING.value
        )
        .values(state=state.value, **values)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def search(
    session: Session, name: str | None, version: str | None, state: PromotionState | None, limit: int
) -> list[PromotionRequest]:
    query = select(PromotionRequestRow)
    if name is not None:
        query = query.where(PromotionRequestRow.model_name == name)
    if version is not None:
        query = query.where(PromotionRequestRow.version == version)
    if state is not None:
        query = query.where(PromotionRequestRow.state == state.value)
    query = query.order_by(PromotionRequestRow.requested_at.desc(), PromotionRequestRow.id).limit(limit)
    return [_to_entity(row) for row in session.execute(query).scalars()]


def _to_entity(row: PromotionRequestRow) -> PromotionRequest:
    return PromotionRequest(
        id=row.id, model_name=row.model_name, version=row.version, alias=row.alias,
        state=PromotionState(row.state), reason=row.reason, requested_by=row.requested_by,
        requested_at=as_utc(row.requested_at), decided_by=row.decided_by,
        decided_at=as_utc(row.decided_at), decision_comment=row.decision_comment,
        previous_version=row.previous_version,
    )  # fmt: skip
