"""`client.data.create_or_update` / `client.models.create_or_update` / `client.computes.create_or_update`
with Azure's YAML or spec objects, on embedded SQLite, PostgreSQL and a team server (which gets
the files the YAML names uploaded, found relative to the YAML, not the current folder)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mlyard.entities.registry.asset_specs import DataSpec, ModelSpec
from mlyard.entities.specs.spec_warnings import SpecWarning, checking_specs
from mlyard.errors import InvalidSpec


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def test_a_data_yaml_registers_its_file_relative_to_the_yaml(client, tmp_path):
    write(tmp_path, "shared/data/iris.csv", "a,b\n1,2\n3,4\n")
    path = write(
        tmp_path,
        "cli/assets/data.yml",
        """
        $schema: https://azuremlschemas.azureedge.net/latest/data.schema.json
        name: iris
        version: 2
        type: uri_file
        path: ../../shared/data/iris.csv
        tags: {owner: data-team}
        """,
    )
    registration = client.data.create_or_update(path, overrides={"description": "two rows"})
    asset = registration.asset
    assert (asset.name, asset.version, asset.type.value, asset.row_count) == ("iris", "2", "uri_file", 2)
    assert asset.tags == {"owner": "data-team"} and asset.description == "two rows"
    assert client.data.get("iris@latest").content_hash == asset.content_hash


def test_a_model_spec_object_registers_like_azures_model_entity(client, tmp_path, monkeypatch):
    write(tmp_path, "work/model/weights.bin", "0101\n")
    monkeypatch.chdir(tmp_path / "work")
    spec = ModelSpec(name="weights", path="model", tags={"a": "1"}, properties={"auc": "0.9"})
    model = client.models.create_or_update(spec, version="4")
    assert (model.name, model.version, model.flavor) == ("weights", "4", "custom")
    assert model.properties == {"auc": "0.9"} and model.tags == {"a": "1"}
    data = client.data.create_or_update(DataSpec(name="weights-as-data", path="model"))
    assert data.asset.type.value == "uri_folder"  # no type: a folder is a uri_folder


def test_unknown_fields_warn_through_every_backend_and_strict_refuses(client, tmp_path):
    write(tmp_path, "m/model.pkl", "x\n")
    path = write(tmp_path, "model.yml", "name: typo\npath: m/model.pkl\ndescripion: misspelt\n")
    with checking_specs() as checks:
        model = client.models.create_or_update(path)
    assert model.description is None
    assert checks.warnings == [f"{path}: descripion: unknown field, ignored (did you mean 'description'?)"]
    refused = r"descripion: unknown field 'descripion'"
    with checking_specs(strict=True), pytest.raises(InvalidSpec, match=refused):
        client.models.create_or_update(path, name="other")
    with pytest.warns(SpecWarning, match="descripion: unknown field, ignored"):
        client.models.create_or_update(path)  # a script without a collection: a Python warning
    assert [v.name for v in client.models.list()] == ["typo"]


def test_a_job_spec_warning_found_by_the_server_reaches_the_caller(client, tmp_path):
    path = write(
        tmp_path,
        "job.yml",
        """
        command: echo hi
        compute: local
        experiment_name: typos
        display_nmae: misspelt
        """,
    )
    with checking_specs() as checks:
        job = client.jobs.create(path)
    assert job.experiment == "typos"
    assert len(checks.warnings) == 1
    assert checks.warnings[0].endswith("display_nmae: unknown field, ignored (did you mean 'display_name'?)")
