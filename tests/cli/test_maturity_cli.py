"""`mlyard maturity` as a user runs it: a subprocess in a repository, `-o json`, a bad `--repo`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

MLYARD = [sys.executable, "-m", "mlyard.cli.main"]


def run(tmp_path: Path, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLYARD_")} | {"COLUMNS": "200"}
    done = subprocess.run([*MLYARD, "--workspace", str(tmp_path / "ws"), *args], capture_output=True,
                          text=True, env=env, cwd=tmp_path / "repo", timeout=120)  # fmt: skip
    assert done.returncode == expect, f"exit {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}"
    return done


def test_maturity_reads_the_current_repository_and_prints_json_of_the_documented_shape(tmp_path):
    workflows = tmp_path / "repo" / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text("jobs:\n  t:\n    steps:\n      - run: mlyard validate --data s.csv\n")
    run(tmp_path, "workspace", "create")
    report = json.loads(run(tmp_path, "maturity", "-o", "json").stdout)
    assert set(report) == {"level", "level_name", "criteria", "repo", "ci_files"}
    assert (report["level"], report["level_name"], report["ci_files"]) == (
        0,
        "No MLOps",
        [".github/workflows/ci.yml"],
    )
    assert all(
        set(c) == {"id", "level", "area", "criterion", "met", "evidence", "next"} for c in report["criteria"]
    )
    release_tests = next(c for c in report["criteria"] if c["id"] == "release_tests")
    assert (
        release_tests["met"]
        and release_tests["evidence"] == "1 CI files validating models: .github/workflows/ci.yml (validate)"
    )

    people = run(tmp_path, "maturity")
    assert "MLOps maturity: level 0, No MLOps" in people.stdout and "release_tests" in people.stdout
    assert "level 1 versioned_data: mlyard data create --name NAME" in people.stderr


def test_a_repo_that_does_not_exist_is_an_error_naming_it(tmp_path):
    (tmp_path / "repo").mkdir()
    run(tmp_path, "workspace", "create")
    failed = run(tmp_path, "maturity", "--repo", "nowhere", expect=2)
    assert "--repo nowhere: not a folder" in failed.stderr
