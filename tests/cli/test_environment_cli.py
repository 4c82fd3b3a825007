"""`mlyard environment …` driven as a user drives it: subprocesses, exit codes, `--output json`.

The service tests run on both databases; these run on SQLite only, to keep the wall time small.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

MLYARD = [sys.executable, "-m", "mlyard.cli.main"]
CURRENT = f"{sys.version_info.major}.{sys.version_info.minor}"
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.fixture
def cli(workspace_path: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run `mlyard --workspace <ws> …` in `tmp_path` with a venv cache of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLYARD_")}
    env |= {"COLUMNS": "200", "MLYARD_ENV_CACHE": str(tmp_path / "envs")}

    def run(*args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*MLYARD, "--workspace", str(workspace_path), *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=180,
        )
        assert done.returncode == expect, (
            f"exit {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}"
        )
        return done

    return run


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


@pytest.mark.slow
def test_create_list_show_and_build_an_environment(cli, tmp_path):
    write(tmp_path, "requirements.txt", "six\n")
    write(tmp_path, "env.yml", "name: tiny\ndescription: just six\npip_requirements: requirements.txt\n")
    created = json.loads(cli("environment", "create", "--file", "env.yml", "-o", "json").stdout)
    assert created["version"] == "1" and created["created"] is True
    assert created["resolved"]["requirements"] == ["six"] and created["resolved"]["python_version"] == CURRENT
    again = cli("environment", "create", "-f", "env.yml")
    assert "already registered as tiny:1" in again.stderr

    renamed = json.loads(
        cli("environment", "create", "-f", "env.yml", "--name", "other", "-o", "json").stdout
    )
    assert (renamed["name"], renamed["version"]) == ("other", "1")
    listed = json.loads(cli("environment", "list", "-o", "json").stdout)
    assert [(e["name"], e["version"]) for e in listed] == [("other", "1"), ("tiny", "1")]
    shown = cli("environment", "show", "tiny@latest").stdout
    assert "just six" in shown and created["spec_hash"] in shown

    built = cli("environment", "build", "tiny:1")
    venv = Path(built.stdout.strip())
    assert venv == tmp_path / "envs" / created["spec_hash"] and "built in" in built.stderr
    reused = json.loads(cli("environment", "build", "tiny:1", "-o", "json").stdout)
    assert reused["reused"] is True and reused["path"] == str(venv)


def test_create_with_build_and_build_inherit(cli, tmp_path):
    write(tmp_path, "env.yml", "name: quick\npip_requirements: [idna]\n")
    created = json.loads(
        cli("environment", "create", "-f", "env.yml", "--version", "7", "--build", "-o", "json").stdout
    )
    assert created["version"] == "7" and created["build"]["reused"] is False
    assert Path(created["build"]["python"]).is_file()
    inherit = json.loads(cli("environment", "build", "inherit", "-o", "json").stdout)
    assert inherit["spec_hash"] is None


@pytest.mark.slow
def test_environment_errors_exit_non_zero_and_name_the_thing(cli, tmp_path):
    write(tmp_path, "bad.yml", "name: e\nconda_fil: conda.yml\n")
    done = cli("environment", "create", "-f", "bad.yml", "--strict", expect=2)
    assert "bad.yml: conda_fil: unknown field" in done.stderr
    write(tmp_path, "image.yml", "name: e\nimage: python:3.11-slim\nbuild: {path: ./missing}\n")
    done = cli("environment", "create", "-f", "image.yml", expect=3)
    assert "image.yml: build.path: folder" in done.stderr and "missing does not exist" in done.stderr
    done = cli("environment", "build", "azureml:AzureML-sklern-1.5-ubuntu20.04-py38-cpu@latest", expect=3)
    assert "has no local equivalent" in done.stderr and "sklearn-1.5" in done.stderr
    done = cli("environment", "show", "nope:1", expect=3)
    assert "environment 'nope' does not exist" in done.stderr
    write(
        tmp_path,
        "broken.yml",
        f"name: broken\npython_version: '{CURRENT}'\npip_requirements: [mlyard-no-such-pkg-xyz]\n",
    )
    done = cli("environment", "create", "-f", "broken.yml", "--build", expect=9)
    assert "failed" in done.stderr and "mlyard-no-such-pkg-xyz" in done.stderr
    assert not any((tmp_path / "envs").glob("*/bin"))
