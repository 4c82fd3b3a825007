"""`mlyard model create|list|show|compare|download|archive|restore` and `model alias set|delete`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlyard.cli.context import RegistryNameOption, client_of
from mlyard.cli.output import (
    parse_pairs,
    print_fields,
    print_table,
    printed_for_scripts,
    say,
)

if TYPE_CHECKING:
    from mlyard.entities.registry.model import ModelSignature

app = typer.Typer(help="The model registry: versions, aliases, lineage.", no_args_is_help=True)
alias_app = typer.Typer(
    help="Move named pointers (production, staging, …) between versions.", no_args_is_help=True
)
app.add_typer(alias_app, name="alias")
promotion_app = typer.Typer(
    help="Promotion requests: protected aliases move only once another operator approves.",
    no_args_is_help=True,
)
app.add_typer(promotion_app, name="promotion")


@app.command("create")
def create(
    ctx: typer.Context,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="model YAML (Azure ML's); options below win over it")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", "-n")] = None,
    path: Annotated[Path | None, typer.Option("--path", "-p", help="model folder or file")] = None,
    type: Annotated[
        str | None,
        typer.Option("--type", "-t", help="custom_model (default), mlflow_model or a flavor (sklearn, …)"),
    ] = None,
    version: Annotated[str | None, typer.Option("--version", "-v", help="default: next number")] = None,
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="KEY=VALUE, repeatable")] = None,
    property: Annotated[list[str] | None, typer.Option("--property", help="KEY=VALUE, repeatable")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="with --file: override a field, tags.k=v (repeatable)")
    ] = None,
    registry_name: RegistryNameOption = None,
) -> None:
    """Register a model folder or file (or a model YAML) as a new version."""
    client = client_of(ctx, create=True, registry_name=registry_name)
    tags, properties = parse_pairs(tag, "--tag"), parse_pairs(property, "--property")
    if file is not None:
        # a --path on the command line is relative to where the command runs, not to the YAML
        fields = {"path": path and path.absolute(), "type": type, "description": description}
        # as quoted text, so `--description yes` stays text where a --set value is read as YAML
        overrides = {k: json.dumps(str(v)) for k, v in fields.items() if v is not None}
        overrides |= {f"tags.{k}": json.dumps(v) for k, v in tags.items()}
        overrides |= {f"properties.{k}": json.dumps(v) for k, v in properties.items()}
        overrides |= parse_pairs(set_, "--set")
        model = client.models.create_or_update(file, name, version, overrides)
    else:
        from mlyard.errors import InvalidArgument

        if set_:
            raise InvalidArgument("--set changes the fields of a YAML: give it with --file")
        if name is None or path is None:
            raise InvalidArgument("give a model YAML (--file) or --name and --path")
        model = client.models.create(
            name, path, type or "custom_model", version, description, tags, properties
        )
    if printed_for_scripts(model.summary()):
        return
    say(model.message)


@app.command("list")
def list_models(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="list the versions of this model")] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="KEY=VALUE (VALUE * = any), repeatable")
    ] = None,
    include_archived: Annotated[bool, typer.Option("--include-archived")] = False,
    registry_name: RegistryNameOption = None,
) -> None:
    """Models, or the versions of one model with their aliases."""
    from mlyard.entities.registry.model import Model, ModelVersion

    client = client_of(ctx, registry_name=registry_name)
    tags = parse_pairs(tag, "--tag")
    if name is None:
        models = [m for m in client.models.list(None, tags) if isinstance(m, Model)]
        if printed_for_scripts([m.model_dump(mode="json") for m in models]):
            return
        print_table(
            f"{len(models)} model(s)",
            ["name", "versions", "latest", "aliases", "tags"],
            [[m.name, m.version_count, m.latest_version, m.aliases, m.tags] for m in models],
        )
        return
    versions = [v for v in client.models.list(name, tags, include_archived) if isinstance(v, ModelVersion)]
    if printed_for_scripts([v.summary() for v in versions]):
        return
    print_table(
        f"{name}: {len(versions)} version(s)",
        ["version", "aliases", "flavor", "job", "tags", "archived", "created"],
        [
            [
                v.version,
                v.aliases,
                v.flavor,
                v.job_id,
                v.tags,
                "yes" if v.archived else "",
                v.created_at,
            ]
            for v in versions
        ],
    )


@app.command("show")
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="name:version, name@alias or name@latest")],
    registry_name: RegistryNameOption = None,
) -> None:
    """A model version with its lineage: the run, its data, parameters and metrics."""
    client = client_of(ctx, registry_name=registry_name)
    found = client.models.lineage(ref)
    requests = client.models.promotions(found.model.name, found.model.version)
    # The version's own fields at the top, as `model create` prints them (so `--query version`
    # works the same for both), then its lineage; "model" keeps them nested for older scripts.
    lineage = found.model_dump(mode="json", by_alias=True)
    if printed_for_scripts(
        lineage["model"]
        | lineage
        | {"job_id": found.job_id or found.model.job_id}
        | {"promotions": [r.model_dump(mode="json") for r in requests]}
    ):
        return
    model = found.model
    print_fields(
        f"model {model.ref}",
        {
            "aliases": model.aliases,
            "flavor": model.flavor,
            "description": model.description,
            "tags": model.tags,
            "properties": model.properties,
            "archived": model.archived or None,
            "signature": _describe_signature(model.signature),
            "sha256": model.content_hash,
            "stored at": model.artifact_path,
            "created": model.created_at,
            "created by": model.created_by,
            "produced by job": found.job_id or model.properties.get("mlyard.source.job"),
            "shared from workspace": model.properties.get("mlyard.source.workspace"),
            "from registry": model.properties.get("mlyard.registry.reference"),
            "experiment": found.experiment,
            "params": found.params,
            "metrics": found.metrics,
            "data": [f"{d.name}:{d.version} ({d.content_hash[:12]})" for d in found.data],
            "promotions": [
                f"{r.id} to @{r.alias}: {r.state.value} ({r.decided_by or r.requested_by})" for r in requests
            ],
        },
    )


@app.command("share")
def share(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", "-n", help="the workspace's model")],
    version: Annotated[str, typer.Option("--version", "-v")],
    registry_name: Annotated[str, typer.Option("--registry-name", help="the registry to share into")],
    share_with_name: Annotated[
        str | None, typer.Option("--share-with-name", help="default: the same name")
    ] = None,
    share_with_version: Annotated[
        str | None, typer.Option("--share-with-version", help="default: the registry's next number")
    ] = None,
) -> None:
    """Copy a model version (files, metadata, lineage: workspace, job, params, metrics) into a
    registry; any workspace can then use azureml://registries/REG/models/NAME/versions/N."""
    shared = client_of(ctx).models.share(name, version, registry_name, share_with_name, share_with_version)
    if printed_for_scripts(shared.summary() | {"created": shared.created, "registry": registry_name}):
        return
    reference = f"azureml://registries/{registry_name}/models/{shared.name}/versions/{shared.version}"
    if shared.created:
        say(f"shared {name}:{version} into registry {registry_name} as {reference}")
    else:
        say(f"identical content is already in registry {registry_name} as {reference}; nothing copied")


