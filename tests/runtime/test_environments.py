"""Real builds with uv from the index pip is configured with: once per spec hash, reused, cleaned up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mlyard.entities.assets.environment_spec import ResolvedEnvironment
from mlyard.errors import EnvironmentBuildError
from mlyard.runtime import environments as runtime
from mlyard.runtime.environments import (
    COMPLETE_MARKER,
    HOST_PTH,
    build_log_artifact,
    find_interpreter,
    parse_pip_config_list,
    pip_index_settings,
    prepare_environment,
)

CURRENT = f"{sys.version_info.major}.{sys.version_info.minor}"
SIX = ResolvedEnvironment(python_version=CURRENT, requirements=("six",))


@pytest.fixture(autouse=True)
def env_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh venv cache per test; uv's own package cache stays shared, so installs are quick."""
    cache = tmp_path / "envs"
    monkeypatch.setenv("MLYARD_ENV_CACHE", str(cache))
    return cache


@pytest.fixture
def ws(tmp_path: Path):  # type: ignore[no-untyped-def]
    from mlyard.services.workspaces.workspace import create_workspace

    return create_workspace(tmp_path / "ws")[0]


def run_in(python: Path, code: str, **env: str) -> str:
    done = subprocess.run(
        [str(python), "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_inherit_is_this_interpreter(ws):
    prepared = prepare_environment(ws, None)
    assert prepared.python == Path(sys.executable) and prepared.spec_hash is None and prepared.reused


def test_a_built_venv_has_its_packages_and_can_import_and_log_with_mlyard(ws, env_cache):
    lines: list[str] = []
    prepared = prepare_environment(ws, SIX, log=lines.append)
    assert not prepared.reused and prepared.spec_hash == SIX.spec_hash
    assert prepared.path == env_cache / SIX.spec_hash and prepared.python.is_file()
    six_file = run_in(prepared.python, "import six; print(six.__file__)")
    assert six_file.startswith(str(prepared.path))
    assert any("six" in line for line in lines) and any("built in" in line for line in lines)

    marker = json.loads((prepared.path / COMPLETE_MARKER).read_text())
    assert marker["resolved"]["spec_hash"] == SIX.spec_hash and marker["installer"] == "uv"
    log = ws.artifacts.get_bytes(build_log_artifact(SIX.spec_hash)).decode()
    assert "uv pip install" in log and "six" in log

    run_id = run_in(
        prepared.python,
        """
        import mlyard
        run = mlyard.start_run(experiment="from-venv")
        mlyard.log_metric("answer", 42.0)
        mlyard.end_run()
        print(run.id)
        """,
        MLYARD_WORKSPACE=str(ws.path),
    )
    import mlyard

    assert mlyard.MLClient(ws.path).jobs.get(run_id).metrics == {"answer": 42.0}


def test_the_second_prepare_reuses_the_venv(ws):
    built = prepare_environment(ws, SIX)
    started = time.monotonic()
    again = prepare_environment(ws, ResolvedEnvironment(python_version=CURRENT, requirements=("six",)))
    assert again.reused and again.python == built.python and again.seconds == 0.0
    assert time.monotonic() - started < 0.5


def test_the_venvs_own_packages_win_and_a_stale_host_link_is_rewritten(ws):
    # certifi is also installed next to mlyard, in a newer version: the environment's pin must win.
    pinned = ResolvedEnvironment(python_version=CURRENT, requirements=("certifi==2026.7.22",))
    prepared = prepare_environment(ws, pinned)
    assert prepared.path is not None
    assert run_in(prepared.python, "import certifi; print(certifi.__version__)") == "2026.07.22"
    [pth] = prepared.path.glob(f"lib/python*/site-packages/{HOST_PTH}")
    assert pth.read_text().splitlines()[0] == str(runtime._MLYARD_ROOT)
    pth.write_text("/somewhere/else\n")
    assert prepare_environment(ws, pinned).reused
    assert "/somewhere/else" not in pth.read_text()
    assert run_in(prepared.python, "import mlyard.entities.jobs.job_spec; print('ok')") == "ok"


def test_threads_preparing_one_spec_build_it_once(ws):
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: prepare_environment(ws, SIX), range(4)))
    assert sum(not r.reused for r in results) == 1
    assert len({r.python for r in results}) == 1


PREPARE = """
import json, os, sys, time
from pathlib import Path
from mlyard.entities.assets.environment_spec import ResolvedEnvironment
from mlyard.runtime.environments import prepare_environment
from mlyard.services.workspaces.workspace import open_workspace

workspace = open_workspace(sys.argv[1])
resolved = ResolvedEnvironment(python_version=sys.argv[2], requirements=("six",))
barrier = Path(sys.argv[3])
(barrier / str(os.getpid())).touch()
while len(list(barrier.iterdir())) < 2:  # start preparing together
    time.sleep(0.01)
prepared = prepare_environment(workspace, resolved)
print(json.dumps({"reused": prepared.reused, "python": str(prepared.python)}))
"""


