"""How the CLI prints. People get Rich tables and one-line messages (on stderr); scripts get the
command's result as `-o json|tsv|yaml` (or nothing with `-o none`), after `--query` (JMESPath),
as in `az`. Every command hands its result to `printed_for_scripts`; the options themselves are
attached to every command in `mlyard.cli.output_options`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import typer

from mlyard.cli.output_options import OutputFormat, current_settings


def for_people() -> bool:
    """True when the command prints its own table and messages (no -o json/tsv/yaml/none, no --query)."""
    return current_settings().for_people


def printed_for_scripts(result: Any) -> bool:
    """Print `result` as the user asked (--query, then -o json|tsv|yaml|none) and return True; return
    False, printing nothing, when the default is in force: the caller then prints for people."""
    settings = current_settings()
    if settings.for_people:
        return False
    data = json.loads(json.dumps(result, default=str))  # plain JSON types: dates and paths as text
    if settings.query is not None:
        import jmespath

        data = jmespath.search(settings.query, data)
    if settings.format == OutputFormat.json:
        print_json(data)
    elif settings.format == OutputFormat.tsv:
        sys.stdout.write(to_tsv(data))
    elif settings.format == OutputFormat.yaml:
        import yaml

        sys.stdout.write(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    elif settings.format == OutputFormat.table:
        _print_any_table(data)  # -o table with --query: the selection as a table, as az does
    return True


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def to_tsv(data: Any) -> str:
    """az's tsv: a scalar bare; a list one row per item; a dict's values tab-separated, in field order.

    Nested lists and dicts appear as compact JSON in their cell; null is empty; booleans are
    `true`/`false` as in JSON. A lone scalar is printed as it is (multi-line text stays multi-line).
    """
    rows = data if isinstance(data, list) else [data]
    return "".join(_tsv_row(row) + "\n" for row in rows)


def _tsv_row(item: Any) -> str:
    if isinstance(item, dict):
        return "\t".join(_tsv_cell(value) for value in item.values())
    if isinstance(item, list):
        return "\t".join(_tsv_cell(value) for value in item)
    return _tsv_scalar(item)


def _tsv_cell(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    # A tab or newline inside a value would break the row/column grid that `cut` and `read` rely on.
    return " ".join(value.splitlines()).replace("\t", " ") if isinstance(value, str) else _tsv_scalar(value)


def _tsv_scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _print_any_table(data: Any) -> None:
    """A query's selection as a table: a row per dict (its keys are the columns), a dict as one row."""
    rows = data if isinstance(data, list) else [data]
    if not any(isinstance(row, dict) for row in rows):
        if isinstance(data, list):
            print_table(None, ["Result"], [[row] for row in rows])
        elif data is not None:
            typer.echo(format_cell(data))
        return
    columns = list(dict.fromkeys(key for row in rows if isinstance(row, dict) for key in row))
    print_table(
        None, columns, [[row.get(c) if isinstance(row, dict) else row for c in columns] for row in rows]
    )


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
