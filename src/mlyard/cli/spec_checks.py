"""Spec warnings on every command, and `--strict` on the commands that read a YAML (`--file`).

`add_spec_checks(app)` wraps each command so that the fields its YAML specs had that mlyard does
not know are printed on stderr, one `warning: …` line each, once the command is done (or has
failed) — whether the spec was read here or by a team server (the remote client hands the
server's warnings on). `--strict` (or `MLYARD_STRICT=1`, or the workspace setting `strict_specs`)
makes them errors instead. The rule itself is `mlyard.entities.specs.spec_warnings`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any

import typer

_STRICT_PARAM = "mlyard_strict"
_MARK = "_mlyard_spec_checks"

_STRICT_OPTION = Annotated[
    bool,
    typer.Option(
        "--strict",
        envvar="MLYARD_STRICT",
        help="refuse a YAML with unknown fields instead of warning and ignoring them",
    ),
]


def add_spec_checks(app: typer.Typer) -> None:
    """Wrap every command of `app` and its sub-apps; those with a `--file` option get `--strict`."""
    for command in app.registered_commands:
        if command.callback is not None and not getattr(command.callback, _MARK, False):
            command.callback = _with_spec_checks(command.callback)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            add_spec_checks(group.typer_instance)


def _with_spec_checks(callback: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(callback, eval_str=True)
    reads_files = "file" in signature.parameters

    @functools.wraps(callback)
    def run_with_spec_checks(*args: Any, **kwargs: Any) -> Any:
        from mlyard.entities.specs.spec_warnings import checking_specs

        strict = bool(kwargs.pop(_STRICT_PARAM, False))
        with checking_specs(strict) as checks:
            try:
                return callback(*args, **kwargs)
            finally:
                for line in checks.warnings:
                    typer.echo(f"warning: {line}", err=True)

    if reads_files:
        strict = inspect.Parameter(
            _STRICT_PARAM, inspect.Parameter.KEYWORD_ONLY, default=False, annotation=_STRICT_OPTION
        )
        run_with_spec_checks.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*signature.parameters.values(), strict]
        )
    setattr(run_with_spec_checks, _MARK, True)
    return run_with_spec_checks
