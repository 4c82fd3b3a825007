"""`-o/--output` and `--query` on every command, as `az` has them, attached in one place.

`add_output_options(app)` adds both options to each command of the app tree once the CLI is
assembled (`mlyard.cli.main`), so no command declares them and none can miss them. Before the
command runs, its choice is checked (a bad JMESPath query fails before anything is done) and kept
for the length of the command, where `mlyard.cli.output` reads it to print the command's result.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import typer
from typer.models import OptionInfo

# Not `output`/`query`: a command may well have its own option of that name (an output path).
_FORMAT_PARAM = "mlyard_output"
_QUERY_PARAM = "mlyard_query"
_MARK = "_mlyard_output_options"
RESERVED_OPTIONS = ("-o", "--output", "--query")


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    tsv = "tsv"
    yaml = "yaml"
    none = "none"


@dataclass(frozen=True)
class OutputSettings:
    """What the user asked the command to print: a format, and a JMESPath query over the result."""

    format: OutputFormat = OutputFormat.table
    query: str | None = None

    @property
    def for_people(self) -> bool:
        """True for the default: the command's own table and messages, no query to apply."""
        return self.format == OutputFormat.table and self.query is None


_FORMAT_OPTION = Annotated[
    OutputFormat,
    typer.Option(
        "--output",
        "-o",
        case_sensitive=False,
        help="table (and messages) for people; json, tsv or yaml for scripts; none prints nothing",
    ),
]
_QUERY_OPTION = Annotated[
    str | None,
    typer.Option(
        "--query", metavar="JMESPATH", help="JMESPath applied to the result, e.g. --query name -o tsv"
    ),
]


# Set by the wrapper for the length of one command, so the printing helpers need no parameter.
_current: ContextVar[OutputSettings | None] = ContextVar("mlyard_output_settings", default=None)


def current_settings() -> OutputSettings:
    """The running command's output settings (the defaults outside a command)."""
    return _current.get() or OutputSettings()


def add_output_options(app: typer.Typer) -> None:
    """Give every command of `app` and of the apps added to it `-o/--output` and `--query`.

    Done on the Typer callbacks (their signatures gain two keyword-only parameters), so Typer
    builds the options as it builds every other one. Call it once every sub-app is added.
    """
    for command in app.registered_commands:
        if command.callback is not None and not getattr(command.callback, _MARK, False):
            command.callback = _with_output_options(command.callback, command.name)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            add_output_options(group.typer_instance)


def _with_output_options(callback: Callable[..., Any], name: str | None) -> Callable[..., Any]:
    signature = inspect.signature(callback, eval_str=True)
    clashes = [decl for parameter in signature.parameters.values() for decl in _option_names(parameter)
               if decl in RESERVED_OPTIONS]  # fmt: skip
    if clashes:
        raise RuntimeError(
            f"command {name or callback.__name__!r} declares {', '.join(clashes)}: those options are "
            "every command's output options (mlyard.cli.output_options); name yours differently"
        )

    @functools.wraps(callback)
    def run_with_output_options(*args: Any, **kwargs: Any) -> Any:
        output_format = OutputFormat(kwargs.pop(_FORMAT_PARAM))
        query = kwargs.pop(_QUERY_PARAM)
        if query is not None:
            _check_query(query)  # before the command acts: a typo must not follow a half-reported change
        token = _current.set(OutputSettings(output_format, query))
        try:
            return callback(*args, **kwargs)
        finally:
            _current.reset(token)

    added = [
        inspect.Parameter(
            _FORMAT_PARAM,
            inspect.Parameter.KEYWORD_ONLY,
            default=OutputFormat.table,
            annotation=_FORMAT_OPTION,
        ),
        inspect.Parameter(
            _QUERY_PARAM, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=_QUERY_OPTION
        ),
    ]
    run_with_output_options.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), *added]
    )
    setattr(run_with_output_options, _MARK, True)
    return run_with_output_options


def _option_names(parameter: inspect.Parameter) -> list[str]:
    """The option strings (`--owner`, `-o`) a Typer parameter declares, in either style."""
    infos = [*getattr(parameter.annotation, "__metadata__", ()), parameter.default]
    return [
        decl
        for info in infos
        if isinstance(info, OptionInfo)
        for decl in (info.default, *(info.param_decls or ()))
        if isinstance(decl, str)
    ]


def _check_query(query: str) -> None:
    import jmespath
    from jmespath.exceptions import JMESPathError

    from mlyard.errors import InvalidArgument

    try:
        jmespath.compile(query)
    except JMESPathError as exc:
        problem = " ".join(str(exc).split())
        raise InvalidArgument(f"--query {query!r} is not a JMESPath expression: {problem}") from None
