"""What a remote client sends with a spec: every local path it names, wherever it is, and nothing
else (client/remote/closure.py). The server resolves the spec's own relative paths against it."""

from __future__ import annotations

import posixpath
from pathlib import Path

import pytest

from mlyard.client.remote.closure import spec_closure
from mlyard.errors import InvalidSpec, NotFound
from mlyard.services.assets.code_snapshots import resolve_code


def touch(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def online(tmp_path: Path) -> Path:
    """Azure's `endpoints/online/`: model-1's files beside the `managed/sample` deployment."""
    root = tmp_path / "online"
    touch(root / "model-1" / "model" / "sklearn_regression_model.pkl")
    touch(root / "model-1" / "onlinescoring" / "score.py")
    touch(root / "model-1" / "environment" / "conda.yaml", "dependencies: [python=3.11]\n")
    touch(root / "model-1" / "unreferenced" / "notes.txt")
    touch(root / "managed" / "sample" / "blue" / "unrelated.txt")  # a folder named like the deployment
    return root / "managed" / "sample"


DEPLOYMENT = {
    "name": "blue", "endpoint_name": "model-1", "description": "score.py",
    "model": {"path": "../../model-1/model/"},
    "code_configuration": {"code": "../../model-1/onlinescoring/", "scoring_script": "score.py"},
    "environment": {"conda_file": "../../model-1/environment/conda.yaml"},
    "tags": {"model": "blue"},
}  # fmt: skip


def test_paths_two_folders_up_are_sent_where_the_spec_finds_them(online):
    closure = spec_closure(DEPLOYMENT, online)
    assert sorted(closure.files) == [
        "model-1/environment/conda.yaml",
        "model-1/model/sklearn_regression_model.pkl",
        "model-1/onlinescoring/score.py",
    ]
    assert closure.base == "managed/sample" and closure.spec == DEPLOYMENT
    for named in ("../../model-1/model/", "../../model-1/onlinescoring/"):
        assert any(f.startswith(posixpath.normpath(f"{closure.base}/{named}")) for f in closure.files)


def test_an_unreferenced_sibling_and_names_that_match_folders_are_not_sent(online):
    sent = spec_closure(DEPLOYMENT, online).files
    assert not [path for path in sent if "unreferenced" in path or "unrelated" in path]


def test_a_link_leading_out_of_a_referenced_folder_is_not_sent(tmp_path):
    secret = touch(tmp_path / "home" / ".ssh" / "id_rsa", "private")
    code = tmp_path / "project" / "src"
    touch(code / "train.py")
    (code / "key").symlink_to(secret)
    (code / "ssh").symlink_to(secret.parent, target_is_directory=True)
    (code / "again.py").symlink_to(code / "train.py")
    sent = spec_closure({"code": "./src", "command": "python train.py"}, tmp_path / "project").files
    assert sorted(sent) == ["src/again.py", "src/train.py"]


def test_a_named_link_is_sent_at_the_place_the_spec_names(tmp_path):
    touch(tmp_path / "shared" / "data.csv", "a\n1\n")
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / "data").symlink_to(tmp_path / "shared", target_is_directory=True)
    closure = spec_closure({"inputs": {"table": {"type": "uri_folder", "path": "data"}}}, tmp_path / "job")
    assert sorted(closure.files) == ["data/data.csv"] and closure.base == ""


def test_additional_includes_that_are_missing_or_clash_are_named(tmp_path):
    touch(tmp_path / "component" / "src" / "utils.py")
    touch(tmp_path / "shared" / "utils.py")
    with pytest.raises(NotFound, match=r"train\.yml: additional_includes\[0\]: \.\./nowhere does not exist"):
        resolve_code("./src", tmp_path / "component", "train.yml: code", ["../nowhere"])
    clash = r"additional_includes\[0\]: \.\./shared/utils\.py would replace utils\.py"
    with pytest.raises(InvalidSpec, match=clash):
        resolve_code("./src", tmp_path / "component", "train.yml: code", ["../shared/utils.py"])
