"""`mlyard maturity`'s rule: CI files read from a repository, evidence read from a workspace on
both databases (CI keys in the audit trail, a monitors table when the schema has one)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mlyard.entities.automation.schedule_spec import monitor_file_from_dict
from mlyard.entities.governance.access import Actor, Role
from mlyard.entities.governance.maturity import CiEvidence
from mlyard.errors import InvalidArgument
from mlyard.services.assessment.ci_files import scan_repository
from mlyard.services.assessment.evidence import WorkspaceEvidence, is_ci_name
from mlyard.services.assessment.maturity import assess, assess_workspace
from mlyard.services.data_assets.data import create_data_asset
from mlyard.services.model_registry import models
from mlyard.services.monitors.monitors import create_monitor
from mlyard.services.workspaces import audit, keys


def write(path: Path, content: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(content))
    return path


def met(report) -> set[str]:  # type: ignore[no-untyped-def]
    return {c.id for c in report.criteria if c.met}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write(root / ".github" / "workflows" / "pr.yml", """\
        on: pull_request
        jobs:
          check:
            steps:
              - run: python -m pytest tests
              - run: mlyard validate --data data/sample/rows.csv --scoring src/score.py
              # - run: mlyard online-deployment create --file endpoints/online/blue.yml
        """)  # fmt: skip
    write(root / ".github" / "workflows" / "release.yml", """\
        on: release
        jobs:
          deploy:
            steps:
              - run: bash ci/deploy_online.sh prod
        """)  # fmt: skip
    write(root / "ci" / "deploy_online.sh", '#!/bin/bash\nmlyard online-deployment create --file "$1.yml"\n')
    write(
        root / ".azure-pipelines" / "train.yml",
        "steps:\n  - script: mlyard job create --file pipelines/train.yml\n",
    )
    write(root / "azure-pipelines.yml", "steps:\n  - script: echo hello\n")
    return root


def test_ci_files_of_both_systems_are_read_with_the_scripts_they_call_and_comments_left_out(repo):
    found = scan_repository(repo)
    assert not found.version_controlled
    commands = {file.path: file.commands for file in found.files}
    assert commands == {
        ".github/workflows/pr.yml": ["validate", "tests"],
        ".github/workflows/release.yml": ["online-deployment create"],
        ".azure-pipelines/train.yml": ["job create"],
        "azure-pipelines.yml": [],
    }
    assert {file.system for file in found.files} == {"github", "azure"}
    (repo / ".git").mkdir()
    assert scan_repository(repo).version_controlled


def test_ci_files_alone_meet_builds_release_and_training_criteria_but_no_level(repo):
    report = assess(WorkspaceEvidence(), scan_repository(repo))
    assert met(report) == {"automated_builds", "automated_training", "automated_deployment", "release_tests"}
    assert report.level == 0 and report.ci_files[0] == ".github/workflows/pr.yml"
    evidence = {c.id: c.evidence for c in report.criteria}
    assert ".github/workflows/release.yml (online-deployment create)" in evidence["automated_deployment"]
    assert ".azure-pipelines/train.yml (job create)" in evidence["automated_training"]


def test_a_repository_that_is_not_a_folder_is_refused_naming_it(tmp_path):
    with pytest.raises(InvalidArgument, match=r"--repo .*missing: not a folder"):
        scan_repository(tmp_path / "missing")
    with pytest.raises(InvalidArgument, match=r"not a folder"):
        scan_repository(write(tmp_path / "file.yml", "x: 1\n"))


def test_ci_keys_are_named_by_whole_words():
    assert is_ci_name("github-actions") and is_ci_name("Azure Pipelines release") and is_ci_name("ci")
    assert not is_ci_name("alice") and not is_ci_name("decision maker") and not is_ci_name("circle")


def test_a_release_by_a_ci_key_counts_as_automated_deployment(workspace, tmp_path):
    folder = write(tmp_path / "model" / "weights.txt", "1\n").parent
    models.register_model_folder(workspace, "churn", folder)
    keys.create_key(workspace, "github-actions", Role.OPERATOR, description="release workflow")
    keys.create_key(workspace, "alice", Role.OPERATOR)
    with audit.acting_as(Actor(name="alice", role=Role.OPERATOR, via="api")):
        models.set_alias(workspace, "churn", "staging", "1")
    report = assess_workspace(workspace)
    assert "automated_deployment" not in met(report) and "automated_builds" not in met(report)
    with audit.acting_as(Actor(name="github-actions", role=Role.OPERATOR, via="api")):
        models.set_alias(workspace, "churn", "candidate", "1")
    report = assess_workspace(workspace, CiEvidence())
    assert {"automated_deployment", "automated_builds"} <= met(report)
    evidence = {c.id: c.evidence for c in report.criteria}
    assert "model.alias.set churn by github-actions" in evidence["automated_deployment"]
    assert "1 changes by CI keys (github-actions)" in evidence["automated_builds"]


def test_a_monitor_counts_as_monitored_and_none_is_said_before(workspace, tmp_path):
    assert {c.id: c.evidence for c in assess_workspace(workspace).criteria}["monitored"] == "no monitors"
    table = tmp_path / "table.csv"
    table.write_text("age,bmi\n50,25\n60,30\n")
    for name in ("reference", "production"):
        create_data_asset(workspace, name, table)
    drift = {"type": "data_drift", "production_data": {"input_data": {"path": "azureml:production:1"}},
             "reference_data": {"input_data": {"path": "azureml:reference:1"}}}  # fmt: skip
    monitor = {"name": "drift", "create_monitor": {"monitoring_signals": {"drift": drift}}}
    spec = monitor_file_from_dict(monitor, "m.yml")
    create_monitor(workspace, spec, tmp_path)
    report = assess_workspace(workspace)
    assert "monitored" in met(report) and "automatic_retraining" not in met(report)
    assert {c.id: c.evidence for c in report.criteria}["monitored"] == "1 monitors: drift"
