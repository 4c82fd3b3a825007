"""`mlyard server start`: serve the workspace over HTTP (REST API, /healthz, /metrics)."""

from __future__ import annotations

from typing import Annotated

import typer

from mlyard.cli.context import workspace_options
from mlyard.cli.output import say

app = typer.Typer(help="Run the team server: the REST API over a workspace.", no_args_is_help=True)


@app.command("start")
def start(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", help="loopback only until API keys exist: 127.0.0.1, ::1 or localhost")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535, help="0 picks a free port")] = 8080,
) -> None:
    """Serve the workspace (--workspace/--db/--artifacts) as `default` until Ctrl-C; docs at /docs."""
    from mlyard.server.config import ServerConfig, check_loopback
    from mlyard.services.workspace_location import resolve_path

    check_loopback(host)  # before any heavy import: a refused address answers at once
    options = workspace_options(ctx)
    options.open()  # like every command: the workspace is created on first use
    config = ServerConfig.single(resolve_path(options.path), options.db, options.artifacts)

    from mlyard.server.main import serve

    try:
        serve(config, host, port, announce=lambda line: typer.echo(line, err=True))  # one unwrapped line
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C after its graceful shutdown
        say("server stopped")
