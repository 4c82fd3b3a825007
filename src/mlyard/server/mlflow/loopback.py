"""`python -m mlyard.server.mlflow.loopback`: one workspace's MLflow API on a loopback socket, for
the jobs of one runner process when no team server serves that workspace.

Jobs whose environment has `mlflow` get `MLFLOW_TRACKING_URI` and `MLFLOW_RUN_ID`, as Azure ML
sets them, so `mlflow.log_metric` & co. write to the job. Through a team server that URI is the
server's own MLflow API; an embedded workspace has no server, so its runner binds a loopback port
for it (`runtime/mlflow_tracking.py`) and starts this process only when a job first connects —
a job that never calls mlflow costs nothing — handing it the listening socket (file descriptor
`MLYARD_LOOPBACK_FD`). Every later job of the runner (pipeline steps, sweep trials, mini-batches)
reuses it.

It is the team server's app (the same routes, rules and errors as `mlyard server start`, so the
unmodified MLflow client sees one behaviour) with no background loops, reachable only with the
local token made from the secret the runner writes as the first line of its standard input (hex).
It serves until that input closes: the runner holds the other end, so the server ends with the
runner however the runner ends (even `kill -9`).

The workspace is the one of `MLYARD_WORKSPACE` (with `MLYARD_DB` / `MLYARD_ARTIFACTS` when the
folder has no configuration of its own), as for every mlyard process.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
from pathlib import Path
from typing import Any

from mlyard.server.config import ServerConfig
from mlyard.services.workspaces.workspace_location import ENV_ARTIFACTS, ENV_DB, ENV_WORKSPACE

ENV_LISTENER_FD = "MLYARD_LOOPBACK_FD"


def main() -> None:
    import uvicorn

    from mlyard.server.app import create_app

    folder, descriptor = os.environ.get(ENV_WORKSPACE), os.environ.get(ENV_LISTENER_FD)
    if not folder or not descriptor:
        sys.exit(f"{ENV_WORKSPACE} and {ENV_LISTENER_FD} must name the workspace and the socket to serve")
    secret = bytes.fromhex(sys.stdin.readline().strip())
    listener = socket.socket(fileno=int(descriptor))
    app = create_app(ServerConfig.single(Path(folder), os.environ.get(ENV_DB), os.environ.get(ENV_ARTIFACTS)))
    app.state.local_secret = secret  # the runner gave its jobs the token made from it
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
    threading.Thread(target=_stop_when_stdin_closes, args=(server,), daemon=True).start()
    server.run(sockets=[listener])


def _stop_when_stdin_closes(server: Any) -> None:
    """The runner writes nothing more; its end of the pipe closes when it exits or is killed."""
    sys.stdin.read()
    server.should_exit = True


if __name__ == "__main__":
    main()
