"""`client.events` and `client.schedules` behave the same on embedded SQLite, PostgreSQL and a server."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mlyard.entities.jobs.job import JobStatus
from mlyard.errors import InvalidSpec, NotFound
from tests.receivers import WebhookReceiver


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_subscriptions_round_trip_and_the_secret_is_shown_once(client, tmp_path):
    created = client.events.subscriptions.create(
        "registry", ["ModelRegistered"], {"ModelName": "churn*"}, webhook="http://127.0.0.1:9/hook"
    )
    assert created.secret.startswith("whsec_")
    assert created.subscription.types == ["Microsoft.MachineLearningServices.ModelRegistered"]
    updated = client.events.subscriptions.update("registry", enabled=False, filter={"subject": "models/*"})
    assert updated.enabled is False and updated.filter == {"subject": "models/*"}
    assert [s.name for s in client.events.subscriptions.list()] == ["registry"]
    rotated = client.events.subscriptions.rotate_secret("registry", overlap_hours=2)
    assert rotated.secret not in (None, created.secret)
    assert client.events.subscriptions.deliveries("registry") == []
    client.events.subscriptions.delete("registry")
    with pytest.raises(NotFound, match="subscription 'registry' does not exist"):
        client.events.subscriptions.get("registry")


def test_registrations_are_listed_as_events(client, tmp_path):
    folder = write(tmp_path / "model" / "w.txt", "1").parent
    client.models.create("churn", folder)
    [event] = client.events.list(types=["ModelRegistered"], subject="models/churn*")
    assert event.data["ModelName"] == "churn" and client.events.get(event.id) == event


def test_a_schedule_created_from_a_yaml_fires_on_trigger_and_its_job_runs(client, tmp_path):
    write(tmp_path / "src" / "hello.py", "print('hello from a schedule')\n")
    write(
        tmp_path / "job.yml",
        """\
        command: python hello.py
        code: ./src
        environment: inherit
        experiment_name: scheduled
        """,
    )
    path = write(
        tmp_path / "nightly.yml",
        """\
        name: nightly
        trigger: {type: cron, expression: "15 3 * * *", time_zone: "W. Europe Standard Time",
                  start_time: "2030-01-01T00:00:00"}
        create_job: ./job.yml
        """,
    )
    created = client.schedules.create(path)
    assert created.next_fire_at.isoformat() == "2030-01-01T02:15:00+00:00"  # 03:15 in Berlin, winter
    assert len(client.schedules.show("nightly").next_firings) == 5

    fired = client.schedules.trigger("nightly")
    assert fired.state == "done" and fired.job_id
    job = client.jobs.wait(fired.job_id, timeout=60)
    assert job.status == JobStatus.COMPLETED and job.tags["mlyard.schedule"] == "nightly"
    assert client.schedules.disable("nightly").enabled is False
    client.schedules.delete("nightly")
    assert client.schedules.list() == []
    assert client.jobs.get(fired.job_id).id == fired.job_id  # the job stays


def test_a_bad_schedule_is_refused_naming_the_file_and_field(client, tmp_path):
    path = write(
        tmp_path / "bad.yml", "name: bad\ntrigger: {type: cron, expression: '* * *'}\ncreate_job: ./j.yml\n"
    )
    with pytest.raises(InvalidSpec, match=r"bad.yml: trigger.expression: '\* \* \*' has 3 fields"):
        client.schedules.create(path)
    assert client.schedules.list() == []


def test_webhooks_reach_a_receiver_through_a_running_server(tmp_path, serve_workspace):
    """The server's delivery loop, woken by the commit: no poll to wait for."""
    import mlyard
    from mlyard.services.workspaces.workspace import create_workspace

    path = tmp_path / "ws"
    create_workspace(path)
    remote = mlyard.MLClient(url=serve_workspace(path))
    receiver = WebhookReceiver().start()
    try:
        secret = remote.events.subscriptions.create("hook", ["ModelRegistered"], webhook=receiver.url).secret
        remote.models.create("churn", write(tmp_path / "model" / "w.txt", "1").parent)
        [got] = receiver.wait_for(1, timeout=10)
    finally:
        receiver.stop()
        remote.close()
    mlyard.events.verify(got.headers, got.body, secret)
    assert got.event["data"]["ModelName"] == "churn"
