"""`mlyard online-endpoint` and `mlyard online-deployment` as a user types them, against a real
server process over the workspace: Azure ML's verbs, exit codes, messages, `--output json`."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from tests.processes import MLYARD, clean_environment, start_server

pytestmark = pytest.mark.slow

SCORE = """
    import json

    def init():
        pass

    def run(raw):
        return {"rows": len(json.loads(raw)["data"])}
"""
BROKEN = """
    def init():
        raise RuntimeError("cannot open weights.bin")

    def run(raw):
        return None
"""


def mlyard(workspace: Path, *args: str, url: str | None = None) -> subprocess.CompletedProcess[str]:
    variables = clean_environment(COLUMNS="200")
    prefix = ["--url", url] if url else ["--workspace", str(workspace)]
    return subprocess.run(
        [*MLYARD, *prefix, *args], capture_output=True, text=True, env=variables, timeout=180
    )


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name, script in (("src", SCORE), ("broken", BROKEN)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "score.py").write_text(textwrap.dedent(script))
    (tmp_path / "endpoint.yml").write_text(
        "$schema: https://azuremlschemas.azureedge.net/latest/x.json\nname: greeter\n"
    )
    for name, code in (("blue", "src"), ("green", "broken")):
        spec = {
            "name": name,
            "endpoint_name": "greeter",
            "code_configuration": {"code": code, "scoring_script": "score.py"},
        }
        (tmp_path / f"{name}.yml").write_text(yaml.safe_dump(spec))
    (tmp_path / "request.json").write_text(json.dumps({"data": [[1], [2]]}))
    return tmp_path


def test_the_online_verbs_from_create_to_delete(project: Path):
    workspace = project / "ws"
    ok(mlyard(workspace, "workspace", "create"))
    server = start_server(workspace, project / "server.log")
    try:
        _walk_through(workspace, project, server.url)
    finally:
        server.stop()


def _walk_through(workspace: Path, project: Path, url: str) -> None:
    created = ok(mlyard(workspace, "online-endpoint", "create", "--file", str(project / "endpoint.yml")))
    assert "created online endpoint greeter (auth_mode key)" in created.stderr
    deployed = ok(
        mlyard(workspace, "online-deployment", "create", "-f", str(project / "blue.yml"), "--all-traffic")
    )
    assert "deployment blue of greeter: Succeeded; it takes all the traffic" in deployed.stderr
    shown = json.loads(ok(mlyard(workspace, "online-endpoint", "show", "-n", "greeter", "-o", "json")).stdout)
    assert shown["traffic"] == {"blue": 100} and shown["scoring_uri"] == f"{url}/endpoints/greeter/score"
    answer = ok(
        mlyard(
            workspace,
            "online-endpoint",
            "invoke",
            "-n",
            "greeter",
            "--request-file",
            str(project / "request.json"),
        )
    )
    assert json.loads(answer.stdout) == {"rows": 2}
    keys = json.loads(ok(mlyard(workspace, "online-endpoint", "get-credentials", "--name", "greeter")).stdout)
    assert set(keys) == {"primaryKey", "secondaryKey"}
    rotated = ok(
        mlyard(workspace, "online-endpoint", "regenerate-keys", "-n", "greeter", "--key-type", "secondary")
    )
    assert "regenerated the secondary key" in rotated.stderr
    refused = mlyard(workspace, "online-endpoint", "update", "-n", "greeter", "--traffic", "blue=50")
    assert (
        refused.returncode == 2
        and "traffic percentages must sum to 100 (or all be 0), got 50" in refused.stderr
    )

    failed = mlyard(workspace, "online-deployment", "create", "-f", str(project / "green.yml"))
    assert failed.returncode == 10, failed.stderr
    assert (
        "init() of score.py failed in instance 0" in failed.stderr
        and "cannot open weights.bin" in failed.stderr
    )
    logs = ok(
        mlyard(workspace, "online-deployment", "get-logs", "-n", "green", "-e", "greeter", "--lines", "80")
    )
    assert "Traceback" in logs.stdout and "RuntimeError: cannot open weights.bin" in logs.stdout
    green = json.loads(
        ok(
            mlyard(workspace, "online-deployment", "show", "-n", "green", "-e", "greeter", "-o", "json")
        ).stdout
    )
    assert green["provisioning_state"] == "Failed" and "cannot open weights.bin" in green["error"]

    scaled = ok(
        mlyard(
            workspace,
            "online-deployment",
            "update",
            "-n",
            "blue",
            "-e",
            "greeter",
            "--set",
            "instance_count=2",
        )
    )
    assert "deployment blue of greeter: generation 2 Succeeded" in scaled.stderr
    listed = json.loads(
        ok(mlyard(workspace, "online-deployment", "list", "--endpoint-name", "greeter", "-o", "json")).stdout
    )
    assert [(d["name"], d["instance_count"], d["provisioning_state"]) for d in listed] == [
        ("blue", 2, "Succeeded"), ("green", 1, "Failed"),
    ]  # fmt: skip
    metrics = json.loads(
        ok(mlyard(workspace, "online-endpoint", "metrics", "-n", "greeter", "-o", "json")).stdout
    )
    assert metrics["deployments"]["blue"]["requests"] == 1 and metrics["window_seconds"] == 60
    packaged = ok(mlyard(workspace, "online-deployment", "package", "-n", "blue", "--endpoint", "greeter",
                         "--output-path", str(project / "out")))  # fmt: skip
    assert "docker build -t greeter-blue:latest" in packaged.stderr.replace("\n", " ")
    assert (project / "out" / "Dockerfile").is_file() and (
        project / "out" / "kubernetes" / "hpa.yaml"
    ).is_file()

    remote = json.loads(ok(mlyard(workspace, "online-endpoint", "list", "-o", "json", url=url)).stdout)
    assert [e["name"] for e in remote] == ["greeter"]
    blocked = mlyard(workspace, "online-deployment", "delete", "-n", "blue", "-e", "greeter")
    assert blocked.returncode == 4 and "takes 100 % of the live traffic" in blocked.stderr
    ok(mlyard(workspace, "online-deployment", "delete", "-n", "green", "-e", "greeter"))
    ok(mlyard(workspace, "online-endpoint", "delete", "-n", "greeter", "--yes"))
    gone = mlyard(workspace, "online-endpoint", "show", "-n", "greeter")
    assert gone.returncode == 3 and "online endpoint 'greeter' does not exist" in gone.stderr
