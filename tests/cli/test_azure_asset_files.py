"""Issue 12, classes 1 and 6: `create --file` with Azure's asset YAML for every asset, and unknown
fields warned about (refused with `--strict`), on an embedded workspace and through a server.

The YAML is written here in the shapes of Azure's public samples (data uri_file / uri_folder /
mltable, custom and MLflow models, an amlcompute cluster, jobs with a misspelt setting), with the
asset files in sibling folders the way the samples keep them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import typer

from mlyard.cli.main import app

MLYARD = [sys.executable, "-m", "mlyard.cli.main"]
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


@pytest.fixture(params=["embedded", "server"])
def az(request: pytest.FixtureRequest, workspace_path: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run `mlyard …` in `tmp_path/elsewhere` (not the YAML's folder) on the workspace, or on it
    through a team server with an admin key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLYARD_")} | {"COLUMNS": "200"}
    if request.param == "embedded":
        env["MLYARD_WORKSPACE"] = str(workspace_path)
    else:
        from mlyard.services.workspaces import keys
        from mlyard.services.workspaces.workspace import open_workspace

        env["MLYARD_KEY"] = keys.create_key(open_workspace(workspace_path), "admin", "admin").token
        env["MLYARD_URL"] = request.getfixturevalue("serve_workspace")(workspace_path)
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()

    def run(*args: str, expect: int = 0, **extra: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*MLYARD, *args], capture_output=True, text=True, env=env | extra, cwd=cwd, timeout=120
        )
        assert done.returncode == expect, f"exit {done.returncode}\nout: {done.stdout}\nerr: {done.stderr}"
        return done

    return run


def as_json(done: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(done.stdout)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Azure's sample layout: YAML in `cli/assets/…`, the files it names in sibling folders."""
    root = tmp_path / "azureml-examples"
    write(root, "data/iris/iris.csv", "sepal_length,species\n5.1,setosa\n6.2,virginica\n")
    write(root, "data/folder/a.csv", "x\n1\n")
    write(root, "data/folder/b.csv", "x\n2\n")
    write(root, "data/taxi/green.csv", "distance,fare\n1.2,6.5\n3.4,12.0\n")
    mltable = "paths:\n  - file: ./green.csv\ntransformations:\n  - read_delimited:\n      delimiter: ','\n"
    write(root, "data/taxi/MLTable", mltable)
    write(root, "models/custom/model.pkl", "not really a pickle\n")
    write(root, "models/mlflow/MLmodel", "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n")
    write(root, "models/mlflow/model.pkl", "bytes\n")
    return root / "cli" / "assets"


def test_data_create_file_registers_azures_data_yaml_with_its_path_relative_to_the_yaml(az, project):
    path = write(
        project,
        "data/local-file.yml",
        """
        $schema: https://azuremlschemas.azureedge.net/latest/data.schema.json
        name: iris-file
        version: 1
        description: Iris, one file.
        type: uri_file
        path: ../../../data/iris/iris.csv
        tags: {source: uci, rows: 2}
        """,
    )
    created = as_json(az("data", "create", "--file", str(path), "-o", "json"))
    assert (created["name"], created["version"], created["type"]) == ("iris-file", "1", "uri_file")
    assert created["tags"] == {"source": "uci", "rows": "2"} and created["row_count"] == 2
    assert created["description"] == "Iris, one file." and created["created"] is True
    # --name/--version/--set win over the file, as `az ml data create -f … --set` does
    other = as_json(az(
        "data", "create", "-f", str(path), "--name", "iris-copy", "--version", "7",
        "--set", "description=overridden", "--set", "tags.stage=dev", "-o", "json",
    ))  # fmt: skip
    assert (other["name"], other["version"], other["description"]) == ("iris-copy", "7", "overridden")
    assert other["tags"] == {"source": "uci", "rows": "2", "stage": "dev"}


def test_data_create_file_takes_a_folder_and_an_mltable_and_numbers_versions(az, project):
    folder = write(project, "data/folder.yml", "name: parts\ntype: uri_folder\npath: ../../../data/folder\n")
    table = write(project, "data/table.yml", "name: taxi\ntype: mltable\npath: ../../../data/taxi/\n")
    untyped = write(project, "data/untyped.yml", "name: parts-again\npath: ../../../data/folder/\n")
    assert as_json(az("data", "create", "-f", str(folder), "-o", "json"))["file_count"] == 2
    taxi = as_json(az("data", "create", "-f", str(table), "-o", "json"))
    assert (taxi["type"], taxi["version"], taxi["row_count"]) == ("mltable", "1", 2)
    assert as_json(az("data", "create", "-f", str(untyped), "-o", "json"))["type"] == "uri_folder"
    write(project, "../../data/folder/c.csv", "x\n3\n")
    again = as_json(az("data", "create", "-f", str(folder), "-o", "json"))
    assert again["version"] == "2" and again["file_count"] == 3  # no version in the file: the next one