def test_two_processes_preparing_one_spec_build_it_once(ws, tmp_path):
    script = tmp_path / "prepare.py"
    script.write_text(PREPARE)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    processes = [
        subprocess.Popen(
            [sys.executable, str(script), str(ws.path), CURRENT, str(barrier)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=180)
        assert process.returncode == 0, stderr
        results.append(json.loads(stdout))
    assert sorted(r["reused"] for r in results) == [False, True]
    assert results[0]["python"] == results[1]["python"]
    built_log = (Path(results[0]["python"]).parents[1] / "build.log").read_text()
    assert built_log.count("mlyard: building environment") == 1


def test_a_failing_build_says_why_and_leaves_no_partial_venv(ws, env_cache):
    broken = ResolvedEnvironment(python_version=CURRENT, requirements=("mlyard-no-such-package-xyz==1.0",))
    with pytest.raises(EnvironmentBuildError) as raised:
        prepare_environment(ws, broken)
    message = str(raised.value)
    assert (
        f"building environment {broken.spec_hash[:12]}" in message and "`uv pip` exited with code" in message
    )
    assert "mlyard-no-such-package-xyz" in message.split("last lines of the build log", 1)[1]
    assert len(message.splitlines()) <= 2 + runtime.LOG_TAIL_LINES
    assert not (env_cache / broken.spec_hash).exists()
    assert [p.name for p in env_cache.iterdir()] == [f"{broken.spec_hash}.lock"]
    assert b"no-such-package" in ws.artifacts.get_bytes(build_log_artifact(broken.spec_hash))


def test_a_build_that_died_midway_is_redone(ws, env_cache):
    leftover = env_cache / SIX.spec_hash
    (leftover / "bin").mkdir(parents=True)
    (leftover / "bin" / "python").write_text("not a python")
    prepared = prepare_environment(ws, SIX)
    assert not prepared.reused
    assert run_in(prepared.python, "import six; print('ok')") == "ok"


def test_a_python_that_is_not_installed_is_a_clear_error(ws, env_cache):
    with pytest.raises(
        EnvironmentBuildError, match=r"Python 3\.4 is not installed on this machine.*never downloads"
    ):
        prepare_environment(ws, ResolvedEnvironment(python_version="3.4", requirements=("six",)))
    assert not env_cache.exists() or not any(env_cache.glob("*/bin"))


def test_another_installed_python_version_is_honoured(ws):
    other = "3.12" if CURRENT != "3.12" else "3.11"
    try:
        find_interpreter(other)
    except EnvironmentBuildError:
        pytest.skip(f"Python {other} is not installed here")
    prepared = prepare_environment(ws, ResolvedEnvironment(python_version=other, requirements=("six",)))
    assert run_in(prepared.python, "import sys, six, mlyard; print('%d.%d' % sys.version_info[:2])") == other


@pytest.mark.slow
def test_pip_builds_the_venv_when_uv_is_not_wanted(ws, monkeypatch):
    monkeypatch.setenv("MLYARD_ENV_INSTALLER", "pip")
    prepared = prepare_environment(ws, ResolvedEnvironment(python_version=CURRENT, requirements=("idna",)))
    assert prepared.path is not None and not prepared.reused
    assert json.loads((prepared.path / COMPLETE_MARKER).read_text())["installer"] == "pip"
    assert run_in(prepared.python, "import idna, mlyard; print(idna.__file__)").startswith(str(prepared.path))


def test_uv_gets_the_indexes_and_find_links_pip_is_configured_with(monkeypatch, tmp_path):
    assert parse_pip_config_list(
        "global.extra-index-url='file:///opt/pypi/simple file:///more/simple'\n"
        "global.find-links='/global/wheels'\n"
        "install.index-url='https://mirror.example/simple'\n"
        ":env:.find-links='/opt/wheels'\n"
    ) == {
        "extra-index-url": "file:///opt/pypi/simple file:///more/simple",
        "find-links": "/opt/wheels",
        "index-url": "https://mirror.example/simple",
    }
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "file:///tmp/extra/simple")
    pip_index_settings.cache_clear()
    try:
        settings = pip_index_settings()
    finally:
        pip_index_settings.cache_clear()
    assert settings.find_links == (str(tmp_path),)
    arguments = settings.uv_arguments()
    assert arguments[arguments.index("--find-links") :][:2] == ["--find-links", str(tmp_path)]
    assert arguments[arguments.index("--index") :][:2] == ["--index", "file:///tmp/extra/simple"]
    assert "unsafe-best-match" in arguments
