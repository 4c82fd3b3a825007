"""`INSERT … ON CONFLICT` for the two dialects we run on (their APIs are the same shape)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(session: Session, table: Any) -> Any:
    """A dialect-specific insert that offers `on_conflict_do_update` / `on_conflict_do_nothing`."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
