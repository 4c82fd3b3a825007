"""`mlyard audit list`: who changed what, when and from where."""

from __future__ import annotations

from typing import Annotated

import typer

from mlyard.cli.context import client_of
from mlyard.cli.output import print_table, printed_for_scripts

app = typer.Typer(help="The append-only audit trail of a workspace.", no_args_is_help=True)


@app.command("list")
def list_events(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option("--since", help="2026-11-30, 2026-11-30T08:00, 12h, 7d")
    ] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="a key owner or local user")] = None,
    entity: Annotated[
        str | None, typer.Option("--entity", help="TYPE or TYPE:ID, e.g. model or model:diabetes-ridge")
    ] = None,
    action: Annotated[
        list[str] | None, typer.Option("--action", help="e.g. model.alias.set (repeatable)")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10_000)] = 100,
) -> None:
    """Changes newest first: when, who (role, address), what, before → after."""
    from mlyard.entities.governance.access import (
        parse_since,  # pydantic: loaded only by commands that need it
    )

    entity_type, _, entity_id = (entity or "").partition(":")
    events = client_of(ctx).audit.list(
        parse_since(since), None, actor, entity_type or None, entity_id or None, action, limit
    )
    if printed_for_scripts([e.model_dump(mode="json") for e in events]):
        return
    print_table(
        f"{len(events)} audit event(s)",
        ["when", "actor", "role", "from", "action", "entity", "summary"],
        [[e.at, e.actor, e.role, e.address or e.via, e.action, f"{e.entity_type}:{e.entity_id}", e.summary]
         for e in events],
    )  # fmt: skip
