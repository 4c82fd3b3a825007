"""The artifact store, run against a local folder and fsspec's in-memory filesystem."""

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fsspec.core import url_to_fs

from mlyard.artifacts import ArtifactInfo, ArtifactStore, hash_path, open_artifact_store
from mlyard.errors import AlreadyExists, Conflict, InvalidArgument, NotFound, WorkspaceError

BACKENDS = ["local", "memory"]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArtifactStore]:
    if request.param == "local":
        yield ArtifactStore(str(tmp_path / "artifacts"))
        return
    url = f"memory://test-{uuid.uuid4().hex}"
    yield ArtifactStore(url)
    fs, root = url_to_fs(url)
    if fs.exists(root):
        fs.rm(root, recursive=True)


def make_tree(folder: Path) -> Path:
    (folder / "sub" / "deep").mkdir(parents=True)
    (folder / "a.txt").write_bytes(b"alpha")
    (folder / "sub" / "b.txt").write_bytes(b"bravo!")
    (folder / "sub" / "deep" / "c.bin").write_bytes(bytes(range(256)))
    return folder


def raw_paths(store: ArtifactStore) -> set[str]:
    """Everything physically under the store root, including hidden temporary entries."""
    fs, root = url_to_fs(store.root_url)
    return {name[len(root.rstrip("/")) + 1 :] for name in fs.find(root, withdirs=True)} - {""}


def outside_root(store: ArtifactStore) -> set[str]:
    """Everything beside the store root in its parent folder (tmp_path, or memory's '/')."""
    fs, root = url_to_fs(store.root_url)
    parent = root.rstrip("/").rsplit("/", 1)[0] or "/"
    return {
        name for name in fs.find(parent, withdirs=True) if name != root and not name.startswith(root + "/")
    }


# --- round trips --------------------------------------------------------------------------------


def test_put_bytes_then_get_bytes_returns_the_same_bytes(store: ArtifactStore) -> None:
    store.put_bytes(b"\x00\x01hello", "jobs/1/out.bin")

    assert store.get_bytes("jobs/1/out.bin") == b"\x00\x01hello"
    assert store.exists("jobs/1/out.bin")


def test_put_file_then_get_bytes_returns_the_file_content(store: ArtifactStore, tmp_path: Path) -> None:
    source = tmp_path / "metrics.json"
    source.write_text('{"rmse": 0.5}')

    store.put_file(source, "runs\\r1\\metrics.json")

    assert store.get_bytes("runs/r1/metrics.json") == b'{"rmse": 0.5}'


def test_put_file_replaces_an_existing_file(store: ArtifactStore, tmp_path: Path) -> None:
    store.put_bytes(b"old", "model.pkl")
    source = tmp_path / "model.pkl"
    source.write_bytes(b"new")

    store.put_file(source, "model.pkl")

    assert store.get_bytes("model.pkl") == b"new"
    assert [info.path for info in store.list()] == ["model.pkl"]


def test_put_dir_then_download_recreates_the_nested_folder(store: ArtifactStore, tmp_path: Path) -> None:
    source = make_tree(tmp_path / "model")

    store.put_dir(source, "models/m/1")
    written = store.download("models/m/1", tmp_path / "copy")

    assert written == tmp_path / "copy"
    assert (written / "sub" / "deep" / "c.bin").read_bytes() == bytes(range(256))
    assert hash_path(written) == hash_path(source)
    assert store.get_bytes("models/m/1/sub/b.txt") == b"bravo!"


