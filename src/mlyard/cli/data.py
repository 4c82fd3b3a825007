"""`mlyard data create|list|show|download`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from mlyard.cli.context import RegistryNameOption, client_of
from mlyard.cli.output import (
    parse_pairs,
    print_fields,
    print_table,
    printed_for_scripts,
    say,
)

app = typer.Typer(help="Register and fetch versioned data assets.", no_args_is_help=True)


@app.command("create")
def create(
    ctx: typer.Context,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="data YAML (Azure ML's); options below win over it")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", "-n")] = None,
    path: Annotated[
        Path | None, typer.Option("--path", "-p", help="a file, or a folder for uri_folder/mltable")
    ] = None,
    type: Annotated[
        str | None, typer.Option("--type", "-t", help="uri_file, uri_folder or mltable (default: uri_file)")
    ] = None,
    version: Annotated[str | None, typer.Option("--version", "-v", help="default: next number")] = None,
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="KEY=VALUE, repeatable")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="with --file: override a field, tags.k=v (repeatable)")
    ] = None,
    registry_name: RegistryNameOption = None,
) -> None:
    """Register a file or folder (or a data YAML) as a new immutable version of a data asset."""
    client = client_of(ctx, create=True, registry_name=registry_name)
    tags = parse_pairs(tag, "--tag")
    if file is not None:
        # a --path on the command line is relative to where the command runs, not to the YAML
        fields = {"path": path and path.absolute(), "type": type, "description": description}
        # as quoted text, so `--description yes` stays text where a --set value is read as YAML
        overrides = {k: json.dumps(str(v)) for k, v in fields.items() if v is not None}
        overrides |= {f"tags.{k}": json.dumps(v) for k, v in tags.items()} | parse_pairs(set_, "--set")
        registration = client.data.create_or_update(file, name, version, overrides)
    else:
        from mlyard.errors import InvalidArgument

        if set_:
            raise InvalidArgument("--set changes the fields of a YAML: give it with --file")
        if name is None or path is None:
            raise InvalidArgument("give a data YAML (--file) or --name and --path")
        registration = client.data.create(name, path, type or "uri_file", version, description, tags)
    if printed_for_scripts(
        registration.asset.model_dump(mode="json", by_alias=True) | {"created": registration.created}
    ):
        return
    say(registration.message)
    _print_asset(registration.asset)


@app.command("list")
def list_assets(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option("--name", "-n", help="list the versions of one asset")] = None,
    registry_name: RegistryNameOption = None,
) -> None:
    """Data assets (latest version of each), or every version of one."""
    assets = client_of(ctx, registry_name=registry_name).data.list(name)
    if printed_for_scripts([a.summary() for a in assets]):
        return
    print_table(
        f"{len(assets)} data asset version(s)",
        ["name", "version", "type", "rows", "size", "hash", "created"],
        [
            [
                a.name,
                a.version,
                a.type.value,
                a.row_count,
                _size(a.size_bytes),
                a.content_hash[:12],
                a.created_at,
            ]
            for a in assets
        ],
    )


@app.command("show")
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="name:version or name@latest")],
    registry_name: RegistryNameOption = None,
) -> None:
    """One data asset version with its schema and column profile."""
    asset = client_of(ctx, registry_name=registry_name).data.get(ref)
    if printed_for_scripts(asset.model_dump(mode="json", by_alias=True)):
        return
    _print_asset(asset)
    if asset.profile:
        print_table(
            "profile",
            ["column", "type", "nulls", "distinct", "min", "max", "mean", "top values"],
            [
                [
                    c.name,
                    c.type,
                    c.null_count,
                    c.distinct_count,
                    c.min,
                    c.max,
                    c.mean,
                    ", ".join(f"{v} ({n})" for v, n in c.top_values[:3]),
                ]
                for c in asset.profile
            ],
        )


@app.command("download")
def download(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="name:version or name@latest")],
    download_path: Annotated[
        Path, typer.Option("--download-path", "-p", help="the version lands in NAME-VERSION/ below it")
    ] = Path("."),
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="replace an existing, non-empty NAME-VERSION/ folder")
    ] = False,
    registry_name: RegistryNameOption = None,
) -> None:
    """Copy a data asset version to DOWNLOAD_PATH/NAME-VERSION/."""
    target = client_of(ctx, registry_name=registry_name).data.download(ref, download_path, overwrite)
    if not printed_for_scripts({"ref": ref, "path": str(target)}):
        say(f"downloaded to {target}")


def _print_asset(asset: object) -> None:
    from mlyard.entities.registry.data import DataAsset

    assert isinstance(asset, DataAsset)
    print_fields(
        f"data asset {asset.ref}",
        {
            "type": asset.type.value,
            "description": asset.description,
            "tags": asset.tags,
            "rows": asset.row_count,
            "files": asset.file_count,
            "size": _size(asset.size_bytes),
            "sha256": asset.content_hash,
            "schema": asset.data_schema,
            "source": asset.source_path,
            "stored at": asset.artifact_path,
            "created": asset.created_at,
            "created by": asset.created_by,
        },
    )


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"
