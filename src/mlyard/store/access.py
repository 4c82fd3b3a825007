"""Rows for API keys, the audit trail and workspace settings. No rules here: see services/."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from mlyard.entities.governance.access import ApiKey, AuditEvent, Role
from mlyard.store.jobs import as_utc
from mlyard.store.tables import ApiKeyRow, AuditEventRow, WorkspaceSettingRow


def insert_key(session: Session, values: dict[str, Any]) -> None:
    session.execute(insert(ApiKeyRow).values(**values))


def key_with_hash(session: Session, key_id: str) -> tuple[ApiKey, str] | None:
    row = session.get(ApiKeyRow, key_id)
    return (_to_key(row), row.secret_hash) if row is not None else None


def list_keys(session: Session) -> list[ApiKey]:
    rows = session.execute(select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.id)).scalars()
    return [_to_key(row) for row in rows]


def revoke_key(session: Session, key_id: str, now: datetime) -> bool:
    """Mark a key revoked; False when there is no such key (or it was revoked already)."""
    done = session.execute(
        update(ApiKeyRow).where(ApiKeyRow.id == key_id, ApiKeyRow.revoked_at.is_(None)).values(revoked_at=now)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def touch_key(session: Session, key_id: str, now: datetime) -> None:
    session.execute(update(ApiKeyRow).where(ApiKeyRow.id == key_id).values(last_used_at=now))


def count_keys(session: Session, role: Role | None = None) -> int:
    query = select(ApiKeyRow.id).where(ApiKeyRow.revoked_at.is_(None))
    if role is not None:
        query = query.where(ApiKeyRow.role == role.value)
    return len(session.execute(query).all())


def _to_key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        id=row.id,
        owner=row.owner,
        role=Role(row.role),
        description=row.description,
        created_at=as_utc(row.created_at),
        created_by=row.created_by,
        expires_at=as_utc(row.expires_at),
        revoked_at=as_utc(row.revoked_at),
        last_used_at=as_utc(row.last_used_at),
    )


# --- audit ---------------------------------------------------------------------------------------


# Built once: every change of every service writes one audit row, and building the statement per
# call cost about a quarter of a registration (the event outbox does the same, store/events.py).
_INSERT_AUDIT_EVENT = insert(AuditEventRow)


def insert_event(session: Session, values: dict[str, Any]) -> None:
    """One audit row, in the change's own transaction (the session's connection)."""
    session.connection().execute(_INSERT_AUDIT_EVENT, values)


def list_events(
    session: Session,
    since: datetime | None,
    until: datetime | None,
    actor: str | None,
    entity_type: str | None,
    entity_id: str | None,
    actions: Sequence[str],
    limit: int,
) -> list[AuditEvent]:
    query = select(AuditEventRow)
    if since is not None:
        query = query.where(AuditEventRow.at >= since)
    if until is not None:
        query = query.where(AuditEventRow.at < until)
    if actor is not None:
        query = query.where(AuditEventRow.actor == actor)
    if entity_type is not None:
        query = query.where(AuditEventRow.entity_type == entity_type)
    if entity_id is not None:  # a model's events include its versions' (`churn` matches `churn:3`)
        query = query.where(
            or_(
                AuditEventRow.entity_id == entity_id,
                AuditEventRow.entity_id.startswith(f"{entity_id}:", autoescape=True),
            )
        )
    if actions:
        query = query.where(AuditEventRow.action.in_(list(actions)))
    rows = session.execute(query.order_by(AuditEventRow.id.desc()).limit(limit)).scalars()
    return [
        AuditEvent(
            id=row.id,
            at=as_utc(row.at),
            actor=row.actor,
            role=row.role,
            address=row.address,
            via=row.via,
            request_id=row.request_id,
            action=row.action,
            entity_type=row.entity_type,
            entity_id=row.entity_id,
            summary=row.summary,
            before=row.before,
            after=row.after,
        )  # fmt: skip
        for row in rows
    ]


# --- settings ------------------------------------------------------------------------------------


def get_settings(session: Session) -> dict[str, Any]:
    rows = session.execute(select(WorkspaceSettingRow.key, WorkspaceSettingRow.value))
    return {key: value.get("value") for key, value in rows}


def put_setting(session: Session, key: str, value: Any, now: datetime, by: str) -> None:
    row = session.get(WorkspaceSettingRow, key)
    if row is None:
        session.add(WorkspaceSettingRow(key=key, value={"value": value}, updated_at=now, updated_by=by))
    else:
        row.value = {"value": value}
        row.updated_at = now
        row.updated_by = by
