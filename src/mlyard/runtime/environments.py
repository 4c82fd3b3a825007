"""Building the virtual environment a `ResolvedEnvironment` describes, once per spec hash.

Where: `$MLYARD_ENV_CACHE/<spec_hash>/` (default `~/.cache/mlyard/envs`), shared by every
workspace, job and deployment on the machine. A build holds a file lock per spec hash, so
concurrent builds of one spec (threads or processes) build it once: the others wait, then reuse
it. A `.complete` marker, written last with the resolved spec, says a venv is usable; a failed
build removes what it made and raises with the tail of its log. The log stays in the venv folder
and is stored in the workspace's artifacts as `environments/<spec_hash>/build.log`.

How: the `uv` binary of the `uv` package — `uv venv` with the requested interpreter (found on this
machine, never downloaded), then `uv pip install`. uv does not read pip's configuration, and on
machines that reach packages only through what pip is configured with that matters: the index,
extra indexes, find-links, trusted hosts and certificate from `pip config list` (pip.conf files
and PIP_* variables) are passed to uv, with `--index-strategy unsafe-best-match` so that uv, like
pip, picks the best version across all of them. Without uv (or with `MLYARD_ENV_INSTALLER=pip`)
it is `python -m venv` and pip, which reads its configuration itself.

mlyard inside the venv: jobs call `mlyard.log_metric` and friends, but installing mlyard and its
dependencies into every venv would make builds slow and its pins would clash with the user's.
Instead a `.pth` file in the venv's site-packages appends mlyard's import root and — when the
venv's Python has the host's major.minor, since compiled extensions are version-specific — the
host interpreter's site-packages. `.pth` entries come after the venv's own site-packages, so the
environment's pinned packages win and the host's only fill gaps. The file is rewritten whenever
it points elsewhere (another checkout or host interpreter sharing the cache).
"""

from __future__ import annotations

import ast
import json
import os
import shlex
import shutil
import site
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TextIO

from filelock import FileLock, Timeout

from mlyard.entities.assets.environment_spec import ResolvedEnvironment
from mlyard.entities.assets.requirements import current_python_version
from mlyard.errors import EnvironmentBuildError, InvalidArgument
from mlyard.services.workspaces.workspace import Workspace

ENV_CACHE = "MLYARD_ENV_CACHE"
ENV_INSTALLER = "MLYARD_ENV_INSTALLER"  # "uv" (default when available) or "pip"
COMPLETE_MARKER = ".complete"
BUILD_LOG = "build.log"
HOST_PTH = "_mlyard_host.pth"
LOG_TAIL_LINES = 20
_MLYARD_ROOT = Path(__file__).resolve().parents[2]  # the folder `import mlyard` finds mlyard in

Log = Callable[[str], None]  # receives whole lines, newline included (a file's `write` fits)


@dataclass(frozen=True)
class PythonEnvironment:
    """The interpreter a job runs with; `spec_hash` is None for mlyard's own (`inherit`)."""

    python: Path
    spec_hash: str | None
    reused: bool
    path: Path | None = None  # the venv folder
    seconds: float = 0.0  # spent building; 0 when reused


def env_cache_dir() -> Path:
    return Path(os.environ.get(ENV_CACHE) or Path.home() / ".cache" / "mlyard" / "envs").expanduser()


def build_log_artifact(spec_hash: str) -> str:
    return f"environments/{spec_hash}/{BUILD_LOG}"


