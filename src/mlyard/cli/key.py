"""`mlyard key create|list|revoke`: API keys of a workspace (admin)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from mlyard.cli.context import RegistryNameOption, client_of
from mlyard.cli.output import print_table, printed_for_scripts, say

app = typer.Typer(
    help="API keys with roles (reader, contributor, operator, admin) for the team server.",
    no_args_is_help=True,
)


@app.command("create")
def create(
    ctx: typer.Context,
    owner: Annotated[str, typer.Option("--owner", help="the person or service it acts as")],
    role: Annotated[str, typer.Option("--role", "-r", help="reader, contributor, operator or admin")],
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    expires_in_days: Annotated[float | None, typer.Option("--expires-in-days", min=0.0)] = None,
    registry_name: RegistryNameOption = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token", help="give this existing key (e.g. a workspace's) a role here instead of a new one"
        ),
    ] = None,
) -> None:
    """Create a key; its secret is printed this once (only a hash of it is stored).

    On the workspace's own machine this needs no key: it is how the first admin key is made.
    """
    client = client_of(ctx, create=True, registry_name=registry_name)
    created = client.keys.create(owner, role, description, expires_in_days, token=token)
    if printed_for_scripts(created.key.model_dump(mode="json") | {"token": created.token}):
        return
    say(f"created key {created.key.id} for {owner} with role {created.key.role.value}; it is shown once:")
    typer.echo(created.token)
    say("use it as MLYARD_KEY=<key> (or Authorization: Bearer <key>)")


@app.command("list")
def list_keys(ctx: typer.Context, registry_name: RegistryNameOption = None) -> None:
    """The workspace's (or a registry's) keys (never their secrets)."""
    found = client_of(ctx, registry_name=registry_name).keys.list()
    now = datetime.now(UTC)
    if printed_for_scripts([k.model_dump(mode="json") | {"state": k.state(now)} for k in found]):
        return
    print_table(
        f"{len(found)} key(s)",
        ["id", "owner", "role", "state", "created", "by", "expires", "last used", "description"],
        [[k.id, k.owner, k.role.value, k.state(now), k.created_at, k.created_by, k.expires_at, k.last_used_at,
          k.description] for k in found],
    )  # fmt: skip


@app.command("revoke")
def revoke(ctx: typer.Context, key_id: str) -> None:
    """Revoke a key: requests with it are refused within seconds."""
    client_of(ctx).keys.revoke(key_id)
    if not printed_for_scripts({"id": key_id, "revoked": True}):
        say(f"revoked key {key_id}")
