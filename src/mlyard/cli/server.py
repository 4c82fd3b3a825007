"""`mlyard server start`: serve the workspace over HTTP (REST API, /healthz, /metrics)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mlyard.cli.context import ArtifactsOption, DatabaseOption, WorkspacePathOption, workspace_options
from mlyard.cli.output import say

if TYPE_CHECKING:
    from mlyard.server.config import WorkspaceLocation

app = typer.Typer(help="Run the team server: the REST API over a workspace.", no_args_is_help=True)


@app.command("start")
def start(
    ctx: typer.Context,
    host: Annotated[
        str,
        typer.Option("--host", help="127.0.0.1 by default; beyond loopback only with API keys required"),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535, help="0 picks a free port")] = 8080,
    auth: Annotated[
        bool | None,
        typer.Option(
            "--auth/--no-auth",
            help="require API keys (default: yes once the workspace has a key); --no-auth: loopback only",
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=0, max=64, help="embedded worker slots running queued jobs")
    ] = 1,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="no embedded worker: jobs wait for `mlyard worker start`")
    ] = False,
    lease: Annotated[
        float, typer.Option("--lease-seconds", min=1.0, help="a silent worker's jobs are requeued after this")
    ] = 30.0,
    job_retries: Annotated[
        int, typer.Option("--job-retries", min=0, help="times a job whose worker was lost is queued again")
    ] = 1,
    serve_: Annotated[
        list[str] | None,
        typer.Option("--serve", help="NAME=FOLDER: serve that workspace as NAME (repeatable: dev, prod, …)"),
    ] = None,
    registry_: Annotated[
        list[str] | None,
        typer.Option(
            "--registry",
            help="NAME=FOLDER: a registry for every workspace (repeatable; default: this machine's index)",
        ),
    ] = None,
    workspace_path: WorkspacePathOption = None,
    db: DatabaseOption = None,
    artifacts: ArtifactsOption = None,
) -> None:
    """Serve the workspace (--workspace/--db/--artifacts) as `default`, or several with --serve
    NAME=FOLDER, until Ctrl-C; API docs at /docs.

    Each workspace keeps its own database, artifacts and API keys: a key of one never reaches another.
    """
    from mlyard.errors import PermissionDenied
    from mlyard.server.config import ServerConfig, check_listen_address, is_loopback
    from mlyard.services.workspaces.workspace_location import resolve_path

    check_listen_address(host, auth)  # before any heavy import: a refused address answers at once
    options = workspace_options(ctx, workspace_path, db, artifacts)
    if serve_:
        config = ServerConfig(_served(serve_), auth=auth)
    else:
        if not is_loopback(host) and not (resolve_path(options.path) / "workspace.yaml").exists():
            raise PermissionDenied(
                f"refusing to listen on {host!r}: there is no workspace yet, so no API key to reach it; "
                "create one and a key first: mlyard key create --owner YOU --role admin"
            )
        options.open(create=True)  # the workspace is created on first use
        config = ServerConfig.single(resolve_path(options.path), options.db, options.artifacts, auth=auth)
    if registry_:
        config.registries = _served(registry_, "--registry")
    config.background = True
    config.workers = 0 if no_worker else workers
    config.lease_seconds = lease
    config.job_retries = job_retries

    from mlyard.server.main import serve

    try:
        serve(config, host, port, announce=lambda line: typer.echo(line, err=True))  # one unwrapped line
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C after its graceful shutdown
        say("server stopped")


def _served(pairs: list[str], option: str = "--serve") -> dict[str, WorkspaceLocation]:
    """`dev=/srv/ws/dev` pairs as served workspaces; each folder must hold a workspace already."""
    from pathlib import Path

    from mlyard.cli.output import parse_pairs
    from mlyard.errors import WorkspaceError
    from mlyard.server.config import WorkspaceLocation

    served = {}
    for name, folder in parse_pairs(pairs, option).items():
        path = Path(folder).expanduser().resolve()
        if not (path / "workspace.yaml").is_file():
            create = (
                f"mlyard registry create --name {name} --path {folder}"
                if option == "--registry"
                else f"mlyard workspace create --workspace {folder}"
            )
            store = "registry" if option == "--registry" else "workspace"
            raise WorkspaceError(f"{option} {name}={folder}: no {store} there; create it with: {create}")
        served[name] = WorkspaceLocation(path)
    return served
