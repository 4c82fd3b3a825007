"""Python requirements from the files an environment names: conda files and pip requirements files.

mlyard builds an environment as a virtual environment with pip packages, so a conda file is read
for what pip can honour: `python=3.11` sets the interpreter version, `pip` is dropped,
`numpy=1.26` becomes `numpy==1.26.*` (conda's `=` is a prefix match), `pytorch` becomes `torch`,
and the `pip:` list is taken as written. What a venv cannot honour — channels, non-Python conda
packages (`cudatoolkit`, `mkl`), pip options such as `--extra-index-url` — is listed as ignored,
so the user sees it instead of wondering.

Every requirement is normalised (PEP 503 name, sorted extras and specifiers) so that two files
that say the same thing differently resolve to the same environment. Errors name the file and the
entry they come from.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlyard.entities.specs.local_files import confine
from mlyard.errors import InvalidSpec, NotFound

# conda package name → the PyPI name of the same thing, where they differ.
CONDA_TO_PIP = {
    "pytorch": "torch",
    "pytorch-cpu": "torch",
    "py-xgboost": "xgboost",
    "py-xgboost-cpu": "xgboost",
    "matplotlib-base": "matplotlib",
    "msgpack-python": "msgpack",
    "pytables": "tables",
    "python-graphviz": "graphviz",
    "py-opencv": "opencv-python",
    "opencv": "opencv-python",
    "pyqt": "pyqt5",
    "tensorflow-base": "tensorflow",
}

# conda packages that are libraries, toolchains or CUDA parts rather than Python packages.
NON_PYTHON_CONDA = frozenset(
    {
        "blas", "bzip2", "ca-certificates", "cmake", "cpuonly", "cudatoolkit", "cudatoolkit-dev",
        "cudnn", "cuda", "ffmpeg", "gcc", "gxx", "git", "graphviz", "hdf5", "icu", "intel-openmp",
        "libblas", "libcblas", "libcurl", "libffi", "libgcc", "libgcc-ng", "libgomp", "libiconv",
        "liblapack", "libopenblas", "libstdcxx-ng", "libuv", "libxml2", "libzlib", "make", "mkl",
        "mkl-include", "nccl", "ncurses", "nodejs", "nomkl", "openblas", "openjdk", "openssl",
        "pytorch-cuda", "pytorch-mutex", "readline", "sqlite", "tbb", "tk", "xz", "zlib",
    }
)  # fmt: skip
NON_PYTHON_PREFIXES = ("_", "r-", "cuda-")

_CONDA_SPEC = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9_.\-]*)\s*(?P<version>.*)$")
_OPERATORS = ("==", ">=", "<=", "!=", "~=", ">", "<")
_REQUIREMENT_OPTION = re.compile(r"^(-r|--requirement)(\s+|=|(?=\S))(?P<path>.+)$")
_COMMENT = re.compile(r"(^|\s+)#.*$")


@dataclass
class Requirements:
    """What a file contributed: a Python version (if it names one), requirements, ignored parts."""

    python_version: str | None = None
    requirements: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def extend(self, other: Requirements) -> None:
        self.requirements.extend(other.requirements)
        self.ignored.extend(other.ignored)


def current_python_version() -> str:
    """The running interpreter's `major.minor`: the one version mlyard can always build for."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def normalize_requirement(text: str) -> str:
    """`Scikit_Learn [Alldeps] >= 1.3, <2` → `scikit-learn[alldeps]<2,>=1.3`; ValueError when invalid."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        raise ValueError(str(exc).splitlines()[0]) from None
    name = str(canonicalize_name(requirement.name))
    if requirement.extras:
        name += "[" + ",".join(sorted(canonicalize_name(e) for e in requirement.extras)) + "]"
    if requirement.url:
        normalized = f"{name} @ {requirement.url}"
        return f"{normalized} ; {requirement.marker}" if requirement.marker else normalized
    normalized = f"{name}{requirement.specifier}"
    return f"{normalized}; {requirement.marker}" if requirement.marker else normalized


def python_version_of(spec: str) -> str:
    """`3.11`, `=3.11`, `3.11.7`, `3.11.*`, `==3.11` → `3.11`; a range → this interpreter's if it fits."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    text = spec.strip()
    if not text.startswith((">", "<", "!", "~")):
        exact = re.fullmatch(r"=*\s*(\d+)\.(\d+)(\.\d+|\.\*|\*)*(=\S*)?", text)  # `=…`: a build string
        if exact:
            return f"{exact.group(1)}.{exact.group(2)}"
    try:
        allowed = SpecifierSet(text.replace(" ", ""))
    except InvalidSpecifier:
        raise ValueError(f"{spec!r} is not a Python version (expected e.g. 3.11)") from None
    major, minor, micro = sys.version_info[:3]
    if allowed.contains(f"{major}.{minor}.{micro}"):
        return current_python_version()
    raise ValueError(
        f"python{text} does not include this interpreter ({major}.{minor}); name one version, e.g. 3.11"
    )


