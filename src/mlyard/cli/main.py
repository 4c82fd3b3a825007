"""`mlyard`: the command line, shaped like `az ml` (noun, verb, options; `-o json`, `--query`)."""

from __future__ import annotations

import gc
import sys
from typing import Annotated

import typer

from mlyard.cli import (
    audit,
    batch_deployment,
    batch_endpoint,
    check,
    component,
    compute,
    data,
    environment,
    event,
    init,
    job,
    key,
    maturity,
    model,
    monitor,
    online_deployment,
    online_endpoint,
    registry,
    schedule,
    server,
    ui,
    validate,
    worker,
    workspace,
)
from mlyard.cli.context import WorkspaceOptions
from mlyard.cli.output import printed_for_scripts
from mlyard.cli.output_options import add_output_options
from mlyard.cli.spec_checks import add_spec_checks

app = typer.Typer(
    name="mlyard",
    help="Self-hosted MLOps: experiments, data, models, environments, components, pipelines and sweeps.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # For a script (stderr not a terminal) a usage error is click's plain lines, not a Rich box
    # hard-wrapped at 80 columns.
    rich_markup_mode="rich" if sys.stderr.isatty() else None,
    add_completion=False,
)
app.add_typer(workspace.app, name="workspace")
app.add_typer(job.app, name="job")
app.add_typer(data.app, name="data")
app.add_typer(environment.app, name="environment")
app.add_typer(model.app, name="model")
app.add_typer(component.app, name="component")
app.add_typer(registry.app, name="registry")
app.add_typer(compute.app, name="compute")
app.add_typer(server.app, name="server")
app.add_typer(worker.app, name="worker")
app.add_typer(key.app, name="key")
app.add_typer(audit.app, name="audit")
app.add_typer(online_endpoint.app, name="online-endpoint")
app.add_typer(online_deployment.app, name="online-deployment")
app.add_typer(batch_endpoint.app, name="batch-endpoint")
app.add_typer(batch_deployment.app, name="batch-deployment")
app.command("ui")(ui.ui)
app.add_typer(schedule.app, name="schedule")
app.add_typer(monitor.app, name="monitor")
app.add_typer(event.app, name="event")
app.command("validate")(validate.validate)
app.command("init")(init.init)
app.add_typer(check.app, name="check")
app.command("maturity")(maturity.maturity)


@app.callback()
def main(
    ctx: typer.Context,
    workspace_path: Annotated[
        str | None,
        typer.Option(
            "--workspace",
            "-w",
            envvar="MLYARD_WORKSPACE",
            help="workspace folder (default ./.mlyard)",
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", envvar="MLYARD_DB", help="database URL, e.g. postgresql+psycopg://user@host/db"),
    ] = None,
    artifacts: Annotated[
        str | None,
        typer.Option("--artifacts", envvar="MLYARD_ARTIFACTS", help="artifact store URL (any fsspec URL)"),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--url", envvar="MLYARD_URL", help="a team server, e.g. http://host:8080 (instead of a folder)"
        ),
    ] = None,
    key: Annotated[
        str | None, typer.Option("--key", envvar="MLYARD_KEY", help="API key for --url", show_default=False)
    ] = None,
    workspace_name: Annotated[
        str | None,
        typer.Option(
            "--workspace-name", envvar="MLYARD_WORKSPACE_NAME", help="with --url: default the key's"
        ),
    ] = None,
) -> None:
    ctx.obj = WorkspaceOptions(
        workspace_path, db, artifacts, url or None, key or None, workspace_name or None
    )


@app.command("version")
def version() -> None:
    """Print mlyard's version."""
    from mlyard.version import __version__

    if not printed_for_scripts({"version": __version__}):
        typer.echo(__version__)


add_spec_checks(app)  # every command prints spec warnings; those reading a --file get --strict
add_output_options(app)  # every command above gets -o/--output and --query


def run() -> None:
    """Entry point: our errors become one red line and their exit code, never a traceback."""
    from mlyard.errors import MlyardError

    try:
        app()  # standalone: usage errors print their message and exit 2
    except MlyardError as exc:
        _error(exc.message, exc.exit_code)
    except KeyboardInterrupt:
        _error("interrupted", 130)
    finally:
        gc.freeze()  # the command is done: skip the costly teardown of every object at exit


def _error(message: str, code: int) -> None:
    """`error: …` on stderr, never hard-wrapped; for a script (stderr not a terminal) on one line,
    the lines of a multi-line message (several spec problems, a log tail) joined by ' | '."""
    from rich.console import Console
    from rich.markup import escape

    console = Console(stderr=True, soft_wrap=True)
    if not console.is_terminal:
        message = " | ".join(line.strip() for line in message.splitlines() if line.strip())
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    sys.exit(code)


if __name__ == "__main__":
    run()
