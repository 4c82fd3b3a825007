"""Rows of monitor alert state. No rules here: see services/monitors/alerts.py."""

from __future__ import annotations

import zlib
from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.orm import Session

from mlyard.store.tables import MonitorAlertRow


def lock_monitor(session: Session, monitor: str) -> None:
    """Serialise two runs of one monitor deciding at once (PostgreSQL; SQLite's write transaction
    already does): the second sees the first's state, so a breach is announced once."""
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(f"monitor_alerts:{monitor}".encode())
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def states(session: Session, monitor: str) -> dict[str, MonitorAlertRow]:
    """The monitor's signals by name."""
    query = select(MonitorAlertRow).where(MonitorAlertRow.monitor == monitor)
    return {row.signal: row for row in session.execute(query).scalars()}


def insert_state(session: Session, values: dict[str, Any]) -> None:
    session.execute(insert(MonitorAlertRow).values(**values))


def delete_states(session: Session, monitor: str) -> int:
    done = session.execute(delete(MonitorAlertRow).where(MonitorAlertRow.monitor == monitor))
    return int(done.rowcount)  # type: ignore[attr-defined]
