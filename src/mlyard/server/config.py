"""What a server serves and where it may listen; light enough to import before FastAPI."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from mlyard.errors import PermissionDenied

DEFAULT_WORKSPACE_NAME = "default"
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
LOOPBACK_NAMES = ("localhost",)


@dataclass(frozen=True)
class WorkspaceLocation:
    """Where one served workspace lives: its folder, and optionally its database and artifact URLs."""

    path: Path
    db: str | None = None
    artifacts: str | None = None


@dataclass
class ServerConfig:
    """The workspaces a server serves, by the name used in `/api/v1/workspaces/{name}`.

    Validated when the app is created (`create_app`), not here.
    """

    workspaces: dict[str, WorkspaceLocation] = field(default_factory=dict)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    @classmethod
    def single(
        cls,
        path: str | Path,
        db: str | None = None,
        artifacts: str | None = None,
        name: str = DEFAULT_WORKSPACE_NAME,
    ) -> ServerConfig:
        """One workspace, served as `default` unless named otherwise (what `--workspace` gives)."""
        return cls(workspaces={name: WorkspaceLocation(Path(path), db, artifacts)})


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name other than localhost
        return False


def check_loopback(host: str) -> None:
    """Refuse any address beyond this machine: the server has no authentication yet."""
    if not is_loopback(host):
        raise PermissionDenied(
            f"refusing to listen on {host!r}: the server has no authentication yet, so it binds to "
            "loopback only (--host 127.0.0.1, ::1 or localhost). Authentication with API keys and "
            "roles arrives with issue #4; until then reach it from another machine through an SSH "
            "tunnel (ssh -L 8080:127.0.0.1:8080 HOST)"
        )
