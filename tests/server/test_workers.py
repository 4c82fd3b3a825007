"""Workers on other machines (here: other processes) claim queued jobs from a server over HTTP.

Real processes throughout: `mlyard server start --no-worker`, `mlyard worker start --server URL`,
and jobs whose own processes log back through the server. A worker killed with `kill -9` loses
its job to the next worker once its lease runs out — and its job's process dies with it.
"""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

import mlyard
from mlyard.entities.jobs.job import JobStatus
from mlyard.services.workspaces import keys
from mlyard.services.workspaces.workspace import create_workspace
from tests.processes import start_server, start_worker
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

JOB = """\
code: ./src
command: python job.py ${{inputs.rows}} ${{outputs.model}}
inputs:
  rows: {type: uri_file, path: ./rows.csv}
outputs:
  model: {type: custom_model, name: worker-model}
experiment_name: workers
"""

SCRIPT = """\
import os, pathlib, sys, time
import mlyard

marker = pathlib.Path(os.environ["MARKER"])
rows = pathlib.Path(sys.argv[1]).read_text().splitlines()
print(f"hello from the worker: {len(rows)} rows", flush=True)
mlyard.log_metric("rows", len(rows))
if not marker.exists():
    marker.write_text(str(os.getpid()))
    time.sleep(float(os.environ.get("FIRST_ATTEMPT_SLEEP", "0")))
pathlib.Path(sys.argv[2], "model.txt").write_text("weights")
"""


@pytest.fixture
def team(tmp_path: Path):
    """A workspace with an operator key (for workers) and a contributor key (for the user)."""
    workspace, _ = create_workspace(tmp_path / "ws")
    operator = keys.create_key(workspace, "worker-bot", "operator").token
    contributor = keys.create_key(workspace, "alice", "contributor").token
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "job.py").write_text(SCRIPT)
    (project / "rows.csv").write_text("a\nb\nc\n")
    (project / "job.yml").write_text(JOB)
    return tmp_path, operator, contributor, project


def _submit(url: str, key: str, project: Path, marker: Path, sleep: float = 0) -> tuple[mlyard.MLClient, str]:
    client = mlyard.MLClient(url=url, key=key)
    env = f"environment_variables: {{MARKER: '{marker}', FIRST_ATTEMPT_SLEEP: '{sleep}'}}\n"
    (project / "job.yml").write_text(JOB + env)
    return client, client.jobs.create(project / "job.yml").id


def _stopped(pid: int) -> bool:
    return not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"


def test_a_worker_elsewhere_runs_a_queued_job_over_http(team):
    root, operator, contributor, project = team
    server = start_server(root / "ws", root / "server.log", "--no-worker")
    try:
        # Nobody to run it yet: the server says it has no worker of its own, and none has called.
        assert "; no embedded worker" in server.output()
        client, job_id = _submit(server.url, contributor, project, root / "marker")
        assert client.jobs.get(job_id).status == JobStatus.QUEUED
        worker = start_worker(server.url, operator, root / "worker.log")
        try:
            job = client.jobs.wait(job_id, timeout=120)
        finally:
            worker.stop()
        assert job.metrics == {"rows": 3.0}
        shown: list[str] = []
        client.jobs.stream(job_id, shown.append)
        assert "hello from the worker: 3 rows" in "".join(shown)
        [output] = client.jobs.outputs(job_id)
        assert output.asset_ref == "worker-model:1"
        assert (client.models.local_path("worker-model:1") / "model.txt").read_text() == "weights"
        client.close()
    finally:
        server.stop()


def test_a_killed_worker_loses_its_job_to_the_next_one_and_its_process_dies(team):
    root, operator, contributor, project = team
    server = start_server(root / "ws", root / "server.log", "--no-worker", "--lease-seconds", "2")
    marker = root / "marker"
    try:
        client, job_id = _submit(server.url, contributor, project, marker, sleep=600)
        first = start_worker(server.url, operator, root / "first.log")
        first_pid = int(wait_until(lambda: marker.exists() and marker.read_text(), timeout=60,
                                   message="the first attempt to start", log=first.output))  # fmt: skip
        first.kill_hard()
        # The guard saw its worker die and stopped the job's process: no second copy runs on.
        wait_until(lambda: _stopped(first_pid), timeout=20, message="the orphaned job process to stop")
        wait_until(lambda: client.jobs.get(job_id).status == JobStatus.QUEUED, timeout=30,
                   message="the lease to expire", log=server.output)  # fmt: skip
        second = start_worker(server.url, operator, root / "second.log")
        try:
            job = client.jobs.wait(job_id, timeout=120)
        finally:
            second.stop()
        assert job.status == JobStatus.COMPLETED
        logs = client.jobs.download(job_id, root / "fetched") / "logs"
        assert "the job goes back to the queue" in (logs / "std_log.attempt-1.txt").read_text()
        assert "hello from the worker" in (logs / "std_log.txt").read_text()
        client.close()
    finally:
        server.stop()


def test_a_job_whose_worker_is_lost_without_retries_left_fails_naming_it(team):
    root, operator, contributor, project = team
    server = start_server(
        root / "ws", root / "server.log", "--no-worker", "--lease-seconds", "2", "--job-retries", "0"
    )
    marker = root / "marker"
    try:
        client, job_id = _submit(server.url, contributor, project, marker, sleep=600)
        worker = start_worker(server.url, operator, root / "worker.log")
        wait_until(marker.exists, timeout=60, message="the job to start", log=worker.output)
        worker.kill_hard()
        job = wait_until(lambda: (j := client.jobs.get(job_id)).status.is_terminal and j, timeout=30,
                         message="the job to fail", log=server.output)  # fmt: skip
        assert job.status == JobStatus.FAILED and "worker lost" in (job.error or "")
        assert "stopped renewing its lease" in (job.error or "")
        client.close()
    finally:
        server.stop()


def test_cancel_reaches_a_job_running_on_a_remote_worker(team):
    root, operator, contributor, project = team
    # A short lease: the worker hears of the cancel with its next renewal, a third of a lease on.
    server = start_server(root / "ws", root / "server.log", "--no-worker", "--lease-seconds", "3")
    marker = root / "marker"
    try:
        client, job_id = _submit(server.url, contributor, project, marker, sleep=600)
        worker = start_worker(server.url, operator, root / "worker.log")
        try:
            pid = int(wait_until(lambda: marker.exists() and marker.read_text(), timeout=60,
                                 message="the job to start", log=worker.output))  # fmt: skip
            assert client.jobs.cancel(job_id) == JobStatus.CANCEL_REQUESTED
            job = client.jobs.stream(job_id, lambda _: None)
            assert job.status == JobStatus.CANCELED
            wait_until(lambda: _stopped(pid), timeout=20, message="the canceled job's process to stop")
        finally:
            worker.stop()
        client.close()
    finally:
        server.stop()


def test_a_worker_without_the_operator_role_is_refused(team):
    root, _, contributor, _ = team
    server = start_server(root / "ws", root / "server.log", "--no-worker")
    try:
        with pytest.raises(AssertionError, match="needs operator"):
            start_worker(server.url, contributor, root / "worker.log")
    finally:
        server.stop()
