"""The schema is Alembic's from the first commit; opening a workspace upgrades it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from mlyard.errors import WorkspaceError
from mlyard.services.workspaces.workspace import open_workspace
from mlyard.store.database import Database
from mlyard.store.migrate import HEAD_REVISION, MIGRATIONS_DIR, current_revision, upgrade
from mlyard.store.tables import Base


def test_head_revision_constant_matches_the_migration_scripts():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_migrations_build_exactly_the_tables_the_code_declares(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    upgrade(database)
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_opening_an_older_workspace_upgrades_it(tmp_path):
    """A database at an earlier revision (here: empty, revision none) is brought to head."""
    folder = tmp_path / "ws"
    open_workspace(folder)
    database_file = folder / "mlyard.db"
    with sqlite3.connect(database_file) as connection:
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            connection.execute(f'DROP TABLE "{table}"')
    from mlyard.services.workspaces.workspace import close_all

    close_all()
    workspace = open_workspace(folder)
    with workspace.database.engine.connect() as connection:
        assert current_revision(connection) == HEAD_REVISION
        assert "jobs" in inspect(connection).get_table_names()


def test_a_workspace_from_a_newer_mlyard_is_refused(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    upgrade(database)
    with database.write_engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(WorkspaceError, match="newer mlyard"):
        upgrade(database)


def test_a_database_of_someone_else_is_refused(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(WorkspaceError, match="not an mlyard workspace .*invoices"):
        upgrade(Database(f"sqlite:///{path}"))


@pytest.mark.parametrize(
    "breakage, message",
    [
        ("file", "is a file, not a folder"),
        ("corrupt-db", "corrupt or not SQLite"),
        ("bad-config", "not a workspace file"),
        ("bad-yaml", r"workspace.yaml \(line \d+, column \d+\): not valid YAML"),
    ],
)
def test_corrupt_workspace_paths_are_explained(tmp_path: Path, breakage, message):
    folder = tmp_path / "ws"
    if breakage == "file":
        folder.write_text("not a folder")
    else:
        folder.mkdir()
        (folder / "workspace.yaml").write_text("database: mlyard.db\nartifacts: artifacts\n")
        if breakage == "corrupt-db":
            (folder / "mlyard.db").write_bytes(b"this is not sqlite" * 100)
        elif breakage == "bad-config":
            (folder / "workspace.yaml").write_text("- just\n- a list\n")
        else:
            (folder / "workspace.yaml").write_text("database: [unclosed\n")
    with pytest.raises(WorkspaceError, match=message):
        open_workspace(folder)


def test_reopening_with_another_database_is_refused(tmp_path):
    open_workspace(tmp_path / "ws")
    with pytest.raises(WorkspaceError, match="uses database 'mlyard.db'"):
        open_workspace(tmp_path / "ws", db="sqlite:////tmp/other.db")


def test_postgresql_workspace_opens_at_head(tmp_path, pg_database):
    workspace = open_workspace(tmp_path / "ws", db=pg_database)
    with workspace.database.engine.connect() as connection:
        assert current_revision(connection) == HEAD_REVISION
    assert workspace.describe()["database"].startswith("postgresql+psycopg://")
