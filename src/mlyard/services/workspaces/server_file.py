"""`server.json` in a workspace folder: which running team server serves this workspace, and where.

The server writes it when it starts serving (and removes it when it stops), so a local client of
the same folder can reach the endpoints that server runs — `client.online_endpoints.invoke`, the
metrics of the gateway. It holds a local token with which the server accepts this machine's
clients as the workspace's owner: anyone who can read the folder can read its database anyway, so
the file is as private as the workspace (mode 0600).
"""

from __future__ import annotations

import hmac
import json
import os
import socket
from dataclasses import asdict, dataclass
from pathlib import Path

from mlyard.errors import NotReady

SERVER_FILE = "server.json"


@dataclass(frozen=True)
class ServerRecord:
    url: str
    pid: int
    host: str
    workspace: str  # the name the server serves this workspace as
    endpoint_prefix: str  # scoring URIs: {url}{endpoint_prefix}/{endpoint}/score
    local_token: str

    def scoring_uri(self, endpoint: str) -> str:
        return f"{self.url}{self.endpoint_prefix}/{endpoint}/score"

    def openapi_uri(self, endpoint: str) -> str:
        return f"{self.url}{self.endpoint_prefix}/{endpoint}/swagger.json"


def local_token(secret: bytes, ws: str) -> str:
    """The token `server.json` in workspace `ws`'s folder holds: one per workspace, so reading one
    workspace's folder gives no access to the other workspaces of the same server. A server with
    `secret` accepts it as the workspace's owner (server/auth.py)."""
    return "local_" + hmac.new(secret, ws.encode(), "sha256").hexdigest()


def write_server_file(folder: Path, record: ServerRecord) -> None:
    path = folder / SERVER_FILE
    temporary = path.with_name(f".{SERVER_FILE}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(asdict(record), file, indent=2)
    os.replace(temporary, path)


def remove_server_file(folder: Path, pid: int) -> None:
    """Remove the file if it is this server's (another server may have taken the folder over)."""
    path = folder / SERVER_FILE
    record = _read(path)
    if record is not None and record.pid == pid:
        path.unlink(missing_ok=True)


def find_server(folder: Path) -> ServerRecord | None:
    """The server recorded in the folder if it is still running on this machine, else None."""
    record = _read(folder / SERVER_FILE)
    if record is None or record.host != socket.gethostname():
        return None
    try:
        os.kill(record.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, another user's
    return record


def require_server(folder: Path) -> ServerRecord:
    """`find_server`, or NotReady saying how to start one."""
    record = find_server(folder)
    if record is None:
        raise NotReady(
            f"no mlyard server serves the workspace at {folder}, and online endpoints run in one; "
            f"start it with: mlyard server start --workspace {folder}"
        )
    return record


def _read(path: Path) -> ServerRecord | None:
    try:
        data = json.loads(path.read_text())
        return ServerRecord(**data)
    except (OSError, ValueError, TypeError):
        return None
