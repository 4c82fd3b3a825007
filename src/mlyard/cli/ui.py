"""`mlyard ui`: the studio over the local workspace, on a loopback port, opened in the browser."""

from __future__ import annotations

from typing import Annotated

import typer

from mlyard.cli.context import workspace_options
from mlyard.cli.output import say


def ui(
    ctx: typer.Context,
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535, help="0 picks a free port")] = 0,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="print the URL only")] = False,
) -> None:
    """Open the studio (web UI) on the workspace: a server on 127.0.0.1 only, until Ctrl-C.

    With a browser on this machine the page opens in it; otherwise open the printed URL.
    """
    from mlyard.services.workspaces.workspace_location import resolve_path

    options = workspace_options(ctx)
    options.open(create=True)  # the studio of a new folder: its workspace is created, as by `server start`
    import gc

    from mlyard.server.config import ServerConfig
    from mlyard.server.main import prepare

    config = ServerConfig.single(resolve_path(options.path), options.db, options.artifacts)
    config.background = True  # the embedded worker runs jobs submitted meanwhile, as the server does
    server, listener, url = prepare(config, "127.0.0.1", port)
    opened = not no_browser and _open_browser(url + "/")
    typer.echo(f"mlyard studio: {url}/" + ("" if opened else " (open it in a browser)"), err=True)
    gc.freeze()  # as `server start` does: the server's long-lived heap is left out of collections
    try:
        server.run(sockets=[listener])
    except KeyboardInterrupt:
        say("studio stopped")


def _open_browser(url: str) -> bool:
    """Whether a browser took the URL (none on a headless machine: the URL is printed instead)."""
    import webbrowser

    try:
        return webbrowser.get().open(url)
    except webbrowser.Error:
        return False
