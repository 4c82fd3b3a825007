"""One rule for what a code folder's source is: the hash, the working copy and the upload agree."""

from __future__ import annotations

from pathlib import Path

from mlyard.services.tracking.source_code import copy_source_tree, hash_source_folder, source_files


def _project(root: Path) -> Path:
    files = {
        "train.py": "print('train')\n",
        "pkg/model.py": "X = 1\n",
        "pkg/data/config.yaml": "alpha: 0.5\n",
        # never source: an environment named env/, build output, caches, VCS, an egg-info, bytecode
        "env/lib/site.py": "venv\n",
        "venv/bin/python": "venv\n",
        "build/lib/train.py": "old build\n",
        "dist/pkg.whl": "wheel\n",
        ".tox/py311/x": "tox\n",
        "mlruns/0/meta.yaml": "mlflow\n",
        ".git/HEAD": "ref\n",
        "pkg.egg-info/PKG-INFO": "egg\n",
        "pkg/__pycache__/model.cpython-311.pyc": "bytecode\n",
        "stale.pyc": "bytecode\n",
    }
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_working_copy_holds_exactly_the_files_the_code_hash_covers(tmp_path: Path) -> None:
    source = _project(tmp_path / "src")
    copy = tmp_path / "copy"
    copy_source_tree(source, copy)

    copied = sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file())
    hashed = sorted(p.relative_to(source).as_posix() for p in source_files(source))
    assert copied == hashed == ["pkg/data/config.yaml", "pkg/model.py", "train.py"]
    assert hash_source_folder(copy) == hash_source_folder(source)


def test_a_virtualenv_named_env_changes_neither_the_hash_nor_the_copy(tmp_path: Path) -> None:
    source = _project(tmp_path / "src")
    before = hash_source_folder(source)
    (source / "env" / "lib" / "big.py").write_text("x" * 1000)
    assert hash_source_folder(source) == before
    copy = tmp_path / "copy"
    copy_source_tree(source, copy)
    assert not (copy / "env").exists()


def test_a_changed_source_file_changes_the_hash(tmp_path: Path) -> None:
    source = _project(tmp_path / "src")
    before, count = hash_source_folder(source)
    (source / "pkg" / "model.py").write_text("X = 2\n")
    after, _ = hash_source_folder(source)
    assert count == 3 and after != before
