"""Static checks the conventions promise, run with the suite: layers, lint, types."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_imports_point_down_the_layers():
    done = _run(str(BIN / "lint-imports"), "--no-cache")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


def test_ruff_finds_nothing():
    done = _run(str(BIN / "ruff"), "check", "src", "tests", "examples", "bench")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_mypy_strict_is_clean_on_src():
    done = _run(sys.executable, "-m", "mypy")  # strict, on src/: [tool.mypy] in pyproject.toml
    assert done.returncode == 0, done.stdout + done.stderr