def test_put_dir_of_an_empty_folder_stores_an_empty_folder(store: ArtifactStore, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()

    store.put_dir(tmp_path / "empty", "empty")

    assert store.is_dir("empty")
    assert store.list("empty") == []


def test_put_dir_does_not_copy_files_linked_from_outside(store: ArtifactStore, tmp_path: Path) -> None:
    source = make_tree(tmp_path / "src")
    (tmp_path / "secret.txt").write_text("outside")
    (source / "secret.txt").symlink_to(tmp_path / "secret.txt")

    store.put_dir(source, "f")

    assert not store.exists("f/secret.txt")
    assert hash_path(store.download("f", tmp_path / "copy")) == hash_path(source)


def test_download_file_to_a_new_path_creates_its_folders(store: ArtifactStore, tmp_path: Path) -> None:
    store.put_bytes(b"a,b\n", "data/d/x.csv")

    written = store.download("data/d/x.csv", tmp_path / "out" / "nested" / "x.csv")

    assert written == tmp_path / "out" / "nested" / "x.csv"
    assert written.read_bytes() == b"a,b\n"
    assert sorted(p.name for p in written.parent.iterdir()) == ["x.csv"]


def test_download_file_into_an_existing_folder_keeps_its_name(store: ArtifactStore, tmp_path: Path) -> None:
    store.put_bytes(b"a,b\n", "data/d/x.csv")
    (tmp_path / "out").mkdir()

    written = store.download("data/d/x.csv", tmp_path / "out")

    assert written == tmp_path / "out" / "x.csv"
    assert written.read_bytes() == b"a,b\n"


def test_download_folder_into_an_existing_folder_merges(store: ArtifactStore, tmp_path: Path) -> None:
    store.put_dir(make_tree(tmp_path / "src"), "f")
    destination = tmp_path / "out"
    destination.mkdir()
    (destination / "mine.txt").write_text("keep")

    store.download("f", destination)

    assert (destination / "mine.txt").read_text() == "keep"
    assert (destination / "sub" / "b.txt").read_bytes() == b"bravo!"


# --- listing, existence, deletion ---------------------------------------------------------------


def test_list_shows_one_level_or_everything_sorted(store: ArtifactStore, tmp_path: Path) -> None:
    store.put_dir(make_tree(tmp_path / "src"), "f")
    store.put_bytes(b"12", "top.txt")

    assert store.list() == [ArtifactInfo("f", True, None), ArtifactInfo("top.txt", False, 2)]
    assert store.list("f") == [
        ArtifactInfo("f/a.txt", False, 5),
        ArtifactInfo("f/sub", True, None),
    ]
    assert store.list("f", recursive=True) == [
        ArtifactInfo("f/a.txt", False, 5),
        ArtifactInfo("f/sub", True, None),
        ArtifactInfo("f/sub/b.txt", False, 6),
        ArtifactInfo("f/sub/deep", True, None),
        ArtifactInfo("f/sub/deep/c.bin", False, 256),
    ]


def test_list_of_a_file_gives_that_file(store: ArtifactStore) -> None:
    store.put_bytes(b"123", "d/f.txt")

    assert store.list("d/f.txt") == [ArtifactInfo("d/f.txt", False, 3)]


def test_list_of_a_missing_path_is_empty(store: ArtifactStore) -> None:
    assert store.list("nothing/here") == []
    assert store.list("nothing", recursive=True) == []


def test_unfinished_writes_are_neither_listed_nor_downloaded(store: ArtifactStore, tmp_path: Path) -> None:
    fs, root = url_to_fs(store.root_url)
    store.put_bytes(b"done", "f/done.txt")
    # What a writer killed mid-upload leaves behind.
    fs.makedirs(f"{root}/.staging-{uuid.uuid4().hex}", exist_ok=True)
    fs.pipe_file(f"{root}/f/.done.txt.tmp-{uuid.uuid4().hex}", b"partial")

    assert [info.path for info in store.list(recursive=True)] == ["f", "f/done.txt"]
    store.download("", tmp_path / "all")
    assert sorted(p.relative_to(tmp_path / "all").as_posix() for p in (tmp_path / "all").rglob("*")) == [
        "f",
        "f/done.txt",
    ]


def test_exists_and_is_dir_tell_files_folders_and_nothing_apart(store: ArtifactStore) -> None:
    store.put_bytes(b"1", "d/f.txt")

    assert (store.exists("d"), store.is_dir("d")) == (True, True)
    assert (store.exists("d/f.txt"), store.is_dir("d/f.txt")) == (True, False)
    assert (store.exists("d/g.txt"), store.is_dir("d/g.txt")) == (False, False)


def test_delete_removes_a_folder_recursively(store: ArtifactStore, tmp_path: Path) -> None:
    store.put_dir(make_tree(tmp_path / "src"), "models/m/1")
    store.put_bytes(b"keep", "models/m/2.txt")

    store.delete("models/m/1")

    assert not store.exists("models/m/1")
    assert [info.path for info in store.list("models", recursive=True)] == [
        "models/m",
        "models/m/2.txt",
    ]


def test_delete_of_a_missing_path_does_nothing(store: ArtifactStore) -> None:
    store.put_bytes(b"keep", "a.txt")

    store.delete("never/written")

    assert store.get_bytes("a.txt") == b"keep"


def test_delete_refuses_the_store_root(store: ArtifactStore) -> None:
    store.put_bytes(b"keep", "a.txt")

    with pytest.raises(InvalidArgument, match="artifact path '' is empty"):
        store.delete("")

    assert store.get_bytes("a.txt") == b"keep"


# --- misses and clashes -------------------------------------------------------------------------


def test_missing_artifact_raises_not_found_naming_it(store: ArtifactStore, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"artifact .*models/x/weights\.bin does not exist"):
        store.get_bytes("models/x/weights.bin")
    with pytest.raises(NotFound, match=r"artifact .*models/x does not exist"):
        store.download("models/x", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_get_bytes_of_a_folder_says_it_is_a_folder(store: ArtifactStore) -> None:
    store.put_bytes(b"1", "d/f.txt")

    with pytest.raises(InvalidArgument, match=r"artifact .*d is a folder"):
        store.get_bytes("d")


def test_missing_local_source_raises_not_found_naming_it(store: ArtifactStore, tmp_path: Path) -> None:
    missing = tmp_path / "gone.csv"

    with pytest.raises(NotFound, match=re.escape(f"local file {missing} does not exist")):
        store.put_file(missing, "gone.csv")
    with pytest.raises(NotFound, match=re.escape(f"local folder {missing} does not exist")):
        store.put_dir(missing, "gone")
    assert store.list() == []


def test_put_dir_onto_an_existing_path_raises_and_keeps_the_original(
    store: ArtifactStore, tmp_path: Path
) -> None:
    store.put_dir(make_tree(tmp_path / "first"), "models/m/1")
    other = tmp_path / "second"
    other.mkdir()
    (other / "other.txt").write_text("other")

    with pytest.raises(AlreadyExists, match=r"artifact .*models/m/1 already exists"):
        store.put_dir(other, "models/m/1")

    assert store.get_bytes("models/m/1/a.txt") == b"alpha"
    assert not store.exists("models/m/1/other.txt")
    assert not any(".staging-" in path for path in raw_paths(store))


def test_put_file_onto_a_folder_raises_conflict(store: ArtifactStore) -> None:
    store.put_bytes(b"1", "d/f.txt")

    with pytest.raises(Conflict, match=r"artifact .*d is a folder"):
        store.put_bytes(b"2", "d")

    assert store.get_bytes("d/f.txt") == b"1"


def test_put_below_a_file_raises_conflict(store: ArtifactStore) -> None:
    store.put_bytes(b"1", "f.txt")

    with pytest.raises(Conflict, match=r"cannot store .*f\.txt/g\.txt: a file is in the way"):
        store.put_bytes(b"2", "f.txt/g.txt")

    assert store.get_bytes("f.txt") == b"1"


# --- nothing escapes the root -------------------------------------------------------------------

ESCAPES = [
    ("../x", r"'\.\./x' contains '\.\.'"),
    ("a/../../x", r"'a/\.\./\.\./x' contains '\.\.'"),
    ("/etc/passwd", "'/etc/passwd' is absolute"),
    ("C:\\x", r"'C:\\\\x' is absolute"),
    ("x\0y", r"'x\\x00y' contains a NUL character"),
]


@pytest.mark.parametrize(("path", "message"), ESCAPES)
def test_writes_outside_the_root_are_rejected(
    store: ArtifactStore, tmp_path: Path, path: str, message: str
) -> None:
    source = make_tree(tmp_path / "src")
    before = outside_root(store)

    with pytest.raises(InvalidArgument, match=message):
        store.put_bytes(b"evil", path)
    with pytest.raises(InvalidArgument, match=message):
        store.put_file(source / "a.txt", path)
    with pytest.raises(InvalidArgument, match=message):
        store.put_dir(source, path)

    assert outside_root(store) == before
    assert store.list() == []


@pytest.mark.parametrize(("path", "message"), ESCAPES)
def test_reads_and_deletes_outside_the_root_are_rejected(
    store: ArtifactStore, path: str, message: str
) -> None:
    before = outside_root(store)

    for call in (store.get_bytes, store.delete, store.exists, store.list, store.uri):
        with pytest.raises(InvalidArgument, match=message):
            call(path)

    assert outside_root(store) == before


# --- failures leave nothing half-written --------------------------------------------------------


def fail(*args: Any, **kwargs: Any) -> None:
    raise OSError("simulated: connection lost")


@pytest.mark.parametrize("write", ["put_bytes", "put_file"])
def test_failed_upload_leaves_previous_content_and_no_temporary_file(
    store: ArtifactStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write: str
) -> None:
    store.put_bytes(b"v1", "out/model.pkl")
    source = tmp_path / "model.pkl"
    source.write_bytes(b"v2")
    fs, _ = url_to_fs(store.root_url)
    monkeypatch.setattr(type(fs), "mv", fail)

    with pytest.raises(OSError, match="simulated"):
        if write == "put_bytes":
            store.put_bytes(b"v2", "out/model.pkl")
        else:
            store.put_file(source, "out/model.pkl")

    assert store.get_bytes("out/model.pkl") == b"v1"
    assert raw_paths(store) == {"out", "out/model.pkl"}


def test_failed_first_upload_leaves_no_file_at_all(
    store: ArtifactStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    fs, _ = url_to_fs(store.root_url)
    monkeypatch.setattr(type(fs), "mv", fail)

    with pytest.raises(OSError, match="simulated"):
        store.put_bytes(b"data", "new.bin")

    assert not store.exists("new.bin")
    assert raw_paths(store) == set()


def test_failed_put_dir_leaves_no_folder_and_no_staging(
    store: ArtifactStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make_tree(tmp_path / "src")
    fs, _ = url_to_fs(store.root_url)
    real_put_file = type(fs).put_file
    calls: list[str] = []

    def fail_on_second_file(self: Any, lpath: str, rpath: str, **kwargs: Any) -> None:
        calls.append(rpath)
        if len(calls) == 2:
            raise OSError("simulated: connection lost")
        real_put_file(self, lpath, rpath, **kwargs)

    monkeypatch.setattr(type(fs), "put_file", fail_on_second_file)

    with pytest.raises(OSError, match="simulated"):
        store.put_dir(source, "models/m/1")

    assert not store.exists("models/m/1")
    assert not any(".staging-" in path for path in raw_paths(store))


# --- roots, URLs and local access ---------------------------------------------------------------


def test_local_root_is_created_and_exposes_real_paths(tmp_path: Path) -> None:
    root = tmp_path / "ws" / "artifacts"

    store = open_artifact_store(str(root))
    store.put_bytes(b"hi", "a/b.txt")

    assert root.is_dir()
    assert store.root_url == str(root)
    assert store.is_local
    assert store.local_path("a/b.txt") == root / "a" / "b.txt"
    assert (root / "a" / "b.txt").read_bytes() == b"hi"
    assert store.uri("a/b.txt") == str(root / "a" / "b.txt")


def test_file_url_is_a_local_store(tmp_path: Path) -> None:
    store = open_artifact_store(f"file://{tmp_path}/artifacts")
    store.put_bytes(b"hi", "x.txt")

    assert store.is_local
    assert store.local_path("x.txt") == tmp_path / "artifacts" / "x.txt"


def test_remote_store_has_no_local_paths_and_shows_urls() -> None:
    url = f"memory://test-{uuid.uuid4().hex}"
    store = open_artifact_store(url)

    assert not store.is_local
    assert store.local_path("a/b.txt") is None
    assert store.uri("a\\b.txt") == f"{url}/a/b.txt"
    assert store.uri("") == url


def test_root_that_is_a_file_raises_workspace_error(tmp_path: Path) -> None:
    root = tmp_path / "artifacts"
    root.write_text("not a folder")

    with pytest.raises(WorkspaceError, match=re.escape(f"artifact root {root} is a file")):
        ArtifactStore(str(root))

    assert root.read_text() == "not a folder"
