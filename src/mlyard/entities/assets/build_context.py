"""The Python packages a Docker build context installs: its `requirements.txt` and the `pip install`
lines of its Dockerfile.

An environment given only as `build: {path: ./docker-context}` runs here without Docker on a plain
environment of this machine's Python; these are the packages that environment gets, so a context
whose Dockerfile says `RUN pip install -r requirements.txt scikit-learn==1.5` runs with them.
Everything else in the Dockerfile (system packages, conda, files it copies) is not reproduced: the
caller says so in its warning.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from mlyard.entities.assets.requirements import Requirements, read_requirement_lines, read_requirements_file
from mlyard.errors import InvalidSpec, NotFound

REQUIREMENTS_FILE = "requirements.txt"
_PIP_INSTALL = re.compile(r"^(?:\S*python[\d.]*\s+-m\s+)?\S*pip[\d.]*\s+install\s+(?P<arguments>.*)$")
# pip options followed by a value that is not a package (`-i URL`, `--target DIR`, …).
_OPTIONS_WITH_VALUE = frozenset(
    ("-i", "--index-url", "--extra-index-url", "-f", "--find-links", "-c", "--constraint", "-t",
     "--target", "--prefix", "--root", "--trusted-host", "--cache-dir", "--src", "--platform",
     "--python-version", "--implementation", "--abi", "--progress-bar", "--timeout", "--retries")
)  # fmt: skip


def context_requirements(context: Path, dockerfile: str, source: str) -> Requirements:
    """What `context` installs with pip: its requirements.txt, and the Dockerfile's pip lines."""
    if not context.is_dir():
        raise NotFound(f"{source}: build.path: folder {context} does not exist")
    found = Requirements()
    requirements = context / REQUIREMENTS_FILE
    if requirements.is_file():
        found.extend(read_requirements_file(requirements))
    docker_file = context / dockerfile
    if docker_file.is_file():
        found.extend(_dockerfile_requirements(docker_file, context))
    return found


def _dockerfile_requirements(path: Path, context: Path) -> Requirements:
    found = Requirements()
    for number, instruction in _instructions(path.read_text(encoding="utf-8", errors="replace")):
        keyword, _, rest = instruction.partition(" ")
        if keyword.upper() != "RUN":
            continue
        for command in re.split(r"&&|;|\|\|", rest):
            match = _PIP_INSTALL.match(command.strip())
            if match:
                found.extend(_pip_arguments(match["arguments"], f"{path}:{number}", context))
    return found


def _instructions(text: str) -> list[tuple[int, str]]:
    """Dockerfile instructions with their line continuations (`\\`) joined; comments dropped."""
    instructions: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if not current:
            start = number
        continues = stripped.endswith("\\")
        current.append(stripped[:-1] if continues else stripped)
        if not continues:
            instructions.append((start, " ".join(current)))
            current = []
    if current:
        instructions.append((start, " ".join(current)))
    return instructions


def _copied_file(context: Path, given: str) -> Path | None:
    """The context's file a `-r` names: `COPY requirements.txt /tmp/` then `-r /tmp/requirements.txt`
    is the context's `requirements.txt`; a path the context does not hold is None."""
    name = Path(given)
    candidate = (context / (name.name if name.is_absolute() else name)).resolve()
    inside = candidate.is_relative_to(context.resolve())
    return candidate if inside and candidate.is_file() else None


def _pip_arguments(arguments: str, source: str, context: Path) -> Requirements:
    try:
        words = shlex.split(arguments)
    except ValueError as exc:
        raise InvalidSpec(f"{source}: cannot read the pip install line: {exc}") from None
    found = Requirements()
    packages: list[str] = []
    skip_value = False
    for index, word in enumerate(words):
        if skip_value:
            skip_value = False
        elif word in ("-r", "--requirement") and index + 1 < len(words):
            skip_value = True
            included = _copied_file(context, words[index + 1])
            if included is not None and included != (context / REQUIREMENTS_FILE).resolve():
                found.extend(read_requirements_file(included))  # the context's own one is read already
        elif word in _OPTIONS_WITH_VALUE:
            skip_value = True
        elif not word.startswith("-"):
            packages.append(word)
    if packages:
        found.extend(read_requirement_lines(packages, source, context))
    return found
