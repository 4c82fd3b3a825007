"""The test that makes `mlyard init`'s CI/CD real: a fresh scaffold's workflows are executed step
by step (tests/cli/workflow_runner.py) against a real team server serving a dev and a prod
workspace — pull request, main, release — until the model answers in prod. The test plays the
approver between the stages, with an operator key of prod, as a person would.

One template per CI system, to keep the time down: classical through GitHub Actions, diabetes
through Azure Pipelines."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.cli.workflow_runner import run_azure, run_github
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


def new_key(url: str, admin: str, owner: str, role: str) -> str:
    made = ok(
        mlyard(
            "key",
            "create",
            "--owner",
            owner,
            "--role",
            role,
            "-o",
            "tsv",
            "--query",
            "token",
            key=admin,
            url=url,
        )
    )
    return made.strip()


@pytest.fixture
def team(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A server with workspaces dev and prod; CI's contributor keys and a prod approver's key."""
    admins = {}
    for name in ("dev", "prod"):
        folder = tmp_path / name
        ok(mlyard("--workspace", str(folder), "workspace", "create"))
        made = mlyard(
            "--workspace",
            str(folder),
            "key",
            "create",
            "--owner",
            "root",
            "--role",
            "admin",
            "-o",
            "tsv",
            "--query",
            "token",
        )
        admins[name] = ok(made).strip()
    server = start_server(
        tmp_path / "dev",
        tmp_path / "server.log",
        "--serve",
        f"dev={tmp_path / 'dev'}",
        "--serve",
        f"prod={tmp_path / 'prod'}",
    )
    try:
        url = str(server.url)
        yield {
            "url": url,
            "secrets": {
                "MLYARD_URL": url,
                "MLYARD_DEV_KEY": new_key(url, admins["dev"], "ci", "contributor"),
                "MLYARD_PROD_KEY": new_key(url, admins["prod"], "ci", "operator"),
            },
            "approver": new_key(url, admins["prod"], "alice", "operator"),
        }
    finally:
        server.stop()


def scaffold(tmp_path: Path, template: str) -> Path:
    project = tmp_path / "project"
    ok(mlyard("init", str(project), "--template", template))
    return project


def approver_of(team: dict, asked: list[str]):  # type: ignore[no-untyped-def,type-arg]
    """What a reviewer does: read the pending promotion in prod, approve it with their own key."""

    def approve(gate: str) -> None:
        asked.append(gate)
        pending = json.loads(
            ok(
                mlyard(
                    "model",
                    "promotion",
                    "list",
                    "--state",
                    "pending",
                    "-o",
                    "json",
                    key=team["approver"],
                    url=team["url"],
                )
            )
        )
        assert len(pending) == 1, pending
        ok(
            mlyard(
                "model",
                "approve",
                pending[0]["id"],
                "--comment",
                "staging checks read",
                key=team["approver"],
                url=team["url"],
            )
        )

    return approve


def answer_in_prod(team: dict, project: Path, endpoint: str) -> list[float]:  # type: ignore[type-arg]
    answer = mlyard(
        "online-endpoint",
        "invoke",
        "--name",
        endpoint,
        "--request-file",
        str(project / "data/sample/request.json"),
        "-o",
        "json",
        key=team["secrets"]["MLYARD_PROD_KEY"],
        url=team["url"],
    )
    return list(json.loads(ok(answer)))


def no_approval(gate: str) -> None:
    raise AssertionError(f"this workflow should not wait for approval ({gate})")


def test_the_github_workflows_take_a_fresh_classical_project_to_prod(team, tmp_path: Path):  # type: ignore[no-untyped-def]
    project = scaffold(tmp_path, "classical")
    workflows = project / ".github" / "workflows"
    run_github(workflows / "pr.yml", project, team["secrets"], no_approval)
    trained = run_github(workflows / "main.yml", project, team["secrets"], no_approval)
    assert trained["train"]["version"] == "1" and trained["train"]["job"]
    gates: list[str] = []
    released = run_github(workflows / "release.yml", project, team["secrets"], approver_of(team, gates))
    assert gates == ["production"]
    assert released["staging"]["version"] == "1"
    assert len(answer_in_prod(team, project, "tabular-prod")) == 5
    shown = ok(
        mlyard(
            "--workspace-name",
            "prod",
            "model",
            "show",
            "tabular-model@production",
            "-o",
            "json",
            key=team["approver"],
            url=team["url"],
        )
    )
    assert json.loads(shown)["promotions"][0]["decided_by"] == "alice"


def test_the_azure_pipelines_take_a_fresh_diabetes_project_to_prod(team, tmp_path: Path):  # type: ignore[no-untyped-def]
    project = scaffold(tmp_path, "diabetes")
    pipelines = project / ".azure-pipelines"
    groups = {"mlyard": team["secrets"]}
    predefined = {"Build.SourceBranchName": "v1.0.0"}
    run_azure(pipelines / "pr.yml", project, groups, no_approval, predefined)
    trained = run_azure(pipelines / "main.yml", project, groups, no_approval, predefined)
    assert trained["__default"]["__default"]["model.version"] == "1"
    gates: list[str] = []
    released = run_azure(pipelines / "release.yml", project, groups, approver_of(team, gates), predefined)
    request = released["Staging"]["Deploy"]["promote.request"]
    assert len(gates) == 1 and f"Approve mlyard promotion {request} first" in gates[0]
    assert len(answer_in_prod(team, project, "diabetes-prod")) == 5
