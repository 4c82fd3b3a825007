"""Real server processes and the real `mlflow` client pointed at them.

`server`: `mlyard server start` over one fresh workspace, per database backend, as a user runs
it. `team_server`: the same `serve` over three workspaces — `default` and `dev` without keys,
`secure` with keys (so it requires them) — for the `/mlflow/{ws}` prefix and authentication.
Each is started once per session (that takes seconds); tests keep apart by naming their
experiments and models uniquely.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import BACKENDS, PG_ADMIN_URL, pg_url
from tests.processes import announced_url

with warnings.catch_warnings():  # mlflow warns about its own type hints when pyfunc is imported
    warnings.simplefilter("ignore")
    import mlflow
    import mlflow.pyfunc
    import mlflow.sklearn  # noqa: F401

MLYARD = [sys.executable, "-m", "mlyard.cli.main"]
WORKSPACES = ("default", "dev", "secure")
ROLES = ("reader", "contributor", "operator")


@dataclass
class Server:
    url: str
    backend: str
    paths: dict[str, Path]  # workspace name → its folder
    tokens: dict[str, str]  # role → API key of workspace `secure`
    log: Path

    def workspace(self, name: str = "default"):  # type: ignore[no-untyped-def]
        from mlyard.services.workspaces.workspace import open_workspace

        return open_workspace(self.paths[name])

    def client(self, name: str = "default"):  # type: ignore[no-untyped-def]
        import mlyard

        return mlyard.MLClient(workspace=self.paths[name])


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(sql)


def _database(backend: str, template: str | None, made: list[str]) -> str | None:
    if backend != "postgresql":
        return None
    database = f"mlyard_mlflow_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
    made.append(database)
    return pg_url(database)


@pytest.fixture(scope="session", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`mlyard --workspace W server start --port 0` over a fresh workspace on one backend."""
    from mlyard.services.workspaces.workspace import close_all, create_workspace

    backend = str(request.param)
    template = request.getfixturevalue("pg_template") if backend == "postgresql" else None
    folder = tmp_path_factory.mktemp(f"mlflow-{backend}")
    databases: list[str] = []
    create_workspace(folder / "default", db=_database(backend, template, databases))
    close_all()
    command = [*MLYARD, "--workspace", str(folder / "default"), "server", "start", "--port", "0"]
    yield from _serve(
        command, Server("", backend, {"default": folder / "default"}, {}, folder / "server.log")
    )
    for database in databases:
        _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture(scope="session")
def team_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The server over workspaces default, dev and secure (SQLite); `secure` requires API keys."""
    from mlyard.services.workspaces import keys
    from mlyard.services.workspaces.workspace import close_all, create_workspace

    folder = tmp_path_factory.mktemp("mlflow-team")
    paths = {name: folder / name for name in WORKSPACES}
    for path in paths.values():
        create_workspace(path)
    secure, _ = create_workspace(paths["secure"])
    tokens = {role: keys.create_key(secure, f"{role}-user", role).token for role in ROLES}
    close_all()
    code = (
        "import sys; from pathlib import Path; "
        "from mlyard.server.config import ServerConfig, WorkspaceLocation; "
        "from mlyard.server.main import serve; "
        "serve(ServerConfig({p.name: WorkspaceLocation(p) for p in map(Path, sys.argv[1:])}), port=0, "
        "announce=lambda line: print(line, file=sys.stderr))"
    )
    command = [sys.executable, "-c", code, *map(str, paths.values())]
    yield from _serve(command, Server("", "sqlite", paths, tokens, folder / "server.log"))


def _serve(command: list[str], server: Server) -> Iterator[Server]:
    """Run `command`, wait until it announces its URL and answers /healthz, stop it afterwards."""
    from mlyard.services.workspaces.workspace import close_all

    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLYARD_", "MLFLOW_"))}
    with server.log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env)
    try:
        server.url = announced_url(process, server.log)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
            raise AssertionError(f"server did not stop on SIGTERM:\n{server.log.read_text()}") from None
        close_all()


@pytest.fixture
def tracking(server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """The mlflow client pointed at the server's default workspace: no retries, short timeouts."""
    point_mlflow_at(server.url, monkeypatch)
    yield server
    while mlflow.active_run() is not None:
        mlflow.end_run()


def point_mlflow_at(url: str, monkeypatch: pytest.MonkeyPatch, token: str | None = None) -> None:
    for key in list(os.environ):
        if key.startswith("MLFLOW_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
    if token is not None:
        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)
    mlflow.set_tracking_uri(url)


@pytest.fixture
def api(server: Server) -> Iterator[httpx.Client]:
    """Raw HTTP to the server, for requests the mlflow client never sends."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def assert_mlflow_error(response: httpx.Response, status: int, code: str, *fragments: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_code", "message"} and body["error_code"] == code, body
    for fragment in fragments:
        assert fragment in body["message"], body["message"]
