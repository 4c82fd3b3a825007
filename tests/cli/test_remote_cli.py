"""The CLI against a team server, as a team uses it: keys with roles, two workspaces, a job
streamed from the server's worker, gated promotion across two people, the audit trail."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.processes import MLYARD, clean_environment, start_server
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


def mlyard(
    *args: str, key: str | None = None, url: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    variables = clean_environment(COLUMNS="200", **env)
    if url:
        variables["MLYARD_URL"] = url
    if key:
        variables["MLYARD_KEY"] = key
    return subprocess.run([*MLYARD, *args], capture_output=True, text=True, env=variables, timeout=120)


def new_key(url: str, admin: str, owner: str, role: str) -> str:
    done = mlyard("key", "create", "--owner", owner, "--role", role, "--output", "json", key=admin, url=url)
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["token"])


@pytest.fixture
def team_server(tmp_path: Path):
    dev, prod = tmp_path / "dev", tmp_path / "prod"
    for folder in (dev, prod):
        assert mlyard("--workspace", str(folder), "workspace", "create").returncode == 0
    # The first admin key is made on the workspace's own machine: no key needed for that.
    done = mlyard(
        "--workspace", str(dev), "key", "create", "--owner", "root", "--role", "admin", "-o", "json"
    )
    assert done.returncode == 0, done.stderr
    admin = json.loads(done.stdout)["token"]
    done = mlyard("--workspace", str(prod), "key", "create", "--owner", "root", "--role", "admin")
    assert done.returncode == 0, done.stderr  # a workspace without keys would be open to this machine
    server = start_server(dev, tmp_path / "server.log", "--serve", f"dev={dev}", "--serve", f"prod={prod}")
    try:
        yield server.url, admin, tmp_path
    finally:
        server.stop()


def test_gated_promotion_between_two_people_through_the_cli(team_server):
    url, admin, root = team_server
    alice = new_key(url, admin, "alice", "contributor")
    bob = new_key(url, admin, "bob", "operator")
    model = root / "model"
    model.mkdir()
    (model / "weights.txt").write_text("w")
    assert (
        mlyard("model", "create", "--name", "churn", "--path", str(model), key=alice, url=url).returncode == 0
    )
    refused = mlyard("model", "alias", "set", "churn", "production", "--version", "1", key=alice, url=url)
    assert refused.returncode == 5 and "needs operator" in refused.stderr
    refused = mlyard("model", "alias", "set", "churn", "production", "--version", "1", key=bob, url=url)
    assert refused.returncode == 5 and "protected alias" in refused.stderr
    promote = ("model", "promote", "churn", "-v", "1", "--to", "production", "-r", "auc 0.91", "-o", "json")
    asked = mlyard(*promote, key=alice, url=url)
    assert asked.returncode == 0, asked.stderr
    request_id = json.loads(asked.stdout)["id"]
    own = mlyard("model", "approve", request_id, key=alice, url=url)
    assert own.returncode == 5 and "needs operator" in own.stderr
    approved = mlyard("model", "approve", request_id, "--comment", "ok", key=bob, url=url)
    assert approved.returncode == 0 and "churn@production → version 1" in approved.stderr, approved.stderr
    shown = mlyard("model", "show", "churn@production", "-o", "json", key=alice, url=url)
    assert json.loads(shown.stdout)["promotions"][0]["state"] == "approved"
    trail = mlyard(
        "audit", "list", "--entity", "model:churn", "--since", "1h", "-o", "json", key=alice, url=url
    )
    events = [(e["action"], e["actor"]) for e in json.loads(trail.stdout)]
    assert ("model.promotion.request", "alice") in events and ("model.promotion.approve", "bob") in events
    assert ("model.alias.set", "bob") in events and ("model.register", "alice") in events


def test_a_key_reaches_only_its_own_workspace(team_server):
    url, admin, _ = team_server
    alice = new_key(url, admin, "alice", "reader")
    assert mlyard("job", "list", key=alice, url=url).returncode == 0
    other = mlyard("--workspace-name", "prod", "job", "list", key=alice, url=url)
    assert other.returncode == 5 and "belongs to workspace 'dev'" in other.stderr
    missing = mlyard("job", "list", url=url)
    assert missing.returncode == 5 and "needs an API key" in missing.stderr
    wrong = mlyard("job", "list", key="mly_000000000000_" + "x" * 32, url=url)
    assert wrong.returncode == 5 and "not valid" in wrong.stderr


def test_a_job_submitted_through_the_cli_runs_on_the_server_and_streams(team_server):
    url, admin, root = team_server
    alice = new_key(url, admin, "alice", "contributor")
    project = root / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "hello.py").write_text("import mlyard\nprint('hello from the server', flush=True)\n"
                                              "mlyard.log_metric('answer', 42)\n")  # fmt: skip
    (project / "job.yml").write_text("code: ./src\ncommand: python hello.py\nexperiment_name: cli\n")
    done = mlyard("job", "create", "--file", str(project / "job.yml"), "--stream", key=alice, url=url)
    assert done.returncode == 0, done.stderr
    assert "hello from the server" in done.stdout and "Completed" in done.stderr
    listed = mlyard("job", "list", "-e", "cli", "-o", "json", key=alice, url=url)
    assert json.loads(listed.stdout)[0]["metrics"] == {"answer": 42.0}
    failing = project / "fail.yml"
    failing.write_text("command: exit 3\n")
    done = mlyard("job", "create", "--file", str(failing), "--stream", key=alice, url=url)
    assert done.returncode == 8 and "exited with code 3" in done.stderr


def test_cancel_from_the_cli_reaches_a_job_running_on_the_server(team_server):
    url, admin, root = team_server
    alice = new_key(url, admin, "alice", "contributor")
    (root / "sleep.py").write_text("import time\nprint('up', flush=True)\ntime.sleep(300)\n")
    (root / "sleep.yml").write_text("code: sleep.py\ncommand: python sleep.py\n")
    done = mlyard("job", "create", "--file", str(root / "sleep.yml"), "-o", "json", key=alice, url=url)
    job_id = json.loads(done.stdout)["id"]
    wait_until(
        lambda: (
            json.loads(mlyard("job", "show", job_id, "-o", "json", key=alice, url=url).stdout)["status"]
            == "Running"
        ),
        timeout=60,
        message="the job to run on the server",
        interval=0.2,
    )
    canceled = mlyard("job", "cancel", job_id, key=alice, url=url)
    assert canceled.returncode == 0 and "cancel requested" in canceled.stderr
    streamed = mlyard("job", "stream", job_id, key=alice, url=url)
    assert streamed.returncode == 8 and "Canceled" in streamed.stderr
