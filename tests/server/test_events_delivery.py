"""Events and schedules in `mlyard server start`: real processes, real HTTP, real PostgreSQL."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mlyard.services.events import outbox, subscriptions
from mlyard.services.model_registry import models
from mlyard.services.schedules import schedules
from mlyard.services.workspaces.workspace import close_all, create_workspace, open_workspace
from tests.processes import start_server
from tests.receivers import WebhookReceiver, wait_until

JOB = "command: echo hello from the schedule\nenvironment: inherit\nexperiment_name: scheduled\n"


@pytest.fixture
def receiver():
    started = WebhookReceiver().start()
    yield started
    started.stop()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def model_folder(tmp_path: Path) -> Path:
    return write(tmp_path / "model" / "weights.txt", "1").parent


def test_two_servers_on_one_postgresql_fire_each_schedule_once_and_deliver_each_event_once(
    tmp_path, pg_database, receiver
):
    path = tmp_path / "ws"
    create_workspace(path, db=pg_database)
    workspace = open_workspace(path)
    subscriptions.create_subscription(
        workspace, "all", ["ModelRegistered", "ScheduleFired"], webhook_url=receiver.url
    )
    write(tmp_path / "job.yml", JOB)
    schedule = write(tmp_path / "hourly.yml", "name: hourly\ntrigger: {type: recurrence, frequency: hour}\n"
                     "create_job: ./job.yml\n")  # fmt: skip
    servers = [start_server(path, tmp_path / f"server-{i}.log", "--no-worker") for i in range(2)]
    try:
        schedules.create_schedule_file(workspace, schedule)  # no start_time: due at once, then in an hour
        folder = model_folder(tmp_path)
        for number in range(20):  # each different: identical content is not a new version
            (folder / "number.txt").write_text(str(number))
            models.register_model_folder(workspace, "churn", folder)
        receiver.wait_for(21, timeout=30)
        wait_until(
            lambda: all(d.state == "succeeded" for d in subscriptions.list_deliveries(workspace, "all"))
        )
        [fired] = schedules.show_schedule(workspace, "hourly").firings
        assert fired.state == "done" and fired.job_id
    finally:
        for server in servers:
            server.stop()
    ids = [got.headers["webhook-id"] for got in receiver.received]
    assert len(ids) == len(set(ids)) == 21
    assert {got.event["type"].rsplit(".", 1)[-1] for got in receiver.received} == {
        "ModelRegistered",
        "ScheduleFired",
    }
    assert len(subscriptions.list_deliveries(workspace, "all")) == 21


def test_an_event_committed_while_the_server_is_down_is_delivered_after_restart_with_its_id(
    tmp_path, receiver
):
    path = tmp_path / "ws"
    create_workspace(path)
    workspace = open_workspace(path)
    created = subscriptions.create_subscription(
        workspace, "hook", ["ModelRegistered"], webhook_url=receiver.url
    )
    server = start_server(path, tmp_path / "server.log")
    server.kill_hard()  # SIGKILL: no goodbye
    models.register_model_folder(workspace, "churn", model_folder(tmp_path))  # committed, not delivered
    [event] = outbox.list_events(workspace, types=["ModelRegistered"])
    close_all()

    restarted = start_server(path, tmp_path / "server-2.log")
    try:
        [got] = receiver.wait_for(1)
    finally:
        restarted.stop()
    assert got.headers["webhook-id"] == got.event["id"] == event.id
    import mlyard

    mlyard.events.verify(got.headers, got.body, created.secret)


def test_a_schedule_fires_and_its_job_runs_in_a_running_server_within_seconds(tmp_path, serve_workspace):
    """The one real-time test: no injected clock, the server's own loops."""
    from mlyard.entities.jobs.job import JobStatus
    from mlyard.services.tracking.jobs import get_job

    path = tmp_path / "ws"
    create_workspace(path)
    workspace = open_workspace(path)
    serve_workspace(path)
    write(tmp_path / "job.yml", JOB)
    schedule = write(tmp_path / "every-minute.yml", "name: every-minute\n"
                     "trigger: {type: cron, expression: '* * * * *'}\ncreate_job: ./job.yml\n")  # fmt: skip
    schedules.create_schedule_file(workspace, schedule)

    def firings_with_a_job() -> list:
        return [f for f in schedules.show_schedule(workspace, "every-minute").firings if f.job_id]

    fired = wait_until(firings_with_a_job, timeout=10, what="the first firing's job")
    job_id = fired[-1].job_id
    wait_until(lambda: get_job(workspace, job_id).status.is_terminal, timeout=30, what="the job to end")
    assert get_job(workspace, job_id).status == JobStatus.COMPLETED
