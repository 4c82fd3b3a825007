"""`mlyard worker start`: run queued jobs of a team server (or of a shared workspace) on this machine."""

from __future__ import annotations

import signal
import threading
from typing import TYPE_CHECKING, Annotated

import typer

from mlyard.cli.context import workspace_options
from mlyard.cli.output import say

if TYPE_CHECKING:
    from mlyard.client.remote.session import RemoteSession

app = typer.Typer(help="Run queued jobs on this machine, for a team server.", no_args_is_help=True)


@app.command("start")
def start(
    ctx: typer.Context,
    server: Annotated[
        str | None,
        typer.Option("--server", envvar="MLYARD_URL", help="the team server, e.g. http://host:8080"),
    ] = None,
    key: Annotated[
        str | None, typer.Option("--key", envvar="MLYARD_KEY", help="an operator's API key")
    ] = None,
    workspace_name: Annotated[
        str | None,
        typer.Option("--workspace-name", envvar="MLYARD_WORKSPACE_NAME", help="default: the key's"),
    ] = None,
    compute: Annotated[
        str, typer.Option("--compute", help="local: processes here; ray: tasks on a Ray cluster")
    ] = "local",
    slots: Annotated[int, typer.Option("--slots", min=1, max=256, help="jobs run at once")] = 1,
    ray_address: Annotated[
        str | None, typer.Option("--ray-address", help="with --compute ray: ray://host:port (default: local)")
    ] = None,
) -> None:
    """Claim queued jobs and run them until Ctrl-C (running jobs finish first).

    Against a server (--server / MLYARD_URL) everything goes over HTTP; without one, the worker
    works on the workspace directly (--workspace/--db: a PostgreSQL workspace shared by machines).
    """
    from mlyard.runtime.worker import JobSource, LocalJobSource, Worker, new_worker_id

    if compute not in ("local", "ray"):
        from mlyard.errors import InvalidArgument

        raise InvalidArgument(f"--compute must be local or ray, not {compute!r}")
    if server:
        from mlyard.client.remote.session import RemoteSession
        from mlyard.client.remote.worker_host import RemoteJobSource

        session = RemoteSession(server, key, workspace_name)
        _check_role(session)
        source: JobSource = RemoteJobSource(session)
        where = f"{server} (workspace {session.workspace})"
    else:
        workspace = workspace_options(ctx).open(create=False)
        source = LocalJobSource(workspace)
        where = f"workspace {workspace.path}"
    worker = Worker(source, new_worker_id(), kinds=(compute,), slots=slots, ray_address=ray_address)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    say(f"worker {worker.worker_id} takes {compute} jobs from {where}, {slots} at a time; Ctrl-C stops it")
    worker.start(stop)
    try:
        worker.join()
    except KeyboardInterrupt:
        stop.set()
        say("stopping: running jobs finish first (Ctrl-C again to abandon them)")
        worker.join()
    say("worker stopped")


def _check_role(session: RemoteSession) -> None:
    """Refuse at once, not at every claim, when the key cannot run jobs."""
    from mlyard.entities.governance.access import Role
    from mlyard.errors import PermissionDenied

    who = session.get_json("/api/v1/whoami")
    if who.get("authentication") and not Role(who["role"]).allows(Role.OPERATOR):
        raise PermissionDenied(
            f"{who['owner']} has role {who['role']}; a worker needs operator or above: "
            "mlyard key create --owner worker-bot --role operator"
        )