def prepare_environment(
    workspace: Workspace | None, resolved: ResolvedEnvironment | None, log: Log | None = None
) -> PythonEnvironment:
    """The venv for `resolved`, built now unless a complete one exists; None → this interpreter.

    The build log is stored in `workspace`'s artifacts; with no workspace (a worker of a team
    server) it stays in the venv's folder.

    `log` gets the build's output a line at a time, each ending in a newline, so a file's or a job
    log's `write` can be passed as it is.
    """
    if resolved is None:
        return PythonEnvironment(python=Path(sys.executable), spec_hash=None, reused=True)
    cache = env_cache_dir()
    target = cache / resolved.spec_hash
    if not _is_complete(target):
        cache.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(cache / f"{resolved.spec_hash}.lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            _say(log, f"waiting for another build of environment {resolved.spec_hash[:12]} to finish")
            lock.acquire()
        try:
            if not _is_complete(target):  # not built by whoever held the lock
                seconds = _build(workspace, resolved, target, log)
                return PythonEnvironment(_python_in(target), resolved.spec_hash, False, target, seconds)
        finally:
            lock.release()
    _link_host(target, resolved.python_version)
    _store_log(workspace, target, resolved.spec_hash, log, only_if_missing=True)
    return PythonEnvironment(_python_in(target), resolved.spec_hash, True, target)


def find_interpreter(python_version: str) -> Path:
    """An installed interpreter of `major.minor`: this one, one on PATH, or one of pyenv's."""
    if python_version == current_python_version():
        return Path(sys.executable)
    name = f"python{python_version}"
    candidates = [Path(folder) / name for folder in os.environ.get("PATH", "").split(os.pathsep) if folder]
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    candidates += sorted(pyenv.glob(f"{python_version}.*/bin/{name}"), key=_version_key, reverse=True)
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK) and _reports(candidate, python_version):
            return candidate
    raise EnvironmentBuildError(
        f"Python {python_version} is not installed on this machine (looked on PATH and in pyenv); mlyard "
        "builds environments only with installed interpreters and never downloads one. Install "
        f"Python {python_version}, or ask for {current_python_version()} (the interpreter mlyard runs "
        "in) with python_version or the conda file's python=…"
    )


@dataclass(frozen=True)
class PipIndexSettings:
    """Where pip is configured to find packages; passed on to uv, which does not read pip.conf."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    trusted_hosts: tuple[str, ...] = ()
    no_index: bool = False
    cert: str | None = None

    def uv_arguments(self) -> list[str]:
        arguments = ["--index-strategy", "unsafe-best-match"]  # every index counts, as with pip
        if self.no_index:
            arguments.append("--no-index")
        if self.index_url:
            arguments += ["--default-index", self.index_url]
        for url in self.extra_index_urls:
            arguments += ["--index", url]
        for place in self.find_links:
            arguments += ["--find-links", place]
        for host in self.trusted_hosts:
            arguments += ["--allow-insecure-host", host]
        return arguments

    def describe(self) -> str:
        parts = [f"index {self.index_url or 'https://pypi.org/simple (default)'}"]
        parts += [f"extra index {url}" for url in self.extra_index_urls]
        parts += [f"find-links {place}" for place in self.find_links]
        return ", ".join(["no index" if self.no_index else parts[0], *parts[1:]])


@lru_cache(maxsize=1)
def pip_index_settings() -> PipIndexSettings:
    """pip's effective index configuration (its config files, then PIP_* variables over them)."""
    values = _pip_config()

    def many(option: str) -> tuple[str, ...]:
        return tuple(values.get(option, "").split())

    return PipIndexSettings(
        index_url=values.get("index-url") or None,
        extra_index_urls=many("extra-index-url"),
        find_links=many("find-links"),
        trusted_hosts=many("trusted-host"),
        no_index=values.get("no-index", "").lower() in ("1", "true", "yes", "on"),
        cert=values.get("cert") or None,
    )


def parse_pip_config_list(output: str) -> dict[str, str]:
    """`pip config list` lines (`global.find-links='/opt/wheels'`) → options, most specific winning:
    `:env:` (PIP_* variables) over `install.` over `global.`."""
    scopes: dict[str, dict[str, str]] = {"global": {}, "install": {}, ":env:": {}}
    for line in output.splitlines():
        key, separator, raw = line.partition("=")
        scope, _, option = key.rpartition(".")
        if not separator or scope not in scopes:
            continue
        try:
            value = ast.literal_eval(raw.strip())
        except (ValueError, SyntaxError):
            value = raw.strip().strip("'\"")
        scopes[scope][option] = str(value)
    return {**scopes["global"], **scopes["install"], **scopes[":env:"]}


