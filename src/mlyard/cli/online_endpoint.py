"""`mlyard online-endpoint create|show|list|update|delete|invoke|get-credentials|regenerate-keys|metrics`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlyard.cli.context import client_of
from mlyard.cli.output import print_fields, print_json, print_table, printed_for_scripts, say

if TYPE_CHECKING:
    from mlyard.entities.endpoints.endpoint import EndpointCredentials, OnlineEndpoint

app = typer.Typer(
    help="Online endpoints: a scoring URL with keys or tokens, and a traffic split over deployments.",
    no_args_is_help=True,
)
NameOption = Annotated[str, typer.Option("--name", "-n", help="the endpoint's name")]


@app.command("create")
def create(
    ctx: typer.Context,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="endpoint YAML (Azure ML's)")] = None,
    name: Annotated[str | None, typer.Option("--name", "-n", help="overrides the file's name")] = None,
    auth_mode: Annotated[str | None, typer.Option("--auth-mode", help="key (default) or aml_token")] = None,
) -> None:
    """Create an endpoint (its keys are generated); add deployments with `online-deployment create`."""
    from mlyard.entities.specs.spec_files import load_yaml
    from mlyard.errors import InvalidArgument

    if file is None and name is None:
        raise InvalidArgument("give the endpoint's YAML (--file) or at least its --name")
    overrides = {k: v for k, v in (("name", name), ("auth_mode", auth_mode)) if v is not None}
    spec = file if file is not None and not overrides else {**(load_yaml(file) if file else {}), **overrides}
    endpoint = client_of(ctx, create=True).online_endpoints.create(spec)
    _print(endpoint, f"created online endpoint {endpoint.name} (auth_mode {endpoint.auth_mode})")


@app.command("show")
def show(ctx: typer.Context, name: NameOption) -> None:
    """The endpoint: auth mode, traffic, mirror traffic, scoring URI."""
    _print(client_of(ctx).online_endpoints.get(name))


@app.command("list")
def list_endpoints(ctx: typer.Context) -> None:
    """Every online endpoint of the workspace."""
    endpoints = client_of(ctx).online_endpoints.list()
    if printed_for_scripts([e.model_dump(mode="json") for e in endpoints]):
        return
    print_table(
        f"{len(endpoints)} online endpoint(s)",
        ["name", "auth_mode", "traffic", "mirror_traffic", "scoring_uri"],
        [[e.name, e.auth_mode, e.traffic, e.mirror_traffic, e.scoring_uri] for e in endpoints],
    )


@app.command("update")
def update(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option("--name", "-n", help="default: the file's name")] = None,
    traffic: Annotated[
        str | None, typer.Option("--traffic", "-r", help='"blue=90 green=10": sums to 100, or all 0')
    ] = None,
    mirror_traffic: Annotated[
        str | None, typer.Option("--mirror-traffic", help='"green=10": at most 50; "" removes it')
    ] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="endpoint YAML: traffic, tags…")] = None,
) -> None:
    """Move live traffic between deployments, or mirror a share of it to one."""
    from mlyard.entities.endpoints.endpoint_spec import endpoint_spec_from_dict, parse_traffic
    from mlyard.entities.specs.spec_files import load_yaml
    from mlyard.errors import InvalidArgument

    spec = endpoint_spec_from_dict(load_yaml(file), str(file)) if file is not None else None
    chosen = name or (spec.name if spec else None)
    if chosen is None:
        raise InvalidArgument("give the endpoint's --name (or --file)")
    live = (
        parse_traffic(traffic) if traffic is not None else (spec.traffic if spec and spec.traffic else None)
    )
    mirror = (
        parse_traffic(mirror_traffic, "--mirror-traffic")
        if mirror_traffic is not None
        else (spec.mirror_traffic if spec and spec.mirror_traffic else None)
    )
    endpoint = client_of(ctx).online_endpoints.update(
        chosen, live, mirror, spec.description if spec else None, spec.tags if spec and spec.tags else None
    )
    _print(endpoint, f"updated online endpoint {endpoint.name}")


@app.command("delete")
def delete(
    ctx: typer.Context,
    name: NameOption,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="accepted for az ml compatibility")] = False,
) -> None:
    """Delete the endpoint and all its deployments."""
    client_of(ctx).online_endpoints.delete(name)
    if not printed_for_scripts({"name": name, "deleted": True}):
        say(f"deleted online endpoint {name}")


@app.command("invoke")
def invoke(
    ctx: typer.Context,
    name: NameOption,
    request_file: Annotated[Path, typer.Option("--request-file", "-r", help="the JSON body to send")],
    deployment_name: Annotated[
        str | None, typer.Option("--deployment-name", "-d", help="pin this deployment (any traffic share)")
    ] = None,
) -> None:
    """Send a scoring request to the endpoint and print its answer (as sent; -o/--query read it as JSON)."""
    answer = client_of(ctx).online_endpoints.invoke(name, request_file, deployment_name=deployment_name)
    if not printed_for_scripts(_parsed(answer)):
        sys.stdout.write(answer + ("\n" if not answer.endswith("\n") else ""))


@app.command("get-credentials")
def get_credentials(
    ctx: typer.Context,
    name: NameOption,
    token_lifetime: Annotated[
        float | None, typer.Option("--token-lifetime", help="seconds an aml_token stays valid (default 3600)")
    ] = None,
) -> None:
    """The endpoint's keys (primaryKey, secondaryKey), or a new token (accessToken, expiryTimeUtc)."""
    credentials = _credentials_json(client_of(ctx).online_endpoints.get_credentials(name, token_lifetime))
    if not printed_for_scripts(credentials):
        print_json(credentials)  # people too get JSON here, the shape `az ml` prints and scripts parse


