"""`mlyard init`: the files of each template, its refusals, and CI files that parse and whose
every script passes `bash -n` (executing them is tests/cli/test_init_workflows.py's job)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.processes import MLYARD, clean_environment

EXPECTED = [
    ".azure-pipelines/main.yml", ".azure-pipelines/pr.yml", ".azure-pipelines/release.yml",
    ".github/workflows/main.yml", ".github/workflows/pr.yml", ".github/workflows/release.yml",
    ".gitignore", "README.md", "ci/config_env.py", "components/prep.yml", "components/train.yml",
    "config/dev.yml", "config/prod.yml", "data/sample/request.json", "data/sample/scoring.csv",
    "endpoints/batch/deployment.yml", "endpoints/batch/endpoint.yml", "endpoints/online/deployment.yml",
    "endpoints/online/endpoint.yml", "environments/train.yml", "pipelines/train.yml", "src/prep.py",
    "src/score.py", "src/train.py", "tests/test_training.py", "tests/test_validation.py",
]  # fmt: skip


def mlyard(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MLYARD, *args], capture_output=True, text=True, env=clean_environment(), timeout=120, check=False
    )


@pytest.fixture(scope="module", params=["classical", "diabetes"])
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp(request.param) / "project"
    done = mlyard("init", str(folder), "--template", request.param, "-o", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["template"] == request.param
    return folder


def test_a_project_has_mlops_v2_shape_and_a_local_sample(project: Path):
    files = {str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()}
    assert set(EXPECTED) <= files
    prefix = "diabetes" if project.parent.name.startswith("diabetes") else "tabular"
    table = (project / "data" / "sample" / f"{prefix}.csv").read_text().splitlines()
    assert "target" in table[0].split(",") and len(table) > 400
    request = json.loads((project / "data" / "sample" / "request.json").read_text())
    assert len(request["input_data"]["data"]) == 5 and "target" not in request["input_data"]["columns"]
    assert "@{" not in (project / "pipelines" / "train.yml").read_text()


def test_every_ci_file_parses_and_every_script_passes_bash_n(project: Path, tmp_path: Path):
    scripts = []
    for path in [*project.glob(".github/workflows/*.yml"), *project.glob(".azure-pipelines/*.yml")]:
        spec = yaml.safe_load(path.read_text())
        scripts += [(path.name, step["run"]) for step in _github_steps(spec)]
        scripts += [(path.name, step["script"]) for step in _azure_steps(spec)]
    for path in [*project.glob("**/*.yml")]:
        yaml.safe_load(path.read_text())  # pipelines, components, endpoints, config
    scripts.append(("ci/deploy_online.sh", (project / "ci" / "deploy_online.sh").read_text()))
    assert len(scripts) > 30
    for index, (name, script) in enumerate(scripts):
        file = tmp_path / f"{index}.sh"
        file.write_text(script)
        checked = subprocess.run(["bash", "-n", str(file)], capture_output=True, text=True, check=False)
        assert checked.returncode == 0, f"{name}: {checked.stderr}\n{script}"


def test_the_generated_python_passes_the_projects_own_lint(project: Path):
    import sys

    ruff = Path(sys.executable).parent / "ruff"
    linted = subprocess.run(
        [str(ruff), "check", "src", "tests", "ci"], cwd=project, capture_output=True, text=True, check=False
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_the_workflows_read_the_secrets_the_config_names(project: Path):
    for environment in ("dev", "prod"):
        config = yaml.safe_load((project / "config" / f"{environment}.yml").read_text())
        for secret in (config["server_url_secret"], config["api_key_secret"]):
            assert f"secrets.{secret}" in (project / ".github/workflows/release.yml").read_text()
            assert f"$({secret})" in (project / ".azure-pipelines/release.yml").read_text()


def _github_steps(spec: dict) -> list[dict]:  # type: ignore[type-arg]
    if "jobs" not in spec or "on" not in spec and True not in spec:  # YAML 1.1 reads `on:` as True
        return []
    return [step for job in spec["jobs"].values() for step in job["steps"] if "run" in step]


def _azure_steps(spec: dict) -> list[dict]:  # type: ignore[type-arg]
    if "jobs" in spec and ("on" in spec or True in spec):
        return []
    jobs = [job for stage in spec.get("stages", []) for job in stage["jobs"]] or [spec]
    steps = [s for job in jobs for s in (job.get("steps") or job["strategy"]["runOnce"]["deploy"]["steps"])]
    return [step for step in steps if "script" in step]


def test_a_non_empty_folder_is_refused_unless_forced(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("mine")
    refused = mlyard("init", str(tmp_path), "--template", "diabetes")
    assert (
        refused.returncode == 4
        and f"{tmp_path} is not empty" in refused.stderr
        and "--force" in refused.stderr
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    forced = mlyard("init", str(tmp_path), "--template", "diabetes", "--force")
    assert forced.returncode == 0, forced.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine" and (tmp_path / "pipelines" / "train.yml").is_file()


def test_an_unknown_template_is_refused_with_a_suggestion(tmp_path: Path):
    refused = mlyard("init", str(tmp_path / "p"), "--template", "diabetis")
    assert refused.returncode == 2 and "unknown template 'diabetis'" in refused.stderr
    assert "did you mean 'diabetes'" in refused.stderr and not (tmp_path / "p").exists()


def test_a_file_in_place_of_the_folder_is_refused(tmp_path: Path):
    (tmp_path / "p").write_text("")
    refused = mlyard("init", str(tmp_path / "p"), "--template", "classical")
    assert refused.returncode == 2 and "is a file, not a folder" in refused.stderr