def _pip_config() -> dict[str, str]:
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        )
    except (OSError, subprocess.TimeoutExpired):
        done = None
    if done is not None and done.returncode == 0:
        return parse_pip_config_list(done.stdout)
    # No pip next to mlyard: honour the PIP_* variables at least.
    options = ("index-url", "extra-index-url", "find-links", "trusted-host", "no-index", "cert")
    return {
        option: os.environ[variable]
        for option in options
        if (variable := "PIP_" + option.upper().replace("-", "_")) in os.environ
    }


class _StepFailed(Exception):
    pass


def _build(
    workspace: Workspace | None, resolved: ResolvedEnvironment, target: Path, log: Log | None
) -> float:
    """Build the venv at `target` (the caller holds the lock); returns the seconds it took."""
    started = time.monotonic()
    interpreter = find_interpreter(resolved.python_version)
    uv = _uv_binary()
    if target.exists():
        shutil.rmtree(target)  # what a build that died before completing left behind
    log_path = target.parent / f"{resolved.spec_hash}.{BUILD_LOG}"
    with log_path.open("w", encoding="utf-8") as log_file:
        emit = _emitter(log_file, log)
        emit(f"mlyard: building environment {resolved.spec_hash} ({resolved.describe()})")
        try:
            if uv is not None:
                _build_with_uv(uv, interpreter, resolved, target, emit)
            else:
                _build_with_pip(interpreter, resolved, target, emit)
            _link_host(target, resolved.python_version)
            seconds = time.monotonic() - started
            emit(f"mlyard: environment {resolved.spec_hash[:12]} built in {seconds:.1f} s")
        except BaseException as exc:
            emit(f"mlyard: build failed: {exc}")
            log_file.close()
            tail = _discard_failed_build(workspace, resolved.spec_hash, target, log_path, log)
            if not isinstance(exc, _StepFailed | OSError):
                raise
            raise EnvironmentBuildError(
                f"building environment {resolved.spec_hash[:12]} ({resolved.describe()}) failed: {exc}\n"
                f"last lines of the build log (stored as {build_log_artifact(resolved.spec_hash)}):\n"
                + "\n".join(tail)
            ) from None
    shutil.move(log_path, target / BUILD_LOG)
    marker = {
        "resolved": resolved.model_dump(mode="json"),
        "python": str(_python_in(target)),
        "interpreter": str(interpreter),
        "installer": "uv" if uv else "pip",
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(seconds, 3),
    }
    _write_atomically(target / COMPLETE_MARKER, json.dumps(marker, indent=2))
    _store_log(workspace, target, resolved.spec_hash, log, only_if_missing=False)
    return seconds


def _discard_failed_build(
    workspace: Workspace | None, spec_hash: str, target: Path, log_path: Path, log: Log | None
) -> list[str]:
    """Remove the partial venv, store the log for inspection; returns the log's last lines."""
    shutil.rmtree(target, ignore_errors=True)
    _store_file_log(workspace, log_path, spec_hash, log)
    tail = log_path.read_text(encoding="utf-8").splitlines()[-LOG_TAIL_LINES:]
    log_path.unlink(missing_ok=True)
    return tail


def _build_with_uv(
    uv: str, interpreter: Path, resolved: ResolvedEnvironment, target: Path, emit: Log
) -> None:
    settings = pip_index_settings()
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"}
    env.pop("VIRTUAL_ENV", None)
    if settings.cert and "SSL_CERT_FILE" not in env:
        env["SSL_CERT_FILE"] = settings.cert
    emit(f"mlyard: installer uv ({uv}); packages from pip's configuration: {settings.describe()}")
    _run(
        [uv, "venv", str(target), "--python", str(interpreter), "--python-preference", "only-system"],
        emit,
        env,
    )
    if resolved.requirements:
        requirements = _write_requirements(target, resolved)
        command = [uv, "pip", "install", "--python", str(_python_in(target)), *settings.uv_arguments()]
        _run([*command, "-r", str(requirements)], emit, env)


def _build_with_pip(interpreter: Path, resolved: ResolvedEnvironment, target: Path, emit: Log) -> None:
    emit("mlyard: installer pip (python -m venv); pip reads its own configuration")
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("VIRTUAL_ENV", None)
    _run([str(interpreter), "-m", "venv", str(target)], emit, env)
    if resolved.requirements:
        requirements = _write_requirements(target, resolved)
        command = [str(_python_in(target)), "-m", "pip", "install", "--no-input", "-r", str(requirements)]
        _run(command, emit, env)


