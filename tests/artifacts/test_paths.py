import pytest

from mlyard.artifacts import safe_relpath
from mlyard.errors import InvalidArgument


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("a/b.txt", "a/b.txt"),
        ("a\\b.txt", "a/b.txt"),
        ("./a//b.txt", "a/b.txt"),
        ("a/./b/", "a/b"),
        (".hidden/file", ".hidden/file"),
    ],
)
def test_safe_relpath_normalises_to_posix(given: str, expected: str) -> None:
    assert safe_relpath(given) == expected


@pytest.mark.parametrize("given", ["", ".", "./", "././"])
def test_safe_relpath_rejects_empty_path(given: str) -> None:
    with pytest.raises(InvalidArgument, match=f"artifact path {given!r} is empty"):
        safe_relpath(given)


@pytest.mark.parametrize("given", ["", ".", "./"])
def test_safe_relpath_allows_root_only_when_asked(given: str) -> None:
    assert safe_relpath(given, allow_root=True) == ""


@pytest.mark.parametrize("given", ["/etc/passwd", "/", "C:\\x", "c:/x", "C:x", "\\\\server\\share"])
def test_safe_relpath_rejects_absolute_paths(given: str) -> None:
    with pytest.raises(InvalidArgument, match="is absolute"):
        safe_relpath(given, allow_root=True)


@pytest.mark.parametrize("given", ["..", "../x", "a/../../x", "a/../b", "a\\..\\..\\x", "a/b/.."])
def test_safe_relpath_rejects_parent_components(given: str) -> None:
    with pytest.raises(InvalidArgument, match=r"contains '\.\.'"):
        safe_relpath(given)


def test_safe_relpath_rejects_nul_character() -> None:
    with pytest.raises(InvalidArgument, match=r"'a\\x00b' contains a NUL character"):
        safe_relpath("a\0b")


def test_safe_relpath_error_names_what_was_checked() -> None:
    with pytest.raises(InvalidArgument, match="artifact file '/x' is absolute"):
        safe_relpath("/x", what="artifact file")
