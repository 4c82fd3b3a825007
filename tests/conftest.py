"""Shared fixtures: a clean environment per test, and workspaces on SQLite and PostgreSQL.

`workspace` is parametrized over both databases so every service test runs on each. PostgreSQL
tests use the server on 127.0.0.1:5432: the session migrates one template database, each test
gets a fresh copy of it (`CREATE DATABASE … TEMPLATE`), and everything is dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get("MLYARD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No MLYARD_* variable leaks in; each test starts in its own folder with no open runs."""
    for key in list(os.environ):
        if key.startswith("MLYARD_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    yield
    from mlyard.client import fluent
    from mlyard.services.workspaces.workspace import close_all

    while fluent.active_run() is not None:
        fluent.end_run()
    close_all()


def _admin_execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(sql)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated template database for this test session."""
    name = f"mlyard_tpl_{uuid.uuid4().hex[:10]}"
    try:
        _admin_execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {exc}")
    from mlyard.store.database import Database
    from mlyard.store.migrate import upgrade

    database = Database(pg_url(name))
    upgrade(database)
    database.dispose()
    yield name
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_url(database: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{database}"


@pytest.fixture
def pg_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database URL for one test."""
    template = request.getfixturevalue("pg_template")
    name = f"mlyard_t_{uuid.uuid4().hex[:12]}"
    _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield pg_url(name)
    from mlyard.services.workspaces.workspace import close_all

    close_all()
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def workspace_path(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """A created workspace folder: SQLite inside it, or pointing at a fresh PostgreSQL database."""
    from mlyard.services.workspaces.workspace import create_workspace

    path = tmp_path / "ws"
    db = request.getfixturevalue("pg_database") if backend == "postgresql" else None
    create_workspace(path, db=db)
    return path


@pytest.fixture
def workspace(workspace_path: Path):  # type: ignore[no-untyped-def]
    from mlyard.services.workspaces.workspace import open_workspace

    return open_workspace(workspace_path)


CLIENT_BACKENDS = ["sqlite", "postgresql", "remote"]


@pytest.fixture(params=CLIENT_BACKENDS)
def client_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(
    client_backend: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
):  # type: ignore[no-untyped-def]
    """An `MLClient` on embedded SQLite, embedded PostgreSQL, or a team server (over SQLite) on a
    free 127.0.0.1 port; the active-run API (`mlyard.log_metric`) follows the same place."""
    import mlyard
    from mlyard.services.workspaces.workspace import create_workspace

    path = tmp_path / "ws"
    db = request.getfixturevalue("pg_database") if client_backend == "postgresql" else None
    create_workspace(path, db=db)
    if client_backend != "remote":
        monkeypatch.setenv("MLYARD_WORKSPACE", str(path))
        return mlyard.MLClient(workspace=path)
    url = request.getfixturevalue("serve_workspace")(path)
    monkeypatch.setenv("MLYARD_URL", url)
    remote = mlyard.MLClient(url=url)
    request.addfinalizer(remote.close)
    return remote


@pytest.fixture
def serve_workspace(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Start a team server over a workspace folder in this process (real HTTP on a free port, its
    background loops and one worker running); returns its URL. Stopped at the end of the test."""
    from tests.servers import serve_in_thread

    started = []

    def start(path: Path, **options: object) -> str:
        server = serve_in_thread(path, **options)
        started.append(server)
        return server.url

    yield start
    for server in started:
        server.stop()
    from mlyard.client.mlclient import forget_clients

    forget_clients()


@pytest.fixture(scope="session")
def diabetes_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sklearn.datasets import load_diabetes

    path = tmp_path_factory.mktemp("data") / "diabetes.csv"
    load_diabetes(as_frame=True).frame.to_csv(path, index=False)
    return path
