"""Registering, re-registering and downloading assets: one rule for every kind, the same on
embedded SQLite, embedded PostgreSQL and a team server (the `client` fixture runs each test on all
three). Errors and recorded sources name the user's own paths, never a temporary or staged copy.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

import mlyard
from mlyard.errors import AlreadyExists, InvalidArgument, NotFound


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture(scope="module")
def ridge() -> Ridge:
    features, target = load_diabetes(return_X_y=True)
    return Ridge(alpha=0.5).fit(features, target)


# --- one rule of registering again (issue 16, item 18) -------------------------------------------


def test_identical_content_registered_again_returns_the_existing_version_of_every_asset_kind(
    client, tmp_path
):
    table = write(tmp_path / "rows.csv", "a,b\n1,2\n")
    model = write(tmp_path / "model" / "weights.txt", "1 2 3").parent
    write(tmp_path / "env" / "conda.yml", "dependencies:\n  - python=3.11\n  - pip:\n    - scikit-learn\n")
    env = write(tmp_path / "env" / "env.yml", "name: env\nconda_file: conda.yml\n")
    write(tmp_path / "c" / "src" / "step.py", "print('step')\n")
    component = write(
        tmp_path / "c" / "step.yml", "type: command\nname: step\ncode: ./src\ncommand: python step.py\n"
    )

    first = [
        client.data.create("rows", table).created,
        client.models.create("model", model).created,
        client.environments.create_or_update(env).created,
        client.components.register(component).created,
    ]
    again_data = client.data.create("rows", table)
    again_model = client.models.create("model", model)
    again_env = client.environments.create_or_update(env)
    again_component = client.components.register(component)
    assert first == [True, True, True, True]
    assert (again_data.created, again_data.asset.version) == (False, "1")
    assert (again_model.created, again_model.version) == (False, "1")
    assert "already registered as model:1; no new version created" in again_model.message
    assert (again_env.created, again_env.environment.version) == (False, "1")
    assert (again_component.created, again_component.component.version) == (False, "1")
    assert [v.version for v in client.models.list("model")] == ["1"]


def test_an_explicit_version_that_exists_is_returned_when_identical_and_refused_when_not(client, tmp_path):
    table = write(tmp_path / "rows.csv", "a,b\n1,2\n")
    model = write(tmp_path / "model" / "weights.txt", "1 2 3").parent
    client.data.create("rows", table, version="3")
    client.models.create("model", model, version="3")
    assert not client.data.create("rows", table, version="3").created
    assert not client.models.create("model", model, version="3").created
    write(table, "a,b\n9,9\n")
    write(model / "weights.txt", "4 5 6")
    with pytest.raises(AlreadyExists, match="data asset rows:3 already exists with different content"):
        client.data.create("rows", table, version="3")
    with pytest.raises(AlreadyExists, match="model model:3 already exists with different content or lineage"):
        client.models.create("model", model, version="3")
    assert [a.version for a in client.data.list("rows")] == ["3"]


def test_an_explicit_new_version_of_identical_content_is_created_and_shares_the_stored_files(
    client, tmp_path
):
    table = write(tmp_path / "rows.csv", "a,b\n1,2\n")
    model = write(tmp_path / "model" / "weights.txt", "1 2 3").parent
    data_one = client.data.create("rows", table).asset
    model_one = client.models.create("model", model)
    data_five = client.data.create("rows", table, version="5")
    model_five = client.models.create("model", model, version="5")
    assert data_five.created and data_five.asset.version == "5"
    assert model_five.created and model_five.version == "5"
    assert data_five.asset.artifact_path == data_one.artifact_path  # no copy of the bytes
    assert model_five.artifact_path == model_one.artifact_path


def test_the_same_model_logged_by_two_runs_is_two_versions_and_again_by_one_run_is_one(client, ridge):
    versions = []
    for _ in range(2):
        with mlyard.start_run(experiment="lineage"):
            versions.append(mlyard.log_model(ridge, name="ridge", flavor="sklearn"))
            versions.append(mlyard.log_model(ridge, name="ridge", flavor="sklearn"))
    assert [(v.version, v.created) for v in versions] == [
        ("1", True),
        ("1", False),
        ("2", True),
        ("2", False),
    ]
    assert versions[0].job_id != versions[2].job_id


# --- a flavor takes only what it can save (item 17) ---------------------------------------------


def test_logging_an_object_the_flavor_cannot_save_is_refused_and_registers_nothing(client):
    with (
        mlyard.start_run(experiment="flavors"),
        pytest.raises(
            InvalidArgument, match=r"flavor 'sklearn' saves scikit-learn estimators .*, not object"
        ),
    ):
        mlyard.log_model(object(), name="not-a-model", flavor="sklearn")
    with pytest.raises(InvalidArgument, match="flavor 'onnx' saves an onnx.ModelProto .*, not dict"):
        client.models.log({"weights": [1]}, "not-a-model", "onnx")
    assert [m.name for m in client.models.list()] == []


# --- the user's own paths in errors and sources (item 14) ---------------------------------------


def test_errors_and_recorded_sources_name_the_users_own_paths(client, tmp_path):
    cm = write(tmp_path / "cm" / "model.pkl", "not an mlflow model").parent
    with pytest.raises(InvalidArgument) as refused:
        client.models.create("cm", cm, type="mlflow_model")
    assert f"{cm}/MLmodel does not exist" in refused.value.message
    assert "mlyard-model-" not in refused.value.message and "uploads" not in refused.value.message

    no_mltable = write(tmp_path / "tbl" / "rows.csv", "a\n1\n").parent
    with pytest.raises(InvalidArgument, match=rf"mltable folder {no_mltable} has no MLTable file"):
        client.data.create("tbl", no_mltable, type="mltable")

    folder = write(tmp_path / "images" / "one.txt", "1").parent
    assert client.data.create("images", folder, type="uri_folder").asset.source_path == str(folder.resolve())


def test_a_missing_job_input_names_the_path_on_the_users_machine(client, tmp_path):
    project = tmp_path / "project"
    write(project / "src" / "train.py", "print('hi')\n")
    write(project / "job.yml", """\
        code: ./src
        command: python train.py --data ${{inputs.data}}
        inputs:
          data: {type: uri_file, path: ./data/nope.csv}
        """)  # fmt: skip
    with pytest.raises(NotFound) as missing:
        client.jobs.create(project / "job.yml")
    assert f"looked for {project.resolve() / 'data' / 'nope.csv'}" in missing.value.message


# --- downloads (item 20) ------------------------------------------------------------------------


def test_downloads_land_in_a_name_version_folder_and_refuse_a_non_empty_one(client, tmp_path):
    table = write(tmp_path / "rows.csv", "a,b\n1,2\n")
    folder = write(tmp_path / "images" / "a" / "one.txt", "1").parent.parent
    model = write(tmp_path / "model" / "weights.txt", "1 2 3").parent
    client.data.create("rows", table)
    client.data.create("images", folder, type="uri_folder")
    client.models.create("churn", model)
    destination = write(tmp_path / "down" / "mine.txt", "already here").parent

    assert client.data.download("rows:1", destination) == destination / "rows-1"
    assert (destination / "rows-1" / "rows.csv").read_text() == "a,b\n1,2\n"
    assert (client.data.download("images:1", destination) / "a" / "one.txt").read_text() == "1"
    assert (client.models.download("churn:1", destination) / "weights.txt").read_text() == "1 2 3"
    assert sorted(p.name for p in destination.iterdir()) == ["churn-1", "images-1", "mine.txt", "rows-1"]

    write(destination / "rows-1" / "stale.csv", "old")
    with pytest.raises(AlreadyExists, match=r"rows-1 already exists and is not empty; .*--overwrite"):
        client.data.download("rows:1", destination)
    with pytest.raises(AlreadyExists, match=r"churn-1 already exists and is not empty"):
        client.models.download("churn@latest", destination)
    replaced = client.data.download("rows:1", destination, overwrite=True)
    assert sorted(p.name for p in replaced.iterdir()) == ["rows.csv"]  # replaced whole, no stale file
