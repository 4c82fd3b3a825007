import hashlib
import os
import re
from pathlib import Path

import pytest

from mlyard.artifacts import hash_path
from mlyard.errors import NotFound


def make_tree(folder: Path) -> Path:
    (folder / "sub" / "deep").mkdir(parents=True)
    (folder / "a.txt").write_bytes(b"alpha")
    (folder / "sub" / "b.txt").write_bytes(b"bravo!")
    (folder / "sub" / "deep" / "c.bin").write_bytes(bytes(range(256)))
    return folder


def test_file_hash_is_sha256_of_its_bytes(tmp_path: Path) -> None:
    file = tmp_path / "data.csv"
    file.write_bytes(b"x,y\n1,2\n")

    result = hash_path(file)

    assert result.sha256 == hashlib.sha256(b"x,y\n1,2\n").hexdigest()
    assert (result.size_bytes, result.file_count) == (8, 1)


def test_file_larger_than_one_read_chunk_hashes_whole_content(tmp_path: Path) -> None:
    content = os.urandom(2 * 1024 * 1024 + 123)
    file = tmp_path / "big.bin"
    file.write_bytes(content)

    assert hash_path(file).sha256 == hashlib.sha256(content).hexdigest()
    assert hash_path(file).size_bytes == len(content)


def test_folder_hash_counts_nested_files_and_bytes(tmp_path: Path) -> None:
    result = hash_path(make_tree(tmp_path / "data"))

    assert result.file_count == 3
    assert result.size_bytes == 5 + 6 + 256
    assert len(result.sha256) == 64


def test_folder_hash_is_stable_and_independent_of_location(tmp_path: Path) -> None:
    first = hash_path(make_tree(tmp_path / "one"))

    assert hash_path(tmp_path / "one") == first
    assert hash_path(make_tree(tmp_path / "two")) == first


def test_folder_hash_changes_when_a_file_is_edited(tmp_path: Path) -> None:
    folder = make_tree(tmp_path / "data")
    before = hash_path(folder)

    (folder / "sub" / "b.txt").write_bytes(b"BRAVO!")

    assert hash_path(folder).sha256 != before.sha256


def test_folder_hash_changes_when_a_file_is_renamed(tmp_path: Path) -> None:
    folder = make_tree(tmp_path / "data")
    before = hash_path(folder)

    (folder / "a.txt").rename(folder / "renamed.txt")

    after = hash_path(folder)
    assert after.sha256 != before.sha256
    assert (after.size_bytes, after.file_count) == (before.size_bytes, before.file_count)


def test_folder_hash_ignores_modification_times(tmp_path: Path) -> None:
    folder = make_tree(tmp_path / "data")
    before = hash_path(folder)

    for file in folder.rglob("*"):
        os.utime(file, (1_000_000_000, 1_000_000_000))

    assert hash_path(folder) == before


def test_folder_hash_ignores_symlinks_pointing_outside(tmp_path: Path) -> None:
    folder = make_tree(tmp_path / "data")
    before = hash_path(folder)
    (tmp_path / "secret.txt").write_text("outside")

    (folder / "link.txt").symlink_to(tmp_path / "secret.txt")
    (folder / "linked_dir").symlink_to(tmp_path, target_is_directory=True)

    assert hash_path(folder) == before


def test_hash_of_missing_path_raises_not_found_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"

    with pytest.raises(NotFound, match=re.escape(f"{missing} does not exist")):
        hash_path(missing)