def test_model_create_file_registers_custom_and_mlflow_models_with_tags_and_properties(az, project):
    custom = write(
        project,
        "model/custom.yml",
        """
        $schema: https://azuremlschemas.azureedge.net/latest/model.schema.json
        name: iris-custom
        path: ../../../models/custom/model.pkl
        description: A custom model (type defaults to custom_model).
        tags: {framework: none}
        properties: {accuracy: 0.93}
        """,
    )
    mlflow = write(
        project,
        "model/mlflow.yml",
        """
        $schema: https://azuremlschemas.azureedge.net/latest/model.schema.json
        name: iris-mlflow
        version: 3
        type: mlflow_model
        path: ../../../models/mlflow
        tags: {flavor: sklearn}
        """,
    )
    one = as_json(az("model", "create", "--file", str(custom), "-o", "json"))
    assert (one["name"], one["version"], one["flavor"]) == ("iris-custom", "1", "custom")
    assert one["tags"] == {"framework": "none"} and one["properties"] == {"accuracy": "0.93"}
    two = as_json(az("model", "create", "-f", str(mlflow), "-o", "json"))
    assert (two["name"], two["version"], two["flavor"]) == ("iris-mlflow", "3", "mlflow")
    renamed = as_json(az(
        "model", "create", "-f", str(custom), "-n", "renamed", "-v", "5",
        "--set", "properties.auc=0.8", "--tag", "team=ml", "-o", "json",
    ))  # fmt: skip
    assert (renamed["name"], renamed["version"]) == ("renamed", "5")
    assert renamed["properties"] == {"accuracy": "0.93", "auc": "0.8"}
    assert renamed["tags"] == {"framework": "none", "team": "ml"}


def test_a_misspelt_field_in_an_asset_yaml_warns_and_proceeds(az, project):
    path = write(
        project,
        "data/typo.yml",
        "name: iris-typo\ntype: uri_file\npath: ../../../data/iris/iris.csv\ndescripton: misspelt\n",
    )
    done = az("data", "create", "-f", str(path), "-o", "json")
    assert as_json(done)["name"] == "iris-typo" and as_json(done)["description"] is None
    assert done.stderr.splitlines() == [
        f"warning: {path}: descripton: unknown field, ignored (did you mean 'description'?)"
    ]


def test_strict_refuses_the_unknown_field_and_stores_nothing(az, project):
    path = write(project, "model/typo.yml", "name: m\npath: ../../../models/custom\ntgas: {a: b}\n")
    done = az("model", "create", "-f", str(path), "--strict", expect=2)
    assert f"{path}: tgas: unknown field 'tgas' (did you mean 'tags'?)" in done.stderr
    assert "warning:" not in done.stderr
    az("model", "create", "-f", str(path), expect=2, MLYARD_STRICT="1")
    assert as_json(az("model", "list", "-o", "json")) == []


def test_the_workspace_setting_strict_specs_refuses_unknown_fields(az, project):
    az("workspace", "settings", "set", "strict_specs=true")
    path = write(project, "data/typo.yml", "name: d\npath: ../../../data/iris/iris.csv\nverion: 2\n")
    done = az("data", "create", "-f", str(path), expect=2)
    assert "verion: unknown field 'verion' (did you mean 'version'?)" in done.stderr
    assert as_json(az("data", "list", "-o", "json")) == []


def test_a_job_with_a_misspelt_setting_is_submitted_with_one_warning(az, project):
    path = write(
        project,
        "jobs/hello.yml",
        """
        $schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
        command: echo hello
        compute: local
        experiment_name: azure-typos
        environment_variabels: {GREETING: hi}
        """,
    )
    done = az("job", "create", "-f", str(path), "--query", "experiment", "-o", "tsv")
    assert done.stdout == "azure-typos\n"
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, done.stderr
    assert warnings[0].endswith(
        "hello.yml: environment_variabels: unknown field, ignored (did you mean 'environment_variables'?)"
    )
    refused = az("job", "create", "-f", str(path), "--strict", expect=2)
    assert "environment_variabels: unknown field 'environment_variabels'" in refused.stderr


def test_compute_create_file_reads_azures_cluster_yaml_as_a_local_target(az, project):
    path = write(
        project,
        "compute/cluster-minimal.yml",
        """
        $schema: https://azuremlschemas.azureedge.net/latest/amlCompute.schema.json
        name: cpu-cluster
        type: amlcompute
        size: STANDARD_DS3_v2
        min_instances: 0
        max_instances: 2
        idle_time_before_scale_down: 120
        """,
    )
    done = az("compute", "create", "--file", str(path), "-o", "json")
    assert as_json(done)["name"] == "cpu-cluster" and as_json(done)["type"] == "local"
    assert (
        f"warning: {path}: size, min_instances, max_instances, idle_time_before_scale_down: "
        "used by Azure's cloud compute only; ignored"
    ) in done.stderr.splitlines()
    assert f"warning: {path}: type: amlcompute is Azure's cloud compute; created as local" in done.stderr
    assert as_json(az("compute", "show", "cpu-cluster", "-o", "json"))["type"] == "local"


def test_a_cloud_path_in_a_data_yaml_is_refused_naming_the_field(az, project):
    path = write(
        project,
        "data/cloud.yml",
        "name: titanic\ntype: uri_file\n"
        "path: https://azuremlexamples.blob.core.windows.net/datasets/titanic.csv\n",
    )
    done = az("data", "create", "-f", str(path), expect=2)
    assert f"{path}: path: 'https://azuremlexamples" in done.stderr and "is in a cloud store" in done.stderr


def _commands(command: Any, path: str = "mlyard") -> dict[str, Any]:
    if hasattr(command, "commands"):
        found: dict[str, Any] = {}
        for name, child in command.commands.items():
            found |= _commands(child, f"{path} {name}")
        return found
    return {path: command}


def test_every_asset_create_verb_takes_file_and_strict(backend):
    commands = _commands(typer.main.get_command(app))
    nouns = (
        "data", "model", "environment", "component", "compute", "online-endpoint",
        "online-deployment", "batch-endpoint", "batch-deployment", "job",
    )  # fmt: skip
    for noun in nouns:
        options = {opt for param in commands[f"mlyard {noun} create"].params for opt in param.opts}
        assert {"--file", "-f", "--strict"} <= options, f"mlyard {noun} create lacks {options}"
