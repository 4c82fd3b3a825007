"""Bring a workspace database to the current schema; called every time a workspace opens.

Opening is the hot path of every CLI command, so the common case (already at head) costs one
small query and never imports Alembic.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import DatabaseError, OperationalError

from mlyard.errors import WorkspaceError
from mlyard.store.database import Database

# The newest revision in migrations/versions/; a test checks it matches Alembic's head.
HEAD_REVISION = "0011"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any constant: serialises concurrent upgrades of one PostgreSQL database.
_PG_MIGRATION_LOCK = 7_301_954_118


def current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(database: Database) -> None:
    """Upgrade to head if needed; safe when several processes open a new workspace at once."""
    try:
        with database.engine.connect() as connection:
            if current_revision(connection) == HEAD_REVISION:
                return
        # The write engine takes SQLite's write lock at BEGIN; PostgreSQL takes an advisory lock.
        with database.write_engine.begin() as connection:
            if not database.is_sqlite:
                connection.execute(text(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})"))
            revision = current_revision(connection)
            if revision == HEAD_REVISION:
                return
            _check_is_ours(connection, revision)
            _run_alembic(connection)
    except (OperationalError, DatabaseError) as exc:
        raise WorkspaceError(
            f"cannot open the workspace database {database.url}: {exc.orig}. "
            "Is it an mlyard workspace, and is the database reachable?"
        ) from exc


def _check_is_ours(connection: Connection, revision: str | None) -> None:
    tables = set(inspect(connection).get_table_names())
    if revision is None and tables:
        raise WorkspaceError(
            "the database already holds tables that are not an mlyard workspace "
            f"({', '.join(sorted(tables)[:5])}); use an empty database"
        )
    if revision is not None and not (MIGRATIONS_DIR / "versions").exists():
        raise WorkspaceError("mlyard's migration scripts are missing from this installation")


def _run_alembic(connection: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    try:
        command.upgrade(config, "head")
    except Exception as exc:  # an unknown revision: a workspace from a newer mlyard
        if "Can't locate revision" in str(exc):
            raise WorkspaceError(
                f"this workspace was written by a newer mlyard ({exc}); upgrade mlyard"
            ) from exc
        raise