@app.command("regenerate-keys")
def regenerate_keys(
    ctx: typer.Context,
    name: NameOption,
    key_type: Annotated[str, typer.Option("--key-type", help="primary or secondary")] = "primary",
) -> None:
    """Replace one key; the other keeps working meanwhile (-o json prints the new keys)."""
    credentials = client_of(ctx).online_endpoints.regenerate_keys(name, key_type)
    if not printed_for_scripts(_credentials_json(credentials)):
        say(f"regenerated the {key_type} key of online endpoint {name}")


@app.command("metrics")
def metrics(
    ctx: typer.Context,
    name: NameOption,
    window: Annotated[
        int | None,
        typer.Option("--window", help="seconds to look back in the server's live window (at most 900)"),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="persisted minutes from: 90m, 24h, 7d or an ISO date/time (UTC)"),
    ] = None,
    deployment: Annotated[str | None, typer.Option("--deployment", "-d", help="only this deployment")] = None,
) -> None:
    """Requests/s, errors and P50/P95/P99 latency per deployment, from the gateway: its live window
    (--window, default 60 s) or the per-minute history that outlives restarts (--since)."""
    if window is not None and since is not None:
        from mlyard.errors import InvalidArgument

        raise InvalidArgument("give --window (the live window) or --since (the history), not both")
    summary = client_of(ctx).online_endpoints.metrics(name, window or 60, since, deployment)
    if printed_for_scripts(summary.model_dump(mode="json")):
        return
    rows = [("(all)", summary.total), *summary.deployments.items()]
    title = f"online endpoint {name}: last {summary.window_seconds} s"
    if summary.start is not None:
        minutes = summary.window_seconds // 60
        title = f"online endpoint {name}: since {summary.start:%Y-%m-%d %H:%M} UTC ({minutes} min)"
    print_table(
        title,
        ["deployment", "requests", "req/s", "errors", "statuses", "P50 ms", "P95 ms", "P99 ms", "mirrored"],
        [
            [
                d,
                s.requests,
                round(s.requests_per_second, 3),
                s.errors,
                s.status_counts,
                s.latency_ms.p50,
                s.latency_ms.p95,
                s.latency_ms.p99,
                s.mirrored,
            ]
            for d, s in rows
        ],  # fmt: skip
    )


def _credentials_json(credentials: EndpointCredentials) -> dict[str, object]:
    return credentials.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"auth_mode"})


def _parsed(answer: str) -> object:
    """A scoring answer as JSON data for --query and -o, or as the text it is when it is not JSON."""
    import json

    try:
        parsed: object = json.loads(answer)
    except ValueError:
        return answer
    return parsed


def _print(endpoint: OnlineEndpoint, message: str | None = None) -> None:
    if printed_for_scripts(endpoint.model_dump(mode="json")):
        return
    if message:
        say(message)
    print_fields(
        f"online endpoint {endpoint.name}",
        {
            "auth_mode": endpoint.auth_mode,
            "traffic": endpoint.traffic or "(none: every deployment at 0)",
            "mirror_traffic": endpoint.mirror_traffic,
            "scoring_uri": endpoint.scoring_uri or "(no server serves this workspace: mlyard server start)",
            "openapi_uri": endpoint.openapi_uri,
            "description": endpoint.description,
            "tags": endpoint.tags,
            "provisioning_state": endpoint.provisioning_state,
            "created": endpoint.created_at,
            "created by": endpoint.created_by,
        },
    )
