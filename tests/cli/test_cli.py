"""The CLI driven as a user drives it: subprocesses, exit codes, `--output json`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

MLYARD = [sys.executable, "-m", "mlyard.cli.main"]


def mlyard(*args: str, workspace: Path | None = None, expect: int = 0) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLYARD_")}
    env["COLUMNS"] = "200"
    prefix = ["--workspace", str(workspace)] if workspace else []
    done = subprocess.run([*MLYARD, *prefix, *args], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == expect, f"exit {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}"
    return done


def as_json(done: subprocess.CompletedProcess[str]):
    return json.loads(done.stdout)


@pytest.fixture
def ws(workspace_path):
    return workspace_path


def test_workspace_create_and_show(tmp_path):
    folder = tmp_path / "team"
    created = as_json(mlyard("workspace", "create", "--output", "json", workspace=folder))
    assert created["created"] is True and created["path"] == str(folder)
    again = as_json(mlyard("workspace", "create", "-o", "json", workspace=folder))
    assert again["created"] is False
    shown = as_json(mlyard("workspace", "show", "-o", "json", workspace=folder))
    assert shown["jobs"] == 0 and shown["schema_revision"] == shown["schema_head"]
    table = mlyard("workspace", "show", workspace=folder).stdout
    assert "schema_revision" in table and str(folder.name) in table


def test_workspace_show_of_a_missing_workspace_fails_clearly(tmp_path):
    done = mlyard("workspace", "show", workspace=tmp_path / "nowhere", expect=6)
    assert "no workspace at" in done.stderr and "mlyard workspace create" in done.stderr


def test_data_create_list_show_download(ws, diabetes_csv, tmp_path):
    created = as_json(
        mlyard(
            "data",
            "create",
            "--name",
            "diabetes",
            "--path",
            str(diabetes_csv),
            "--type",
            "uri_file",
            "--tag",
            "src=sklearn",
            "-o",
            "json",
            workspace=ws,
        )
    )
    assert created["version"] == "1" and created["created"] and created["row_count"] == 442
    again = mlyard("data", "create", "--name", "diabetes", "--path", str(diabetes_csv), workspace=ws)
    assert "already registered as diabetes:1" in again.stderr
    listed = as_json(mlyard("data", "list", "-o", "json", workspace=ws))
    assert [(a["name"], a["version"]) for a in listed] == [("diabetes", "1")]
    shown = mlyard("data", "show", "diabetes@latest", workspace=ws).stdout
    assert "bmi" in shown and "442" in shown
    mlyard("data", "download", "diabetes:1", "--download-path", str(tmp_path / "d"), workspace=ws)
    assert (tmp_path / "d" / "diabetes-1" / "diabetes.csv").read_bytes() == diabetes_csv.read_bytes()


def test_download_refuses_a_non_empty_name_version_folder_unless_overwrite(ws, diabetes_csv, tmp_path):
    mlyard("data", "create", "--name", "diabetes", "--path", str(diabetes_csv), workspace=ws)
    target = tmp_path / "d" / "diabetes-1"
    target.mkdir(parents=True)
    (target / "notes.txt").write_text("mine")
    done = mlyard(
        "data", "download", "diabetes:1", "--download-path", str(tmp_path / "d"), workspace=ws, expect=4
    )
    assert f"{target} already exists and is not empty" in done.stderr and "--overwrite" in done.stderr
    assert (target / "notes.txt").read_text() == "mine"  # nothing touched
    mlyard("data", "download", "diabetes:1", "-p", str(tmp_path / "d"), "--overwrite", workspace=ws)
    assert sorted(p.name for p in target.iterdir()) == ["diabetes.csv"]


def test_model_create_of_a_relative_path_names_it_in_errors_not_a_temporary_copy(ws, tmp_path):
    (tmp_path / "cm").mkdir()
    (tmp_path / "cm" / "model.pkl").write_bytes(b"x")
    done = subprocess.run(
        [*MLYARD, "--workspace", str(ws), "model", "create", "--name", "cm", "--path", "./cm",
         "--type", "mlflow_model"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("MLYARD_")},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "cm/MLmodel does not exist" in done.stderr and "mlyard-model-" not in done.stderr


def test_data_errors_exit_non_zero_and_name_the_thing(ws, tmp_path):
    done = mlyard(
        "data",
        "create",
        "--name",
        "x",
        "--path",
        str(tmp_path / "missing.csv"),
        workspace=ws,
        expect=3,
    )
    assert "missing.csv does not exist" in done.stderr
    assert "Traceback" not in done.stderr
    done = mlyard("data", "show", "nope:1", workspace=ws, expect=3)
    assert "data asset 'nope' does not exist" in done.stderr
    done = mlyard("data", "create", "--name", "bad name", "--path", str(tmp_path), workspace=ws, expect=2)
    assert "invalid data asset name 'bad name'" in done.stderr
    done = mlyard(
        "data",
        "create",
        "--name",
        "x",
        "--path",
        "a.csv",
        "--tag",
        "novalue",
        workspace=ws,
        expect=2,
    )
    assert "--tag expects KEY=VALUE" in done.stderr


def _train(ws: Path, alphas: list[float]) -> list[str]:
    """Run the quickstart's kind of training in a subprocess; returns job ids."""
    script = f"""
import mlyard
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
X, y = load_diabetes(return_X_y=True)
for alpha in {alphas!r}:
    with mlyard.start_run(experiment="diabetes") as run:
        model = Ridge(alpha=alpha).fit(X[:300], y[:300])
        mlyard.log_param("alpha", alpha)
        mlyard.log_metric("mse", mean_squared_error(y[300:], model.predict(X[300:])))
        for step in range(3):
            mlyard.log_metric("loss", 1.0 / (step + 1), step=step)
        mlyard.log_model(model, name="ridge", flavor="sklearn", input_example=X[:2])
        print(run.id)
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLYARD_")}
    env["MLYARD_WORKSPACE"] = str(ws)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_job_and_model_commands(ws, tmp_path):
    ids = _train(ws, [0.01, 1.0])
    jobs = as_json(mlyard("job", "list", "-o", "json", workspace=ws))
    assert [j["id"] for j in jobs] == ids[::-1]
    best = as_json(mlyard("job", "list", "--filter", "params.alpha < 0.5", "-o", "json", workspace=ws))
    assert [j["id"] for j in best] == [ids[0]]
    ordered = as_json(mlyard("job", "list", "--order-by", "metrics.mse DESC", "-o", "json", workspace=ws))
    assert len(ordered) == 2 and ordered[0]["metrics"]["mse"] >= ordered[1]["metrics"]["mse"]
    shown = as_json(mlyard("job", "show", ids[0], "-o", "json", workspace=ws))
    assert shown["status"] == "Completed" and shown["code"]["source_hash"] and shown["runtime"]["packages"]
    history = as_json(mlyard("job", "metric-history", ids[0], "loss", "-o", "json", workspace=ws))
    assert [p["step"] for p in history] == [0, 1, 2]
    assert "Completed" in mlyard("job", "list", workspace=ws).stdout

    mlyard("model", "alias", "set", "ridge", "production", "--version", "2", workspace=ws)
    mlyard("model", "alias", "set", "ridge", "staging", "--version", "1", workspace=ws)
    aliases = as_json(mlyard("model", "alias", "list", "ridge", "-o", "json", workspace=ws))
    assert aliases == {"production": "2", "staging": "1"}
    mlyard("model", "alias", "delete", "ridge", "staging", workspace=ws)
    done = mlyard("model", "alias", "list", "nope", workspace=ws, expect=3)
    assert "model 'nope' does not exist" in done.stderr
    shown = as_json(mlyard("model", "show", "ridge@production", "-o", "json", workspace=ws))
    assert shown["model"]["version"] == "2" and shown["job_id"] == ids[1]
    assert (shown["name"], shown["version"]) == ("ridge", "2")  # at the top, as model create prints them
    tsv = mlyard("model", "show", "ridge@production", "-o", "tsv", "--query", "version", workspace=ws)
    assert tsv.stdout.strip() == "2"
    assert shown["params"] == {"alpha": "1.0"}
    text = mlyard("model", "show", "ridge@production", workspace=ws).stdout
    assert "production" in text and ids[1] in text
    compared = mlyard("model", "compare", "ridge", "--versions", "1,2", workspace=ws).stdout
    assert "mse" in compared and "param alpha" in compared
    versions = as_json(mlyard("model", "list", "ridge", "-o", "json", workspace=ws))
    assert [(v["version"], v["aliases"]) for v in versions] == [("2", ["production"]), ("1", [])]
    done = mlyard("model", "archive", "ridge:2", workspace=ws, expect=4)
    assert "behind alias production" in done.stderr
    mlyard("model", "archive", "ridge:1", workspace=ws)
    assert len(as_json(mlyard("model", "list", "ridge", "-o", "json", workspace=ws))) == 1
    mlyard("model", "download", "ridge@production", "--download-path", str(tmp_path), workspace=ws)
    assert (tmp_path / "ridge-2" / "mlyard-model.yaml").exists()
    models = as_json(mlyard("model", "list", "-o", "json", workspace=ws))
    assert models[0]["aliases"] == {"production": "2"}


def test_model_create_and_errors(ws, tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"w")
    created = as_json(
        mlyard(
            "model",
            "create",
            "--name",
            "churn",
            "--path",
            str(folder),
            "--type",
            "custom_model",
            "--tag",
            "team=x",
            "-o",
            "json",
            workspace=ws,
        )
    )
    assert created["version"] == "1" and created["tags"] == {"team": "x"}
    done = mlyard("model", "show", "churn@production", workspace=ws, expect=3)
    assert "no alias 'production'; set one with: mlyard model alias set churn production" in done.stderr
    done = mlyard("model", "alias", "set", "churn", "production", "--version", "5", workspace=ws, expect=3)
    assert "has no version '5'" in done.stderr
    again = mlyard("model", "create", "--name", "churn", "--path", str(folder), workspace=ws)
    assert "already registered as churn:1; no new version created" in again.stderr
    (folder / "weights.bin").write_bytes(b"changed")
    done = mlyard(
        "model",
        "create",
        "--name",
        "churn",
        "--path",
        str(folder),
        "--version",
        "1",
        workspace=ws,
        expect=4,
    )
    assert "churn:1 already exists" in done.stderr
    done = mlyard("model", "show", "ghost:1", workspace=ws, expect=3)
    assert "model 'ghost' does not exist" in done.stderr
    done = mlyard("job", "show", "no_such_job", workspace=ws, expect=3)
    assert "job 'no_such_job' does not exist" in done.stderr
    done = mlyard("job", "list", "--filter", "metrics.mse <", workspace=ws, expect=2)
    assert "invalid filter clause" in done.stderr


def test_help_and_unknown_command():
    assert "workspace" in mlyard("--help").stdout
    done = mlyard("frobnicate", expect=2)
    assert "No such command" in done.stderr


def test_help_loads_no_database_or_data_library():
    """Start-up is a feature: `mlyard --help` must not pay for SQLAlchemy, pydantic or pandas."""
    code = (
        "import sys\nfrom mlyard.cli.main import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('sqlalchemy', 'pydantic', 'pandas', 'sklearn', 'fsspec', 'jmespath', 'yaml')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_workspace_create_on_postgresql_records_the_database(tmp_path, pg_database):
    folder = tmp_path / "team"
    created = as_json(mlyard("--db", pg_database, "workspace", "create", "-o", "json", workspace=folder))
    assert created["created"] and created["database"].startswith("postgresql+psycopg://")
    # Later commands find the database through workspace.yaml, without --db.
    shown = as_json(mlyard("workspace", "show", "-o", "json", workspace=folder))
    assert shown["database"] == created["database"] and shown["jobs"] == 0
    done = mlyard("--db", "sqlite:////tmp/elsewhere.db", "workspace", "show", workspace=folder, expect=6)
    assert "uses database" in done.stderr


def test_read_commands_on_a_missing_workspace_fail_with_its_path_and_create_nothing(tmp_path):
    typo = tmp_path / "typo"
    for command in (["job", "list"], ["data", "list"], ["model", "list"], ["environment", "list"],
                    ["audit", "list"], ["key", "list"], ["workspace", "settings", "show"]):  # fmt: skip
        done = mlyard(*command, workspace=typo, expect=6)
        assert f"no workspace at {typo}; create one with: mlyard workspace create" in done.stderr, command
    assert not typo.exists()
    done = mlyard("job", "list", expect=6)  # the default ./.mlyard of the current folder
    assert "no workspace at" in done.stderr and ".mlyard" in done.stderr
    assert not (tmp_path / ".mlyard").exists()


def test_a_command_that_writes_creates_the_workspace_on_first_use(tmp_path):
    fresh = tmp_path / "fresh"
    created = as_json(mlyard("compute", "create", "--name", "cpu", "--type", "local", "-o", "json",
                             workspace=fresh))  # fmt: skip
    assert created["name"] == "cpu" and (fresh / "workspace.yaml").is_file()
    assert "cpu" in [c["name"] for c in as_json(mlyard("compute", "list", "-o", "json", workspace=fresh))]


def test_workspace_options_are_accepted_after_the_verb_too(tmp_path):
    folder, store = tmp_path / "team", tmp_path / "store"
    created = as_json(mlyard("workspace", "create", "--workspace", str(folder), "--artifacts", str(store),
                             "-o", "json"))  # fmt: skip
    assert created["created"] and created["path"] == str(folder) and created["artifacts"] == str(store)
    shown = as_json(mlyard("workspace", "show", "-w", str(folder), "-o", "json"))
    assert shown["path"] == str(folder) and shown["jobs"] == 0
    assert not (tmp_path / ".mlyard").exists()
    # `server start --workspace PATH`, as the hints write it, serves PATH: refused here for having no
    # key (not for having no workspace), before anything listens.
    done = mlyard("server", "start", "--workspace", str(folder), "--host", "0.0.0.0", "--port", "0", expect=5)
    assert "workspace default has no API key" in done.stderr


def test_workspace_show_with_a_url_shows_the_servers_workspace(workspace_path, serve_workspace, tmp_path):
    from mlyard.services.workspaces import keys
    from mlyard.services.workspaces.workspace import open_workspace

    token = keys.create_key(open_workspace(workspace_path), "admin-user", "admin").token
    url = serve_workspace(workspace_path)
    done = mlyard("--url", url, "--key", token, "workspace", "show", "-o", "json")
    shown = json.loads(done.stdout)
    assert shown["name"] == "default" and shown["path"] == str(workspace_path) and shown["jobs"] == 0
    assert not (tmp_path / ".mlyard").exists()  # no local folder was looked for, nor made
    done = mlyard("--url", url, "workspace", "show", expect=5)
    assert "needs an API key" in done.stderr


def test_key_create_takes_dash_o_as_the_output_format(ws):
    created = as_json(mlyard("key", "create", "--owner", "alice", "--role", "reader", "-o", "json",
                             workspace=ws))  # fmt: skip
    assert created["owner"] == "alice" and created["role"] == "reader" and created["token"].startswith("mly_")
    usage = mlyard("key", "create", "--help").stdout
    [owner_line] = [line for line in usage.splitlines() if "--owner" in line]
    assert " -o " not in owner_line  # -o is --output on every command, as in az
