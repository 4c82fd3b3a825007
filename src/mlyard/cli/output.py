"""How the CLI prints: Rich tables for people, JSON for scripts (`--output json`)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated, Any

import typer


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


OutputOption = Annotated[
    OutputFormat, typer.Option("--output", "-o", help="table for people, json for scripts")
]


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        # Values are data, not Rich markup: `scikit-learn[alldeps]` must show its brackets.
        table.add_row(*[escape(format_cell(cell)) for cell in row])
    Console().print(table)


def print_fields(title: str, fields: dict[str, Any]) -> None:
    """A two-column key/value listing for `show` commands."""
    print_table(title, ["field", "value"], [[k, v] for k, v in fields.items() if v not in (None, {}, [])])


def say(message: str) -> None:
    from rich.console import Console

    # soft_wrap: a message is one line however narrow the terminal (or the 80 columns Rich assumes
    # when stderr is a pipe), so a suggested command stays whole and copyable.
    Console(stderr=True, soft_wrap=True).print(message, highlight=False)


def format_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={format_cell(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(format_cell(v) for v in value)
    if hasattr(value, "isoformat"):
        return str(value.strftime("%Y-%m-%d %H:%M:%S"))
    return str(value)


def parse_pairs(pairs: list[str] | None, option: str) -> dict[str, str]:
    """`--tag k=v` style options into a dict; a pair without '=' is a usage error."""
    from mlyard.errors import InvalidArgument

    result = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidArgument(f"{option} expects KEY=VALUE, got {pair!r}")
        result[key] = value
    return result
