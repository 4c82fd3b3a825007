"""Data assets: versioning, immutability, content hashes, profiles; SQLite and PostgreSQL."""

from __future__ import annotations

import shutil

import pytest

from mlyard.entities.registry.data import DataType
from mlyard.errors import AlreadyExists, InvalidArgument, NotFound
from mlyard.services.data_assets import data


def test_registering_a_csv_records_hash_size_rows_schema_and_profile(workspace, diabetes_csv):
    registration = data.create_data_asset(
        workspace,
        "diabetes",
        diabetes_csv,
        "uri_file",
        description="bundled",
        tags={"src": "sklearn"},
    )
    asset = registration.asset
    assert registration.created and asset.version == "1"
    assert asset.row_count == 442
    assert asset.size_bytes == diabetes_csv.stat().st_size
    assert len(asset.content_hash) == 64
    assert asset.data_schema is not None and set(asset.data_schema) >= {"age", "bmi", "target"}
    bmi = next(c for c in asset.profile or [] if c.name == "bmi")
    assert bmi.null_count == 0 and bmi.min is not None and bmi.mean is not None
    stored = data.local_path(workspace, asset)
    assert stored.read_bytes() == diabetes_csv.read_bytes()


def test_identical_content_returns_the_existing_version(workspace, diabetes_csv, tmp_path):
    first = data.create_data_asset(workspace, "diabetes", diabetes_csv)
    copy = tmp_path / "copy.csv"
    shutil.copy(diabetes_csv, copy)
    again = data.create_data_asset(workspace, "diabetes", copy)
    assert not again.created
    assert again.asset.version == first.asset.version
    assert "already registered as diabetes:1" in again.message
    assert len(data.list_data_assets(workspace, "diabetes")) == 1


def test_changed_content_gets_the_next_version_and_latest_follows(workspace, tmp_path):
    path = tmp_path / "t.csv"
    for rows in (3, 5):
        path.write_text("a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(rows)))
        data.create_data_asset(workspace, "table", path)
    latest = data.get_data_asset(workspace, "table@latest")
    assert latest.version == "2" and latest.row_count == 5
    assert data.get_data_asset(workspace, "azureml:table:1").row_count == 3
    assert data.get_data_asset(workspace, "table").version == "2"


def test_an_existing_explicit_version_with_other_content_is_refused(workspace, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a\n1\n")
    data.create_data_asset(workspace, "table", path, version="2024-01")
    path.write_text("a\n2\n")
    with pytest.raises(AlreadyExists, match="table:2024-01 already exists with different content"):
        data.create_data_asset(workspace, "table", path, version="2024-01")
    assert data.get_data_asset(workspace, "table:2024-01").row_count == 1


def test_folders_and_mltables_are_registered(workspace, tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "a.csv").write_text("x,y\n1,2\n")
    (folder / "b.csv").write_text("x,y\n3,4\n")
    asset = data.create_data_asset(workspace, "parts", folder, DataType.URI_FOLDER).asset
    assert asset.file_count == 2 and asset.row_count == 2

    table = tmp_path / "table"
    table.mkdir()
    (table / "data.csv").write_text("x;y\n1;2\n3;4\n5;6\n")
    (table / "MLTable").write_text(
        "paths:\n  - file: ./data.csv\ntransformations:\n  - read_delimited:\n      delimiter: ';'\n"
    )
    asset = data.create_data_asset(workspace, "table", table, "mltable").asset
    assert asset.row_count == 3 and asset.data_schema is not None and set(asset.data_schema) == {"x", "y"}

    out = data.download_data_asset(workspace, "parts:1", tmp_path / "down")
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "b.csv"]


@pytest.mark.parametrize(
    "setup, kind, message",
    [
        ("missing", "uri_file", "does not exist"),
        ("folder", "uri_file", "is a folder; use --type uri_folder"),
        ("file", "uri_folder", "is a file; --type uri_folder needs a folder"),
        ("folder", "mltable", "has no MLTable file"),
        ("file", "parquet", "invalid data type 'parquet'"),
    ],
)
def test_bad_paths_and_types_are_named_and_store_nothing(workspace, tmp_path, setup, kind, message):
    target = tmp_path / "thing"
    if setup == "folder":
        target.mkdir()
        (target / "x.txt").write_text("x")
    elif setup == "file":
        target.write_text("a\n1\n")
    with pytest.raises((InvalidArgument, NotFound), match=message):
        data.create_data_asset(workspace, "thing", target, kind)
    assert data.list_data_assets(workspace) == []
    assert workspace.artifacts.list("data") == []


def test_a_failed_insert_leaves_no_orphan_files(workspace, tmp_path, monkeypatch):
    path = tmp_path / "t.csv"
    path.write_text("a\n1\n")

    def broken_insert(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(data, "_insert", broken_insert)
    with pytest.raises(RuntimeError):
        data.create_data_asset(workspace, "t", path)
    assert [a for a in workspace.artifacts.list("data", recursive=True) if not a.is_dir] == []


def test_unknown_asset_and_version_errors_name_them(workspace, tmp_path):
    with pytest.raises(NotFound, match="data asset 'nope' does not exist"):
        data.get_data_asset(workspace, "nope@latest")
    path = tmp_path / "t.csv"
    path.write_text("a\n1\n")
    data.create_data_asset(workspace, "t", path)
    with pytest.raises(NotFound, match="has no version '7'; versions: 1"):
        data.get_data_asset(workspace, "t:7")
    with pytest.raises(InvalidArgument, match="invalid data asset name"):
        data.create_data_asset(workspace, "../evil", path)


def test_concurrent_registrations_of_the_same_folder_make_one_version(workspace, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    folder = tmp_path / "images"
    folder.mkdir()
    for index in range(5):
        (folder / f"{index}.bin").write_bytes(bytes([index]) * 1000)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(lambda _: data.create_data_asset(workspace, "images", folder, "uri_folder"), range(4))
        )
    assert {r.asset.version for r in results} == {"1"}
    assert sum(r.created for r in results) == 1
    assert [a.version for a in data.list_data_assets(workspace, "images")] == ["1"]
    stored = data.local_path(workspace, results[0].asset)
    assert sorted(p.name for p in stored.iterdir()) == [f"{i}.bin" for i in range(5)]


def test_the_first_rows_of_a_table_are_text_cells_and_a_non_table_has_none(workspace, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("a,b\n1,x\n,y\n3,<b>z</b>\n", encoding="utf-8")
    data.create_data_asset(workspace, "t", table)
    shown = data.first_rows(workspace, "t:1", limit=2)
    assert shown is not None
    assert shown.columns == ["a", "b"] and shown.rows == [["1.0", "x"], ["", "y"]]
    picture = tmp_path / "p.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n")
    data.create_data_asset(workspace, "picture", picture)
    assert data.first_rows(workspace, "picture@latest") is None


def test_a_preview_of_a_version_too_large_to_read_is_refused_with_the_download_command(
    workspace, tmp_path, monkeypatch
):
    table = tmp_path / "t.csv"
    table.write_text("a\n1\n2\n", encoding="utf-8")
    data.create_data_asset(workspace, "t", table)
    monkeypatch.setattr(data, "PREVIEW_MAX_BYTES", 3)
    with pytest.raises(
        InvalidArgument, match=r"t:1 is \d+ bytes, more than the 3 .* mlyard data download t:1"
    ):
        data.first_rows(workspace, "t:1")
