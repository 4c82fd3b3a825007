"""`mlyard model create|list|show|compare|download|archive|restore` and `model alias set|delete`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlyard.cli.context import workspace_of
from mlyard.cli.output import (
    OutputFormat,
    OutputOption,
    parse_pairs,
    print_fields,
    print_json,
    print_table,
    say,
)

if TYPE_CHECKING:
    from mlyard.entities.model import ModelSignature

app = typer.Typer(help="The model registry: versions, aliases, lineage.", no_args_is_help=True)
alias_app = typer.Typer(
    help="Move named pointers (production, staging, …) between versions.", no_args_is_help=True
)
app.add_typer(alias_app, name="alias")


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", "-n")],
    path: Annotated[Path, typer.Option("--path", "-p", help="model folder or file")],
    type: Annotated[
        str, typer.Option("--type", "-t", help="custom_model, mlflow_model or sklearn")
    ] = "custom_model",
    version: Annotated[str | None, typer.Option("--version", "-v", help="default: next number")] = None,
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="KEY=VALUE, repeatable")] = None,
    property: Annotated[list[str] | None, typer.Option("--property", help="KEY=VALUE, repeatable")] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Register a model folder or file as a new version."""
    from mlyard.services.models import register_model_folder

    model = register_model_folder(
        workspace_of(ctx),
        name,
        path,
        type,
        version,
        description,
        parse_pairs(tag, "--tag"),
        parse_pairs(property, "--property"),
    )
    if output == OutputFormat.json:
        print_json(model.summary())
        return
    say(f"registered model {model.ref}")


@app.command("list")
def list_models(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="list the versions of this model")] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="KEY=VALUE (VALUE * = any), repeatable")
    ] = None,
    include_archived: Annotated[bool, typer.Option("--include-archived")] = False,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Models, or the versions of one model with their aliases."""
    from mlyard.services.models import list_model_versions
    from mlyard.services.models import list_models as models_of

    workspace = workspace_of(ctx)
    tags = parse_pairs(tag, "--tag")
    if name is None:
        models = models_of(workspace, tags)
        if output == OutputFormat.json:
            print_json([m.model_dump(mode="json") for m in models])
            return
        print_table(
            f"{len(models)} model(s)",
            ["name", "versions", "latest", "aliases", "tags"],
            [[m.name, m.version_count, m.latest_version, m.aliases, m.tags] for m in models],
        )
        return
    versions = list_model_versions(workspace, name, include_archived, tags)
    if output == OutputFormat.json:
        print_json([v.summary() for v in versions])
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
    output: OutputOption = OutputFormat.table,
) -> None:
    """A model version with its lineage: the run, its data, parameters and metrics."""
    from mlyard.services.models import lineage

    found = lineage(workspace_of(ctx), ref)
    if output == OutputFormat.json:
        print_json(found.model_dump(mode="json", by_alias=True))
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
            "produced by job": found.job_id,
            "experiment": found.experiment,
            "params": found.params,
            "metrics": found.metrics,
            "data": [f"{d.name}:{d.version} ({d.content_hash[:12]})" for d in found.data],
        },
    )


@app.command("compare")
def compare(
    ctx: typer.Context,
    name: str,
    versions: Annotated[str | None, typer.Option("--versions", help="e.g. 1,2,3 (default: all)")] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Metrics and params of the runs behind several versions, side by side."""
    from mlyard.services.models import compare as compare_versions

    wanted = [v.strip() for v in versions.split(",") if v.strip()] if versions else None
    rows = compare_versions(workspace_of(ctx), name, wanted)
    if output == OutputFormat.json:
        print_json([r.model_dump(mode="json", by_alias=True) for r in rows])
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
    download_path: Annotated[Path, typer.Option("--download-path", "-p")] = Path("."),
) -> None:
    """Copy a model version's folder to a local path."""
    from mlyard.services.models import download_model, get_model_version

    workspace = workspace_of(ctx)
    model = get_model_version(workspace, ref)
    target = download_model(workspace, model.ref, download_path / f"{model.name}-{model.version}")
    say(f"downloaded {model.ref} to {target}")


@app.command("archive")
def archive(ctx: typer.Context, ref: Annotated[str, typer.Argument(help="name:version")]) -> None:
    """Hide a version from listings and @latest (it stays loadable by name:version)."""
    from mlyard.services.models import set_archived

    model = set_archived(workspace_of(ctx), ref, True)
    say(f"archived model {model.ref}")


@app.command("restore")
def restore(ctx: typer.Context, ref: Annotated[str, typer.Argument(help="name:version")]) -> None:
    """Undo archive."""
    from mlyard.services.models import set_archived

    model = set_archived(workspace_of(ctx), ref, False)
    say(f"restored model {model.ref}")


@alias_app.command("set")
def alias_set(
    ctx: typer.Context,
    name: str,
    alias: str,
    version: Annotated[str, typer.Option("--version", "-v")],
) -> None:
    """Point ALIAS of model NAME at a version (e.g. production)."""
    from mlyard.services.models import set_alias

    previous = set_alias(workspace_of(ctx), name, alias, version)
    moved = f" (was {previous})" if previous and previous != version else ""
    say(f"{name}@{alias} → version {version}{moved}")


@alias_app.command("delete")
def alias_delete(ctx: typer.Context, name: str, alias: str) -> None:
    """Remove an alias."""
    from mlyard.services.models import delete_alias

    delete_alias(workspace_of(ctx), name, alias)
    say(f"removed {name}@{alias}")


@alias_app.command("list")
def alias_list(ctx: typer.Context, name: str, output: OutputOption = OutputFormat.table) -> None:
    """The aliases of a model and the versions they point at."""
    from mlyard.services.models import model_aliases

    aliases = model_aliases(workspace_of(ctx), name)
    if output == OutputFormat.json:
        print_json(aliases)
    else:
        print_table(f"aliases of {name}", ["alias", "version"], list(aliases.items()))


def _describe_signature(signature: ModelSignature | None) -> str | None:
    """`age: number, sex: number, …` for columns; `tensor [None, 10] float64` for arrays."""
    if signature is None:
        return None
    if signature.kind == "columns":
        return ", ".join(f"{c.get('name')}: {c.get('type')}" for c in signature.columns or [])
    return f"tensor {signature.shape} {signature.dtype or ''}".strip()
