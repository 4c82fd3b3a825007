"""The test that makes `mlyard init`'s CI/CD real: a fresh scaffold's workflows are executed step
by step (tests/cli/workflow_runner.py) against a real team server serving a dev and a prod
workspace and a shared registry — pull request, main, release (share into the registry, deploy
to staging from it, staging checks) — until the model answers in prod. The test plays prod's
admin (require_passing_checks, as the project's README asks) and the approver between the
stages, with an operator key of prod, as people would.

One template per CI system, to keep the time down: classical through GitHub Actions, diabetes
through Azure Pipelines; one server for both (their names do not overlap)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlyard.entities.governance.access import Role
from mlyard.services.registries import registries
from mlyard.services.workspaces import keys
from mlyard.services.workspaces.workspace import create_workspace
from tests.cli.workflow_runner import TIMINGS, run_azure, run_github
from tests.processes import MLYARD, clean_environment, start_server

pytestmark = pytest.mark.slow


def mlyard(*args: str, key: str | None = None, url: str | None = None) -> subprocess.CompletedProcess[str]:
    variables = clean_environment(COLUMNS="200")
    variables |= {"MLYARD_URL": url} if url else {}
    variables |= {"MLYARD_KEY": key} if key else {}
    return subprocess.run(
        [*MLYARD, *args], capture_output=True, text=True, env=variables, timeout=120, check=False
    )


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One server for both tests: workspaces dev and prod, the registry shared; CI's keys (dev's
    contributes to dev and the registry, prod's operates prod and reads the registry), prod's
    admin key and an approver's. Made in-process: each key by CLI would start an interpreter."""
    root = tmp_path_factory.mktemp("team")
    dev, prod = create_workspace(root / "dev")[0], create_workspace(root / "prod")[0]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLYARD_HOME", str(root / "home"))  # the registry index: not the user's
        registries.create_registry("shared", path=str(root / "shared"))
        shared = registries.open_registry("shared")
    dev_key = keys.create_key(dev, "ci", Role.CONTRIBUTOR).token
    keys.create_key(shared, "ci", Role.CONTRIBUTOR, token=dev_key)
    prod_key = keys.create_key(prod, "ci-release", Role.OPERATOR).token
    keys.create_key(shared, "ci-release", Role.READER, token=prod_key)
    server = start_server(
        root / "dev",
        root / "server.log",
        "--serve",
        f"dev={root / 'dev'}",
        "--serve",
        f"prod={root / 'prod'}",
        "--registry",
        f"shared={root / 'shared'}",
    )
    try:
        url = str(server.url)
        yield {
            "url": url,
            "secrets": {"MLYARD_URL": url, "MLYARD_DEV_KEY": dev_key, "MLYARD_PROD_KEY": prod_key},
            "admin": keys.create_key(prod, "root", Role.ADMIN).token,
            "approver": keys.create_key(prod, "alice", Role.OPERATOR).token,
        }
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def report_timings(request: pytest.FixtureRequest) -> Iterator[None]:
    """The slowest steps, printed (pytest -s) so the CI budget can be watched."""
    TIMINGS.clear()
    started = time.monotonic()
    yield
    slowest = sorted(TIMINGS, key=lambda t: -t[1])[:8]
    print(f"\n{request.node.name}: {time.monotonic() - started:.0f} s; slowest steps: {slowest}")


def require_the_projects_checks(team: dict[str, Any], project: Path) -> list[str]:
    """What prod's admin does once, as the project's README says: approvals wait for the checks."""
    checks = str(yaml.safe_load((project / "config" / "prod.yml").read_text())["checks"])
    ok(
        mlyard(
            "--workspace-name",
            "prod",
            "workspace",
            "settings",
            "set",
            f"require_passing_checks={checks}",
            key=team["admin"],
            url=team["url"],
        )  # fmt: skip
    )
    return checks.split(",")


def scaffold(tmp_path: Path, template: str) -> Path:
    project = tmp_path / "project"
    ok(mlyard("init", str(project), "--template", template))
    return project