@app.command("compare")
def compare(
    ctx: typer.Context,
    name: str,
    versions: Annotated[str | None, typer.Option("--versions", help="e.g. 1,2,3 (default: all)")] = None,
) -> None:
    """Metrics and params of the runs behind several versions, side by side."""
    wanted = [v.strip() for v in versions.split(",") if v.strip()] if versions else None
    rows = client_of(ctx).models.compare(name, wanted)
    if printed_for_scripts([r.model_dump(mode="json", by_alias=True) for r in rows]):
        return
    metric_keys = sorted({k for r in rows for k in r.metrics})
    param_keys = sorted({k for r in rows for k in r.params})
    print_table(
        f"{name}: versions side by side",
        ["version", "aliases", "job", *metric_keys, *[f"param {k}" for k in param_keys]],
        [
            [
                r.model.version,
                r.model.aliases,
                r.job_id,
                *[r.metrics.get(k) for k in metric_keys],
                *[r.params.get(k) for k in param_keys],
            ]
            for r in rows
        ],
    )


@app.command("download")
def download(
    ctx: typer.Context,
    ref: str,
    download_path: Annotated[
        Path, typer.Option("--download-path", "-p", help="the version lands in NAME-VERSION/ below it")
    ] = Path("."),
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="replace an existing, non-empty NAME-VERSION/ folder")
    ] = False,
    registry_name: RegistryNameOption = None,
) -> None:
    """Copy a model version's folder to DOWNLOAD_PATH/NAME-VERSION/."""
    target = client_of(ctx, registry_name=registry_name).models.download(ref, download_path, overwrite)
    if not printed_for_scripts({"ref": ref, "path": str(target)}):
        say(f"downloaded {ref} to {target}")


@app.command("archive")
def archive(ctx: typer.Context, ref: Annotated[str, typer.Argument(help="name:version")]) -> None:
    """Hide a version from listings and @latest (it stays loadable by name:version)."""
    model = client_of(ctx).models.archive(ref)
    if not printed_for_scripts(model.summary()):
        say(f"archived model {model.ref}")


@app.command("restore")
def restore(ctx: typer.Context, ref: Annotated[str, typer.Argument(help="name:version")]) -> None:
    """Undo archive."""
    model = client_of(ctx).models.restore(ref)
    if not printed_for_scripts(model.summary()):
        say(f"restored model {model.ref}")


