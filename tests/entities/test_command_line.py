"""Rendering `${{inputs.x}}`, `${{outputs.y}}` and optional `$[[ … ]]` parts of a command."""

from __future__ import annotations

import shlex

import pytest

from mlyard.entities.specs.command_line import Binding, bindings, render_command
from mlyard.errors import InvalidSpec

COMMAND = (
    "python train.py --data ${{inputs.data}} $[[--epochs ${{ inputs.epochs }}]] --out ${{outputs.model}}"
)


def test_bindings_are_listed_in_order_with_their_optionality():
    assert bindings(COMMAND) == [
        Binding("inputs", "data", False),
        Binding("inputs", "epochs", True),
        Binding("outputs", "model", False),
    ]


def test_values_are_substituted_and_shell_quoted():
    rendered = render_command(COMMAND, {"data": "/d/my data.csv", "epochs": "3"}, {"model": "/out"})
    assert shlex.split(rendered) == [
        "python", "train.py", "--data", "/d/my data.csv", "--epochs", "3", "--out", "/out",
    ]  # fmt: skip


def test_an_optional_part_without_its_input_is_dropped():
    rendered = render_command(COMMAND, {"data": "/d", "epochs": None}, {"model": "/out"})
    assert shlex.split(rendered) == ["python", "train.py", "--data", "/d", "--out", "/out"]


def test_multi_line_scripts_keep_their_lines():
    rendered = render_command("echo ${{inputs.a}}\necho done", {"a": "x"}, {})
    assert rendered == "echo x\necho done"


def test_a_value_cannot_inject_shell_syntax():
    rendered = render_command("echo ${{inputs.a}}", {"a": "x; rm -rf /"}, {})
    assert shlex.split(rendered) == ["echo", "x; rm -rf /"]


def test_unknown_or_missing_bindings_are_named():
    with pytest.raises(
        InvalidSpec, match=r"uses \$\{\{inputs.lr\}\}, but inputs has no 'lr' \(declared: data\)"
    ):
        render_command("run ${{inputs.lr}}", {"data": "/d"}, {})
    with pytest.raises(InvalidSpec, match=r"outside \$\[\[ … \]\], but no value was given"):
        render_command("run ${{inputs.data}}", {"data": None}, {})
