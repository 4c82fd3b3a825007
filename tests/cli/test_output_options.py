"""Every command's `-o/--output json|tsv|table|yaml|none` and `--query`, as `az` has them."""

from __future__ import annotations

import json
from typing import Annotated, Any

import pytest
import typer
import yaml

from mlyard.cli.main import app
from mlyard.cli.output_options import add_output_options
from tests.cli.test_cli import as_json, mlyard
from tests.cli.test_cli_errors import _failing
from tests.cli.test_job_cli import JOB, write_job


def _leaf_commands(command: Any, path: str = "mlyard") -> list[tuple[str, Any]]:
    """Every command under the (click) group Typer builds, with the words that run it."""
    if hasattr(command, "commands"):
        return [
            leaf
            for name, child in command.commands.items()
            for leaf in _leaf_commands(child, f"{path} {name}")
        ]
    return [(path, command)]


def test_every_command_accepts_output_and_query():
    commands = _leaf_commands(typer.main.get_command(app))
    assert len(commands) > 60  # the walk really reached the sub-commands
    for path, command in commands:
        options = {opt: param for param in command.params for opt in param.opts}
        assert {"-o", "--output", "--query"} <= options.keys(), f"{path} lacks the output options"


def test_a_command_declaring_its_own_dash_o_is_refused_when_the_cli_is_built():
    clashing = typer.Typer()

    @clashing.command("create")
    def create(owner: Annotated[str, typer.Option("--owner", "-o")]) -> None: ...

    @clashing.command("list")
    def list_() -> None: ...

    with pytest.raises(RuntimeError, match="command 'create' declares -o: those options are every"):
        add_output_options(clashing)


def test_version_in_every_format():
    assert mlyard("version").stdout.strip() == as_json(mlyard("version", "-o", "json"))["version"]
    version = as_json(mlyard("version", "-o", "json"))["version"]
    assert mlyard("version", "--query", "version", "-o", "tsv").stdout == f"{version}\n"
    assert yaml.safe_load(mlyard("version", "-o", "yaml").stdout) == {"version": version}
    assert mlyard("version", "-o", "none").stdout == ""
    assert mlyard("version", "-o", "JSON").stdout.startswith("{")  # as az: the format's case is free


def test_job_create_query_name_tsv_prints_the_job_name_alone(tmp_path):
    ws = tmp_path / "ws"
    path = write_job(tmp_path / "proj", JOB)
    name = mlyard("job", "create", "--file", str(path), "--query", "name", "-o", "tsv", workspace=ws).stdout
    assert name.count("\n") == 1 and "\t" not in name
    shown = as_json(mlyard("job", "show", name.strip(), "-o", "json", workspace=ws))
    assert shown["name"] == shown["id"] == name.strip()
    assert shown["experiment"] == "cli-jobs"
    # A dict is one row, its values tab-separated in the query's order; a list is a line per item.
    row = mlyard(
        "job", "show", name.strip(), "--query", "{n: name, e: experiment}", "-o", "tsv", workspace=ws
    )
    assert row.stdout == f"{name.strip()}\tcli-jobs\n"
    lines = mlyard("job", "show", name.strip(), "--query", "[name, experiment]", "-o", "tsv", workspace=ws)
    assert lines.stdout == f"{name.strip()}\ncli-jobs\n"


def test_tsv_prints_a_row_per_item_and_a_line_per_scalar(tmp_path):
    ws = tmp_path / "ws"
    for name in ("cpu", "gpu"):
        mlyard("compute", "create", "--name", name, "--description", "two words", workspace=ws)
    listed = mlyard("compute", "list", "--query", "[?type=='local'].[name, description]", "-o", "tsv",
                    workspace=ws).stdout  # fmt: skip
    assert "cpu\ttwo words\n" in listed and "gpu\ttwo words\n" in listed
    names = mlyard("compute", "list", "--query", "[].name", "-o", "tsv", workspace=ws).stdout.splitlines()
    assert {"cpu", "gpu"} <= set(names)
    shown = mlyard("compute", "show", "cpu", "-o", "tsv", workspace=ws).stdout
    assert shown.count("\n") == 1 and shown.split("\t")[0] == "cpu"  # a dict: one row of its values


def test_query_with_the_table_format_prints_the_selection_as_a_table(tmp_path):
    ws = tmp_path / "ws"
    mlyard("compute", "create", "--name", "cpu", workspace=ws)
    table = mlyard("compute", "list", "--query", "[].{compute: name, kind: type}", workspace=ws).stdout
    assert "compute" in table and "kind" in table and "cpu" in table


def test_an_invalid_query_fails_before_the_command_acts(tmp_path):
    ws = tmp_path / "ws"
    mlyard("workspace", "create", workspace=ws)
    done = mlyard("compute", "create", "--name", "cpu", "--query", "[?", workspace=ws, expect=2)
    assert "--query '[?' is not a JMESPath expression" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "cpu" not in mlyard("compute", "list", "-o", "json", workspace=ws).stdout
    done = mlyard("compute", "list", "-o", "xml", workspace=ws, expect=2)
    assert "'xml' is not one of" in done.stderr


def test_commands_that_printed_only_a_message_print_their_result_for_scripts(tmp_path):
    ws = tmp_path / "ws"
    mlyard("compute", "create", "--name", "cpu", workspace=ws)
    assert as_json(mlyard("compute", "delete", "cpu", "-o", "json", workspace=ws)) == {
        "name": "cpu",
        "deleted": True,
    }
    key = as_json(mlyard("key", "create", "--owner", "ci", "--role", "reader", "-o", "json", workspace=ws))
    revoked = mlyard("key", "revoke", key["id"], "--query", "revoked", "-o", "json", workspace=ws)
    assert json.loads(revoked.stdout) is True
    settings = mlyard("workspace", "settings", "set", "allow_self_approval=true", "-o", "yaml", workspace=ws)
    assert yaml.safe_load(settings.stdout)["allow_self_approval"] is True


def test_online_endpoint_get_credentials_accepts_output_and_query(tmp_path):
    ws = tmp_path / "ws"
    mlyard("online-endpoint", "create", "--name", "scorer", workspace=ws)
    keys = as_json(
        mlyard("online-endpoint", "get-credentials", "-n", "scorer", "--output", "json", workspace=ws)
    )
    assert keys["primaryKey"] and keys["secondaryKey"]
    primary = mlyard("online-endpoint", "get-credentials", "-n", "scorer",
                     "--query", "primaryKey", "-o", "tsv", workspace=ws).stdout  # fmt: skip
    assert primary == keys["primaryKey"] + "\n"
    renewed = mlyard("online-endpoint", "regenerate-keys", "-n", "scorer", "--key-type", "secondary",
                     "-o", "json", workspace=ws)  # fmt: skip
    assert as_json(renewed)["primaryKey"] == keys["primaryKey"] != as_json(renewed)["secondaryKey"]
    gone = mlyard("online-endpoint", "delete", "-n", "scorer", "-o", "tsv", workspace=ws).stdout
    assert gone == "scorer\ttrue\n"


def test_a_usage_error_is_an_unwrapped_line_not_a_box(tmp_path):
    lines = _failing("--workspace", str(tmp_path / "ws"), "compute", "list", "-o", "xml", expect=2)
    assert "Error: Invalid value for '--output' / '-o': Value error, 'xml' is not one of 'table', 'json', " \
        "'tsv', 'yaml', 'none'." in lines  # fmt: skip
