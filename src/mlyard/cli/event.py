"""`mlyard event list|show` and `mlyard event subscription create|list|show|update|delete|
deliveries|redeliver|rotate-secret`: what happened, and who hears of it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlyard.cli.context import client_of
from mlyard.cli.output import (
    parse_pairs,
    print_fields,
    print_table,
    printed_for_scripts,
    say,
)

if TYPE_CHECKING:
    from mlyard.entities.automation.subscription import CreatedSubscription, Subscription

app = typer.Typer(help="Lifecycle events (CloudEvents) and subscriptions to them.", no_args_is_help=True)
subscription_app = typer.Typer(help="Webhook and email subscriptions to events.", no_args_is_help=True)
app.add_typer(subscription_app, name="subscription")

TypesOption = Annotated[
    list[str] | None,
    typer.Option("--types", "--type", "-t", help="ModelRegistered, RunCompleted, … (repeatable)"),
]
FilterOption = Annotated[
    list[str] | None,
    typer.Option(
        "--filter", help="FIELD=VALUE or glob: subject=models/diabetes*, ModelName=diabetes (repeatable)"
    ),
]


@app.command("list")
def list_events(
    ctx: typer.Context,
    types: TypesOption = None,
    subject: Annotated[str | None, typer.Option("--subject", help="a glob, e.g. models/diabetes*")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="2026-11-30, 2026-11-30T08:00, 12h, 7d")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10_000)] = 100,
) -> None:
    """Events newest first."""
    from mlyard.entities.automation.event import short_name
    from mlyard.entities.governance.access import (
        parse_since,  # pydantic: loaded only by commands that need it
    )

    found = client_of(ctx).events.list(types or (), subject, parse_since(since), None, limit)
    if printed_for_scripts([event.cloudevent() for event in found]):
        return
    print_table(
        f"{len(found)} event(s)",
        ["time", "type", "subject", "id"],
        [[e.time, short_name(e.type), e.subject, e.id] for e in found],
    )


@app.command("show")
def show_event(ctx: typer.Context, event_id: str) -> None:
    """One event, as a webhook receives it."""
    event = client_of(ctx).events.get(event_id)
    if printed_for_scripts(event.cloudevent()):
        return
    print_fields(f"event {event.id}", event.model_dump(exclude={"data"}) | {"data": event.data})


@subscription_app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option("--name", help="the subscription's name")] = None,
    types: TypesOption = None,
    filter: FilterOption = None,
    webhook: Annotated[
        str | None, typer.Option("--webhook", help="an http(s) URL to POST each event to")
    ] = None,
    email: Annotated[
        list[str] | None, typer.Option("--email", help="an address to mail (repeatable)")
    ] = None,
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="a subscription YAML instead")] = None,
) -> None:
    """Subscribe a webhook (signed, Standard Webhooks) or email addresses to events.

    A webhook's signing secret (whsec_…) is printed this once; `-o json` includes it.
    """
    events = client_of(ctx, create=True).events
    if file is not None:
        created = events.subscriptions.create_from_file(file)
    else:
        if not name:
            from mlyard.errors import InvalidArgument

            raise InvalidArgument("--name is needed (or --file with a subscription YAML)")
        created = events.subscriptions.create(
            name, types or (), parse_pairs(filter, "--filter"), webhook, email or (), description
        )
    _print_created(created, "created")


@subscription_app.command("list")
def list_subscriptions(ctx: typer.Context) -> None:
    """Every subscription (never their secrets)."""
    from mlyard.entities.automation.event import short_name

    found = client_of(ctx).events.subscriptions.list()
    if printed_for_scripts([s.model_dump(mode="json") for s in found]):
        return
    print_table(
        f"{len(found)} subscription(s)",
        ["name", "types", "filter", "target", "enabled"],
        [[s.name, [short_name(t) for t in s.types] or "(all)", s.filter, _target(s), s.enabled]
         for s in found],
    )  # fmt: skip


@subscription_app.command("show")
def show(ctx: typer.Context, name: str) -> None:
    subscription = client_of(ctx).events.subscriptions.get(name)
    if printed_for_scripts(subscription.model_dump(mode="json")):
        return
    print_fields(f"subscription {name}", subscription.model_dump())


@subscription_app.command("update")
def update(
    ctx: typer.Context,
    name: str,
    types: TypesOption = None,
    filter: FilterOption = None,
    webhook: Annotated[str | None, typer.Option("--webhook")] = None,
    email: Annotated[list[str] | None, typer.Option("--email")] = None,
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    enabled: Annotated[bool | None, typer.Option("--enabled/--disabled")] = None,
) -> None:
    """Change what is given; the rest stays."""
    updated = client_of(ctx).events.subscriptions.update(
        name, types, None if filter is None else parse_pairs(filter, "--filter"), webhook, email, description,
        enabled,
    )  # fmt: skip
    if printed_for_scripts(updated.model_dump(mode="json")):
        return
    say(f"updated subscription {name}")
    print_fields(f"subscription {name}", updated.model_dump())


@subscription_app.command("delete")
def delete(ctx: typer.Context, name: str) -> None:
    """Remove a subscription and its deliveries (the events stay)."""
    client_of(ctx).events.subscriptions.delete(name)
    if not printed_for_scripts({"name": name, "deleted": True}):
        say(f"deleted subscription {name}")


@subscription_app.command("deliveries")
def deliveries(
    ctx: typer.Context,
    name: str,
    state: Annotated[
        list[str] | None, typer.Option("--state", help="pending, delivering, succeeded, dead")
    ] = None,
    event_id: Annotated[str | None, typer.Option("--event-id")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10_000)] = 100,
) -> None:
    """Deliveries newest first, with their attempts (status code, latency, error)."""
    from mlyard.entities.automation.event import short_name

    found = client_of(ctx).events.subscriptions.deliveries(name, state or (), event_id, limit)
    if printed_for_scripts([d.model_dump(mode="json") for d in found]):
        return
    print_table(
        f"{len(found)} deliveries of {name}",
        ["id", "event", "type", "state", "attempts", "last status", "latency ms", "next attempt", "error"],
        [[d.id, d.event_id, short_name(d.event_type), d.state.value, d.attempts, d.last_status_code,
          d.history[-1].latency_ms if d.history else None, d.next_attempt_at, d.last_error] for d in found],
    )  # fmt: skip


@subscription_app.command("redeliver")
def redeliver(
    ctx: typer.Context,
    name: str,
    delivery_id: Annotated[list[int] | None, typer.Option("--delivery-id", help="repeatable")] = None,
    dead: Annotated[bool, typer.Option("--dead", help="every dead letter of the subscription")] = False,
) -> None:
    """Send deliveries again, from their first attempt (the event keeps its id)."""
    queued = client_of(ctx).events.subscriptions.redeliver(name, delivery_id or (), dead)
    if not printed_for_scripts({"name": name, "queued": queued}):
        say(f"{queued} deliveries of {name} queued again")


@subscription_app.command("rotate-secret")
def rotate_secret(
    ctx: typer.Context,
    name: str,
    overlap_hours: Annotated[float, typer.Option("--overlap-hours", min=0, max=720)] = 24.0,
) -> None:
    """A new signing secret, printed this once; the old one keeps signing for --overlap-hours."""
    created = client_of(ctx).events.subscriptions.rotate_secret(name, overlap_hours)
    _print_created(created, "rotated the secret of")


def _print_created(created: CreatedSubscription, what: str) -> None:
    subscription = created.subscription
    if printed_for_scripts(subscription.model_dump(mode="json") | {"secret": created.secret}):
        return
    say(f"{what} subscription {subscription.name}: {_target(subscription)}")
    if created.secret:
        say("its signing secret is shown this once; receivers check it with mlyard.events.verify:")
        typer.echo(created.secret)


def _target(subscription: Subscription) -> str:
    return subscription.webhook_url or ", ".join(subscription.emails)
