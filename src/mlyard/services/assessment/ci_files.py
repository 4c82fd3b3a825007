"""A repository's CI definitions and the mlyard commands they run, for `mlyard maturity --repo`.

Read: `.github/workflows/*.yml|yaml` (GitHub Actions), `.azure-pipelines/*.yml|yaml` and
`azure-pipelines.yml` (Azure Pipelines), plus the repository's own scripts a workflow calls
(`bash ci/deploy.sh`): MLOps v2's templates keep their CLI calls in such scripts. The text is
scanned rather than the YAML executed: a `run:` or `script:` line is where a command is, whatever
the step's shape, and YAML comments are left out so a commented-out deploy does not count.
"""

from __future__ import annotations

import re
from pathlib import Path

from mlyard.entities.governance.maturity import CiEvidence, CiFile
from mlyard.errors import InvalidArgument

MAX_FILE_BYTES = 1_000_000  # a CI file is small; anything larger is not one
_COMMAND = re.compile(r"\bmlyard\s+(validate|[a-z][a-z-]*\s+[a-z][a-z-]*)\b")
_TESTS = re.compile(r"\b(pytest|python -m unittest|make test|tox|nox)\b")
_SCRIPT = re.compile(r"(?<![\w/.-])((?:\./)?[\w.-]+(?:/[\w.-]+)*\.(?:sh|py|ps1))\b")


def scan_repository(repo: Path) -> CiEvidence:
    """The CI files of `repo` and what they run; `InvalidArgument` naming it when it is no folder."""
    repo = Path(repo)
    if not repo.is_dir():
        raise InvalidArgument(f"--repo {repo}: not a folder; give the repository's root (default: here)")
    top_level = [repo / name for name in ("azure-pipelines.yml", "azure-pipelines.yaml")]
    files = [
        *(("github", path) for path in _yaml_files(repo / ".github" / "workflows")),
        *(
            ("azure", path)
            for path in [*_yaml_files(repo / ".azure-pipelines"), *top_level]
            if path.is_file()
        ),
    ]
    return CiEvidence(
        repo=str(repo.resolve()),
        version_controlled=(repo / ".git").exists(),
        files=[CiFile(path=path.relative_to(repo).as_posix(), system=system, commands=_commands(repo, path))
               for system, path in files],
    )  # fmt: skip


def _yaml_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if path.suffix in (".yml", ".yaml") and path.is_file())


def _commands(repo: Path, path: Path) -> list[str]:
    """The commands of a CI file and of the repository scripts it calls (one level deep)."""
    text = _without_comments(_read(path))
    for script in dict.fromkeys(_SCRIPT.findall(text)):
        called = (repo / script).resolve()
        if called.is_file() and called.is_relative_to(repo.resolve()):
            text += "\n" + _without_comments(_read(called))
    found = [" ".join(match.split()) for match in _COMMAND.findall(text)]
    if _TESTS.search(text):
        found.append("tests")
    return list(dict.fromkeys(found))


def _read(path: Path) -> str:
    if path.stat().st_size > MAX_FILE_BYTES:
        return ""
    return path.read_text(encoding="utf-8", errors="replace")


def _without_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