def read_requirements_file(path: Path, _seen: frozenset[Path] = frozenset()) -> Requirements:
    """A pip requirements file (with `-r` includes); errors name `file:line`."""
    confine(path, "requirements")
    resolved = path.resolve()
    if resolved in _seen:
        raise InvalidSpec(f"{path}: includes itself through -r")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(f"requirements file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidSpec(f"{path}: cannot read the requirements file: {exc}") from None
    result = Requirements()
    for number, line in _logical_lines(text):
        result.extend(_pip_line(line, f"{path}:{number}", path.parent, _seen | {resolved}))
    return result


def read_requirement_lines(lines: list[str], source: str, base_dir: Path) -> Requirements:
    """Requirements given inline as a list (`pip_requirements: [six, idna>=3]`)."""
    result = Requirements()
    for index, line in enumerate(lines):
        cleaned = _COMMENT.sub("", line).strip()
        if cleaned:
            result.extend(_pip_line(cleaned, f"{source}[{index}]", base_dir, frozenset()))
    return result


def read_conda_file(data: dict[str, Any], source: str, base_dir: Path) -> Requirements:
    """The pip-installable part of a conda environment file's mapping; `source` names it in errors."""
    unknown = sorted(set(data) - {"name", "channels", "dependencies", "prefix", "variables"})
    if unknown:
        raise InvalidSpec(f"{source}: {unknown[0]}: unknown field of a conda file (check the spelling)")
    result = Requirements()
    channels = data.get("channels") or []
    if not isinstance(channels, list):
        raise InvalidSpec(f"{source}: channels: expected a list, got {channels!r}")
    result.ignored.extend(f"conda channel {channel}" for channel in channels)
    if data.get("variables"):
        result.ignored.append("conda variables (set them as the job's environment_variables)")
    dependencies = data.get("dependencies") or []
    if not isinstance(dependencies, list):
        raise InvalidSpec(f"{source}: dependencies: expected a list, got {dependencies!r}")
    for index, dependency in enumerate(dependencies):
        where = f"{source}: dependencies[{index}]"
        if isinstance(dependency, str):
            _conda_dependency(dependency, where, result)
        elif (
            isinstance(dependency, dict)
            and set(dependency) == {"pip"}
            and isinstance(dependency["pip"], list)
        ):
            for position, line in enumerate(dependency["pip"]):
                if not isinstance(line, str):
                    raise InvalidSpec(f"{where}.pip[{position}]: expected a requirement (text), got {line!r}")
                result.extend(_pip_line(line.strip(), f"{where}.pip[{position}]", base_dir, frozenset()))
        else:
            raise InvalidSpec(
                f"{where}: expected a conda package (text) or a mapping {{pip: [requirements]}}, "
                f"got {dependency!r}"
            )
    return result


def _conda_dependency(spec: str, where: str, result: Requirements) -> None:
    text = spec.strip()
    channel, separator, rest = text.partition("::")
    if separator:
        result.ignored.append(f"conda channel {channel}")
        text = rest.strip()
    match = _CONDA_SPEC.match(text)
    if match is None:
        raise InvalidSpec(f"{where}: {spec!r} is not a conda package spec (expected e.g. numpy=1.26)")
    name, version = match.group("name").lower(), match.group("version").strip()
    if name == "python":
        try:
            result.python_version = python_version_of(version) if version else None
        except ValueError as exc:
            raise InvalidSpec(f"{where}: {exc}") from None
        return
    if name == "pip":
        return
    if name in NON_PYTHON_CONDA or name.startswith(NON_PYTHON_PREFIXES):
        result.ignored.append(f"conda package {text} (not a Python package; a venv cannot install it)")
        return
    try:
        pip_version = _pip_specifier(version)
        result.requirements.append(normalize_requirement(CONDA_TO_PIP.get(name, name) + pip_version))
    except ValueError as exc:
        raise InvalidSpec(f"{where}: {spec!r} has no pip equivalent: {exc}") from None


def _pip_specifier(conda_version: str) -> str:
    """conda's `=1.26` (prefix match) → `==1.26.*`; `==1.26.4` and `>=1.2,<2` pass through."""
    version = conda_version.strip()
    if not version:
        return ""
    if "|" in version:
        raise ValueError("alternatives ('|') cannot be expressed for pip")
    if version.startswith("=="):
        return "==" + version[2:].split("=")[0].strip()  # drop a build string
    if version.startswith(_OPERATORS):
        return version.replace(" ", "")
    version = version.removeprefix("=").split("=")[0].split()[0]  # drop a build string
    if version.endswith("*"):
        return "==" + version.rstrip("*").rstrip(".") + ".*"
    return f"=={version}.*"


def _pip_line(line: str, where: str, base_dir: Path, seen: frozenset[Path]) -> Requirements:
    result = Requirements()
    include = _REQUIREMENT_OPTION.match(line)
    if include:
        path = Path(include.group("path").strip())
        return read_requirements_file(path if path.is_absolute() else base_dir / path, seen)
    if line.startswith("-"):
        result.ignored.append(
            f"pip option {line!r} ({where}; mlyard installs from the index pip is configured with)"
        )
        return result
    requirement, _, options = line.partition(" --")
    if options:
        result.ignored.append(f"pip option --{options} ({where})")
    try:
        result.requirements.append(normalize_requirement(requirement.strip()))
    except ValueError as exc:
        if "://" not in requirement:
            raise InvalidSpec(f"{where}: {requirement.strip()!r} is not a valid requirement: {exc}") from None
        result.requirements.append(requirement.strip())  # a bare VCS or archive URL, as pip takes it
    return result


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Non-empty lines without comments, with `\\` continuations joined; numbered from 1."""
    lines: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if raw.endswith("\\"):
            pending += raw[:-1] + " "
            continue
        cleaned = _COMMENT.sub("", pending + raw).strip()
        pending = ""
        if cleaned:
            lines.append((start, cleaned))
    if pending.strip():
        lines.append((start, _COMMENT.sub("", pending).strip()))
    return lines
