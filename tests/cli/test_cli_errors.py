"""What a script sees when a command fails: one unwrapped line on stderr, and the exit code of the
README's table (3 for anything named that is not there, a file as much as a registered asset)."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

from tests.cli.test_cli import MLYARD, mlyard
from tests.services.test_components import component_file


def _failing(*args: str, expect: int) -> list[str]:
    """Run mlyard as a CI script does (stderr a pipe, no COLUMNS); the lines it wrote to stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLYARD_") and k != "COLUMNS"}
    done = subprocess.run([*MLYARD, *args], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == expect, f"exit {done.returncode}\nstderr: {done.stderr}"
    return done.stderr.splitlines()


def _pipeline(folder: Path, steps: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pipeline.yml"
    path.write_text("type: pipeline\njobs:\n" + textwrap.indent(textwrap.dedent(steps), "  "))
    return path


def test_an_error_longer_than_80_columns_stays_one_line_with_its_suggested_command(tmp_path):
    missing = tmp_path / "a-rather-long-folder-name-for-the-development-workspace"
    lines = _failing("server", "start", "--serve", f"dev={missing}", expect=6)
    assert lines == [
        f"error: --serve dev={missing}: no workspace there; create it with: "
        f"mlyard workspace create --workspace {missing}"
    ]


def test_a_corrupt_workspace_yaml_is_one_line_naming_the_file_and_line(tmp_path):
    ws = tmp_path / "ws"
    mlyard("workspace", "create", workspace=ws)
    (ws / "workspace.yaml").write_text("name: ws\ndatabase: [mlyard.db\n")
    lines = _failing("--workspace", str(ws), "workspace", "show", expect=6)
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {ws / 'workspace.yaml'} (line 3, column 1): not valid YAML:")
    assert "fix that line" in lines[0]


def test_several_problems_of_one_spec_are_one_line_for_scripts_and_keep_their_exit_code(tmp_path):
    path = _pipeline(
        tmp_path / "proj",
        """\
        prep: {component: ./nowhere/prep.yml}
        train: {component: ./nowhere/train.yml}
        """,
    )
    lines = _failing("--workspace", str(tmp_path / "ws"), "job", "create", "-f", str(path), expect=3)
    assert len(lines) == 1
    assert "jobs.prep.component: ./nowhere/prep.yml does not exist" in lines[0]
    assert " | " in lines[0] and "jobs.train.component: ./nowhere/train.yml does not exist" in lines[0]


def test_a_missing_component_file_and_an_unknown_component_version_both_exit_3(tmp_path):
    ws = tmp_path / "ws"
    mlyard("component", "create", "--file", str(component_file(tmp_path / "proj")), workspace=ws)
    missing_file = _pipeline(tmp_path / "a", "train: {component: ./train.yml}\n")
    done = mlyard("job", "create", "-f", str(missing_file), workspace=ws, expect=3)
    assert "jobs.train.component: ./train.yml does not exist" in done.stderr
    unknown_version = _pipeline(tmp_path / "b", "train: {component: azureml:train_model:2}\n")
    done = mlyard("job", "create", "-f", str(unknown_version), workspace=ws, expect=3)
    assert "component 'train_model' has no version '2'; versions: 1" in done.stderr


def test_a_missing_code_folder_an_unknown_data_asset_and_a_missing_spec_file_all_exit_3(tmp_path):
    ws, proj = tmp_path / "ws", tmp_path / "proj"
    proj.mkdir()
    (proj / "no_code.yml").write_text("code: ./nowhere\ncommand: echo hi\n")
    done = mlyard("job", "create", "-f", str(proj / "no_code.yml"), workspace=ws, expect=3)
    assert "code: ./nowhere does not exist" in done.stderr
    (proj / "no_data.yml").write_text(
        "command: cat ${{inputs.x}}\ninputs:\n  x: {type: uri_file, path: azureml:ghost:1}\n"
    )
    done = mlyard("job", "create", "-f", str(proj / "no_data.yml"), workspace=ws, expect=3)
    assert "data asset 'ghost' does not exist" in done.stderr
    done = mlyard("job", "create", "-f", str(proj / "absent.yml"), workspace=ws, expect=3)
    assert "absent.yml does not exist" in done.stderr


def test_an_environment_naming_a_missing_conda_file_exits_3(tmp_path):
    spec = tmp_path / "env.yml"
    spec.write_text("name: e\nconda_file: conda.yml\n")
    done = mlyard("environment", "create", "-f", str(spec), workspace=tmp_path / "ws", expect=3)
    assert "conda_file: file" in done.stderr and "conda.yml does not exist" in done.stderr