def approver_of(team: dict[str, Any], required: list[str], asked: list[str]):  # type: ignore[no-untyped-def]
    """What a reviewer does: read the pending promotion in prod and the version's check reports
    (each required kind passed), then approve it with their own key (the gate lets it through)."""

    def approve(gate: str) -> None:
        asked.append(gate)
        as_approver = {"key": team["approver"], "url": team["url"]}
        pending = json.loads(
            ok(mlyard("model", "promotion", "list", "--state", "pending", "-o", "json", **as_approver))
        )
        assert len(pending) == 1, pending
        version = f"{pending[0]['model_name']}:{pending[0]['version']}"
        reports = json.loads(ok(mlyard("check", "list", "--model", version, "-o", "json", **as_approver)))
        assert {r["kind"] for r in reports if r["passed"]} == set(required), reports
        ok(mlyard("model", "approve", pending[0]["id"], "--comment", "staging checks read", **as_approver))

    return approve


def in_prod(
    team: dict[str, Any], project: Path, endpoint: str, model: str
) -> tuple[list[float], dict[str, Any]]:
    """The prod endpoint's answer to the sample request, and the model version at @production."""
    as_approver = {"key": team["approver"], "url": team["url"]}
    request = str(project / "data/sample/request.json")
    answer = ok(
        mlyard(
            "online-endpoint",
            "invoke",
            "--name",
            endpoint,
            "--request-file",
            request,
            "-o",
            "json",
            **as_approver,
        )
    )
    shown = ok(mlyard("model", "show", f"{model}@production", "-o", "json", **as_approver))
    return list(json.loads(answer)), json.loads(shown)


def no_approval(gate: str) -> None:
    raise AssertionError(f"this workflow should not wait for approval ({gate})")


def assert_shared_from_dev(shown: dict[str, Any], model: str) -> None:
    """Prod's version is the registry's copy, with the dev job's lineage, approved by alice."""
    assert (
        shown["properties"]["mlyard.registry.reference"]
        == f"azureml://registries/shared/models/{model}/versions/1"
    )
    assert shown["properties"]["mlyard.source.workspace"] == "dev"
    assert shown["properties"].get("mlyard.source.job")
    assert shown["promotions"][0]["decided_by"] == "alice"


def test_the_github_workflows_take_a_fresh_classical_project_to_prod(team, tmp_path: Path):  # type: ignore[no-untyped-def]
    project = scaffold(tmp_path, "classical")
    workflows = project / ".github" / "workflows"
    required = require_the_projects_checks(team, project)
    assert "responsible_ai" in required
    run_github(workflows / "pr.yml", project, team["secrets"], no_approval)
    trained = run_github(workflows / "main.yml", project, team["secrets"], no_approval)
    assert trained["train"]["version"] == "1" and trained["train"]["job"]
    gates: list[str] = []
    released = run_github(
        workflows / "release.yml", project, team["secrets"], approver_of(team, required, gates)
    )
    assert gates == ["production"]
    assert released["staging"]["version"] == "1"
    answer, shown = in_prod(team, project, "tabular-prod", "tabular-model")
    assert len(answer) == 5
    assert_shared_from_dev(shown, "tabular-model")


def test_the_azure_pipelines_take_a_fresh_diabetes_project_to_prod(team, tmp_path: Path):  # type: ignore[no-untyped-def]
    project = scaffold(tmp_path, "diabetes")
    pipelines = project / ".azure-pipelines"
    required = require_the_projects_checks(team, project)
    groups = {"mlyard": team["secrets"]}
    predefined = {"Build.SourceBranchName": "v1.0.0"}
    run_azure(pipelines / "pr.yml", project, groups, no_approval, predefined)
    trained = run_azure(pipelines / "main.yml", project, groups, no_approval, predefined)
    assert trained["__default"]["__default"]["model.version"] == "1"
    gates: list[str] = []
    released = run_azure(
        pipelines / "release.yml", project, groups, approver_of(team, required, gates), predefined
    )
    request = released["Staging"]["Deploy"]["promote.request"]
    assert len(gates) == 1 and f"Approve mlyard promotion {request} first" in gates[0]
    answer, shown = in_prod(team, project, "diabetes-prod", "diabetes-model")
    assert len(answer) == 5
    assert_shared_from_dev(shown, "diabetes-model")