def _uv_binary() -> str | None:
    choice = os.environ.get(ENV_INSTALLER, "").strip().lower()
    if choice not in ("", "uv", "pip"):
        raise InvalidArgument(f"{ENV_INSTALLER} must be 'uv' or 'pip', got {choice!r}")
    if choice == "pip":
        return None
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def _run(command: list[str], emit: Log, env: dict[str, str]) -> None:
    emit("$ " + shlex.join(command))
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", env=env
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            emit(line.rstrip("\n"))
        code = process.wait()
    if code != 0:
        raise _StepFailed(f"`{Path(command[0]).name} {command[1]}` exited with code {code}")


def _write_requirements(target: Path, resolved: ResolvedEnvironment) -> Path:
    path = target / "mlyard-requirements.txt"
    path.write_text("".join(f"{line}\n" for line in resolved.requirements), encoding="utf-8")
    return path


def _link_host(target: Path, python_version: str) -> None:
    """Write (or correct) the `.pth` that lets code in the venv import mlyard; see the docstring."""
    paths = [str(_MLYARD_ROOT)]
    if python_version == current_python_version():
        paths += site.getsitepackages()
        if site.ENABLE_USER_SITE:
            paths.append(site.getusersitepackages())
    wanted = "".join(f"{p}\n" for p in dict.fromkeys(paths) if Path(p).is_dir())
    pth = _site_packages(target) / HOST_PTH
    if not pth.is_file() or pth.read_text(encoding="utf-8") != wanted:
        _write_atomically(pth, wanted)


def _store_log(
    workspace: Workspace | None, target: Path, spec_hash: str, log: Log | None, only_if_missing: bool
) -> None:
    """Copy the venv's build log into this workspace's artifacts (a shared cache may predate it)."""
    local = target / BUILD_LOG
    if workspace is None or not local.is_file():
        return
    if only_if_missing and _artifact_exists(workspace, spec_hash):
        return
    _store_file_log(workspace, local, spec_hash, log)


def _artifact_exists(workspace: Workspace, spec_hash: str) -> bool:
    try:
        return workspace.artifacts.exists(build_log_artifact(spec_hash))
    except Exception:  # noqa: BLE001 - an unreachable store is reported when storing
        return False


def _store_file_log(workspace: Workspace | None, path: Path, spec_hash: str, log: Log | None) -> None:
    if workspace is None:
        return
    try:
        workspace.artifacts.put_file(path, build_log_artifact(spec_hash))
    except Exception as exc:  # noqa: BLE001 - the environment is usable without its stored log
        _say(log, f"warning: could not store the build log of environment {spec_hash[:12]}: {exc}")


def _is_complete(target: Path) -> bool:
    return (target / COMPLETE_MARKER).is_file() and _python_in(target).exists()


def _python_in(venv: Path) -> Path:
    return venv / "Scripts" / "python.exe" if os.name == "nt" else venv / "bin" / "python"


def _site_packages(venv: Path) -> Path:
    if os.name == "nt":
        return venv / "Lib" / "site-packages"
    found = sorted(venv.glob("lib/python*/site-packages"))
    if not found:
        raise EnvironmentBuildError(f"environment {venv} has no lib/python*/site-packages folder")
    return found[0]


def _reports(interpreter: Path, python_version: str) -> bool:
    """True when `interpreter` runs and is `python_version` (pyenv shims can exist yet fail)."""
    try:
        done = subprocess.run(
            [str(interpreter), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip() == python_version


def _version_key(path: Path) -> tuple[int, ...]:
    version = path.parent.parent.name
    return tuple(int(part) if part.isdigit() else -1 for part in version.split("."))


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _emitter(log_file: TextIO, log: Log | None) -> Log:
    def emit(line: str) -> None:
        log_file.write(line + "\n")
        log_file.flush()
        if log is not None:
            log(line + "\n")

    return emit


def _say(log: Log | None, message: str) -> None:
    if log is not None:
        log(message + "\n")
