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
    # True: every request needs an API key; False: anyone on this machine acts as admin;
    # None: on as soon as a served workspace has a key (decided at the first request).
    auth: bool | None = None
    uploads_dir: Path | None = None  # staging of uploaded files; default under the scratch folder
    # Background work (see server/background.py): off for an app made in a test, on for `serve`.
    background: bool = False
    workers: int = 1  # embedded worker slots per workspace
    lease_seconds: float = 30.0
    job_retries: int = 1  # times a job whose worker is lost goes back to the queue
    # The registries served to every workspace, by name (`/api/v1/registries/{name}`); None: the
    # ones of this machine's registry index (services/registries).
    registries: dict[str, WorkspaceLocation] | None = None
    metrics_flush_seconds: float = 10.0  # how often the gateway's counts are persisted (metrics_flush)

    @classmethod
    def single(
        cls,
        path: str | Path,
        db: str | None = None,
        artifacts: str | None = None,
        name: str = DEFAULT_WORKSPACE_NAME,
        auth: bool | None = None,
    ) -> ServerConfig:
        """One workspace, served as `default` unless named otherwise (what `--workspace` gives)."""
        return cls(workspaces={name: WorkspaceLocation(Path(path), db, artifacts)}, auth=auth)


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name other than localhost
        return False


def check_listen_address(host: str, auth: bool | None) -> None:
    """Refuse an address beyond this machine unless every request must carry an API key.

    `auth=None` (not decided yet) passes: `serve` checks again once it knows.
    """
    if is_loopback(host) or auth is not False:
        return
    raise PermissionDenied(
        f"refusing to listen on {host!r} without authentication: beyond loopback (127.0.0.1, ::1, "
        "localhost) every request must carry an API key. Create one in each served workspace "
        "(mlyard key create --owner YOU --role admin) and start the server without --no-auth"
    )