@alias_app.command("set")
def alias_set(
    ctx: typer.Context,
    name: str,
    alias: str,
    version: Annotated[str, typer.Option("--version", "-v")],
) -> None:
    """Point ALIAS of model NAME at a version (e.g. production)."""
    previous = client_of(ctx).models.set_alias(name, alias, version)
    if printed_for_scripts({"name": name, "alias": alias, "version": version, "previous_version": previous}):
        return
    moved = f" (was {previous})" if previous and previous != version else ""
    say(f"{name}@{alias} → version {version}{moved}")


@alias_app.command("delete")
def alias_delete(ctx: typer.Context, name: str, alias: str) -> None:
    """Remove an alias."""
    client_of(ctx).models.delete_alias(name, alias)
    if not printed_for_scripts({"name": name, "alias": alias, "deleted": True}):
        say(f"removed {name}@{alias}")


@alias_app.command("list")
def alias_list(ctx: typer.Context, name: str) -> None:
    """The aliases of a model and the versions they point at."""
    aliases = client_of(ctx).models.aliases(name)
    if not printed_for_scripts(aliases):
        print_table(f"aliases of {name}", ["alias", "version"], list(aliases.items()))


# --- gated promotion -----------------------------------------------------------------------------


@app.command("promote")
def promote(
    ctx: typer.Context,
    name: str,
    version: Annotated[str, typer.Option("--version", "-v")],
    to: Annotated[str, typer.Option("--to", help="the (protected) alias to move")] = "production",
    reason: Annotated[str, typer.Option("--reason", "-r", help="why; the approver reads it")] = "",
) -> None:
    """Request that alias --to move to a version; another operator approves it (mlyard model approve)."""
    request = client_of(ctx).models.promote(name, version, to, reason)
    if printed_for_scripts(request.model_dump(mode="json")):
        return
    say(
        f"promotion {request.id} requested: {request.target}; approve with: mlyard model approve {request.id}"
    )


@app.command("approve")
def approve(
    ctx: typer.Context,
    request_id: str,
    comment: Annotated[str | None, typer.Option("--comment", "-c")] = None,
) -> None:
    """Approve a pending promotion (not your own): the alias moves now."""
    request = client_of(ctx).models.approve(request_id, comment)
    if printed_for_scripts(request.model_dump(mode="json")):
        return
    previous = f" (was {request.previous_version})" if request.previous_version else ""
    say(f"approved {request.id}: {request.model_name}@{request.alias} → version {request.version}{previous}")


@app.command("reject")
def reject(
    ctx: typer.Context,
    request_id: str,
    reason: Annotated[str, typer.Option("--reason", "-r", help="why; the requester reads it")],
) -> None:
    """Reject a pending promotion with a reason; the alias stays where it is."""
    request = client_of(ctx).models.reject(request_id, reason)
    if not printed_for_scripts(request.model_dump(mode="json")):
        say(f"rejected {request.id}: {request.target}")


@promotion_app.command("list")
def promotion_list(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="only this model's requests")] = None,
    state: Annotated[
        str | None, typer.Option("--state", help="pending, approved, rejected, canceled")
    ] = None,
) -> None:
    """Promotion requests, newest first."""
    requests = client_of(ctx).models.promotions(name, None, state)
    if printed_for_scripts([r.model_dump(mode="json") for r in requests]):
        return
    print_table(
        f"{len(requests)} promotion request(s)",
        ["id", "model", "version", "alias", "state", "requested by", "decided by", "reason"],
        [[r.id, r.model_name, r.version, r.alias, r.state.value, r.requested_by, r.decided_by, r.reason]
         for r in requests],
    )  # fmt: skip


@promotion_app.command("show")
def promotion_show(ctx: typer.Context, request_id: str) -> None:
    request = client_of(ctx).models.get_promotion(request_id)
    if printed_for_scripts(request.model_dump(mode="json")):
        return
    print_fields(f"promotion {request.id}", request.model_dump())


@promotion_app.command("cancel")
def promotion_cancel(ctx: typer.Context, request_id: str) -> None:
    """Withdraw your own pending request."""
    request = client_of(ctx).models.cancel_promotion(request_id)
    if not printed_for_scripts(request.model_dump(mode="json")):
        say(f"canceled {request.id}: {request.target}")


def _describe_signature(signature: ModelSignature | None) -> str | None:
    """`age: number, sex: number, …` for columns; `tensor [None, 10] float64` for arrays."""
    if signature is None:
        return None
    if signature.kind == "columns":
        return ", ".join(f"{c.get('name')}: {c.get('type')}" for c in signature.columns or [])
    return f"tensor {signature.shape} {signature.dtype or ''}".strip()
