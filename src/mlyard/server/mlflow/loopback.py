"""`python -m mlyard.server.mlflow.loopback`: one workspace's MLflow API on a free loopback port,
for the jobs of one runner process when no team server serves that workspace.

Jobs whose environment has `mlflow` get `MLFLOW_TRACKING_URI` and `MLFLOW_RUN_ID`, as Azure ML
sets them, so `mlflow.log_metric` & co. write to the job. Through a team server that URI is the
server's own MLflow API; an embedded workspace has no server, so its runner starts this one (see
`runtime/mlflow_tracking.py`) the first time a job needs it and every later job of the runner —
the steps of a pipeline, the trials of a sweep, the mini-batches of a parallel job — reuses it.

It is the team server's app (the same routes, rules and errors as `mlyard server start`, so the
unmodified MLflow client sees one behaviour) with no background loops, bound to 127.0.0.1 and
reachable only with the local token it prints. It prints one JSON line, `{"url", "token"}`,
then serves until its standard input closes: the runner holds the other end, so the server ends
with the runner however the runner ends (even `kill -9`).

The workspace is the one of `MLYARD_WORKSPACE` (with `MLYARD_DB` / `MLYARD_ARTIFACTS` when the
folder has no configuration of its own), as for every mlyard process.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

from mlyard.server.config import DEFAULT_WORKSPACE_NAME, ServerConfig
from mlyard.services.workspaces.workspace_location import ENV_ARTIFACTS, ENV_DB, ENV_WORKSPACE


def main() -> None:
    from mlyard.server.auth import local_token
    from mlyard.server.main import prepare

    folder = os.environ.get(ENV_WORKSPACE)
    if not folder:
        sys.exit(f"{ENV_WORKSPACE} must name the workspace folder whose MLflow API to serve")
    config = ServerConfig.single(Path(folder), os.environ.get(ENV_DB), os.environ.get(ENV_ARTIFACTS))
    server, listener, url = prepare(config, "127.0.0.1", 0, own_logging=False)
    token = local_token(server.config.app.state.local_secret, DEFAULT_WORKSPACE_NAME)
    threading.Thread(target=_stop_when_stdin_closes, args=(server,), daemon=True).start()
    print(json.dumps({"url": f"{url}/mlflow/{DEFAULT_WORKSPACE_NAME}", "token": token}), flush=True)
    server.run(sockets=[listener])


def _stop_when_stdin_closes(server: Any) -> None:
    """The runner never writes; its end of the pipe closes when it exits or is killed."""
    sys.stdin.buffer.read()
    server.should_exit = True


if __name__ == "__main__":
    main()
