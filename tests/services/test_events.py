"""Events: the outbox, subscriptions, and delivery to a real webhook receiver and SMTP server."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta

import pytest

import mlyard
from mlyard.entities.automation.event import MODEL_REGISTERED, RUN_COMPLETED, RUN_STATUS_CHANGED
from mlyard.entities.jobs.job import JobStatus
from mlyard.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from mlyard.services.events import dispatch, outbox, subscriptions
from mlyard.services.events.senders import Senders
from mlyard.services.events.signing import headers as signed_headers
from mlyard.services.model_registry import models
from mlyard.services.tracking import jobs
from mlyard.services.workspaces import settings
from tests.receivers import WebhookReceiver


@pytest.fixture
def model_dir(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "weights.txt").write_text("0.5")
    return folder


@pytest.fixture
def receiver():
    started = WebhookReceiver().start()
    yield started
    started.stop()


@pytest.fixture
def senders():
    created = Senders(timeout=5.0)
    yield created
    created.close()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def deliver_everything(workspace, senders, now=None):
    """One round of the server's delivery loop, with the clock it is given."""
    dispatch.fan_out(workspace, now=now)
    return dispatch.deliver_due(workspace, senders, now=now)


def test_a_registration_commits_one_model_registered_event_with_azure_fields(workspace, model_dir):
    models.register_model_folder(workspace, "churn", model_dir, tags={"team": "risk"})

    [event] = outbox.list_events(workspace, types=["ModelRegistered"])
    assert event.type == MODEL_REGISTERED == "Microsoft.MachineLearningServices.ModelRegistered"
    assert event.subject == "models/churn:1"
    assert event.source == f"/mlyard/workspaces/{workspace.name}"
    assert event.data["ModelName"] == "churn" and event.data["ModelVersion"] == "1"
    assert event.data["ModelTags"] == {"team": "risk"}
    assert outbox.get_event(workspace, event.id) == event


def test_a_refused_registration_leaves_no_event(workspace, model_dir, tmp_path):
    models.register_model_folder(workspace, "churn", model_dir, version="1")
    other = tmp_path / "other"
    shutil.copytree(model_dir, other)
    (other / "notes.txt").write_text("other content")
    with pytest.raises(AlreadyExists, match="churn:1 already exists"):
        models.register_model_folder(workspace, "churn", other, version="1")

    assert len(outbox.list_events(workspace, types=["ModelRegistered"])) == 1


def test_job_status_changes_are_run_status_changed_and_completion_is_run_completed(workspace):
    job = jobs.start_job(workspace, experiment="diabetes", tags={"team": "clinic"})
    jobs.end_job(workspace, job.id, JobStatus.COMPLETED)

    changes = outbox.list_events(workspace, types=[RUN_STATUS_CHANGED])
    assert [e.data["runStatus"] for e in reversed(changes)] == ["Running", "Completed"]
    [completed] = outbox.list_events(workspace, types=["RunCompleted"])
    assert completed.type == RUN_COMPLETED
    assert completed.data["runId"] == job.id and completed.data["experimentName"] == "diabetes"
    assert completed.data["runTags"] == {"team": "clinic"}
    assert completed.subject.endswith(f"/runs/{job.id}")


def test_events_are_listed_by_type_subject_and_time(workspace, model_dir):
    models.register_model_folder(workspace, "churn", model_dir)
    models.register_model_folder(workspace, "fraud", model_dir)
    models.set_alias(workspace, "churn", "staging", "1")

    assert [e.subject for e in outbox.list_events(workspace, subject="models/churn*")] == [
        "models/churn@staging", "models/churn:1",
    ]  # fmt: skip
    assert outbox.list_events(workspace, since=datetime.now(UTC) + timedelta(minutes=1)) == []
    with pytest.raises(
        InvalidArgument, match=r"unknown event type 'ModelRegisterd' \(did you mean 'ModelRegistered'\?\)"
    ):
        outbox.list_events(workspace, types=["ModelRegisterd"])
    with pytest.raises(NotFound, match="event 'nope' does not exist"):
        outbox.get_event(workspace, "nope")


def test_a_webhook_receiver_gets_signed_cloudevents_it_can_verify(workspace, model_dir, receiver, senders):
    created = subscriptions.create_subscription(
        workspace, "registry", ["ModelRegistered"], {"ModelName": "churn*"}, receiver.url
    )
    assert created.secret.startswith("whsec_")
    models.register_model_folder(workspace, "churn", model_dir)
    models.register_model_folder(workspace, "fraud", model_dir)  # filtered out

    assert deliver_everything(workspace, senders) == 1
    [got] = receiver.received
    assert got.headers["content-type"] == "application/cloudevents+json"
    mlyard.events.verify(got.headers, got.body, created.secret)
    assert got.event["specversion"] == "1.0" and got.event["type"] == MODEL_REGISTERED
    assert got.headers["webhook-id"] == got.event["id"]
    with pytest.raises(PermissionDenied, match="does not match"):
        mlyard.events.verify(got.headers, got.body.replace(b"churn", b"chura"), created.secret)
    [delivery] = subscriptions.list_deliveries(workspace, "registry")
    assert delivery.state == "succeeded" and delivery.history[0].status_code == 200
    assert delivery.history[0].latency_ms is not None


def test_verify_refuses_stale_timestamps_and_missing_headers():
    secret = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="
    body = b'{"id": "1"}'
    old = signed_headers("1", body, [secret], timestamp=1_000_000)
    with pytest.raises(PermissionDenied, match="stale or replayed"):
        mlyard.events.verify(old, body, secret)
    with pytest.raises(PermissionDenied, match="not a signed webhook"):
        mlyard.events.verify({}, body, secret)
    mlyard.events.verify(old, body, secret, now=1_000_010)


def test_a_receiver_that_is_down_is_retried_then_dead_lettered_then_redelivered(
    workspace, model_dir, receiver, senders
):
    settings.update_settings(workspace, event_delivery_attempts=3, event_retry_base_seconds=10)
    subscriptions.create_subscription(workspace, "hook", ["ModelRegistered"], webhook_url=receiver.url)
    receiver.statuses = [503, 429, 500]
    models.register_model_folder(workspace, "churn", model_dir)
    now = datetime.now(UTC)

    assert deliver_everything(workspace, senders, now) == 1
    assert deliver_everything(workspace, senders, now + timedelta(seconds=5)) == 0  # backing off: 10 s
    assert deliver_everything(workspace, senders, now + timedelta(seconds=11)) == 1
    assert deliver_everything(workspace, senders, now + timedelta(seconds=40)) == 1  # then 20 s
    [dead] = subscriptions.list_deliveries(workspace, "hook", states=["dead"])
    assert [a.status_code for a in dead.history] == [503, 429, 500]

    assert subscriptions.redeliver(workspace, "hook", dead=True) == 1
    assert deliver_everything(workspace, senders) == 1
    [done] = subscriptions.list_deliveries(workspace, "hook")
    assert done.state == "succeeded" and done.attempts == 1 and len(done.history) == 4
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1  # the same event every time


def test_a_refusing_receiver_is_not_retried(workspace, model_dir, receiver, senders):
    subscriptions.create_subscription(workspace, "hook", ["ModelRegistered"], webhook_url=receiver.url)
    receiver.statuses = [400]
    models.register_model_folder(workspace, "churn", model_dir)

    deliver_everything(workspace, senders)
    [delivery] = subscriptions.list_deliveries(workspace, "hook")
    assert delivery.state == "dead" and delivery.attempts == 1 and delivery.last_status_code == 400


def test_a_rotated_secret_signs_beside_the_old_one_until_the_overlap_ends(
    workspace, model_dir, receiver, senders
):
    old = subscriptions.create_subscription(workspace, "hook", [], webhook_url=receiver.url).secret
    new = subscriptions.rotate_secret(workspace, "hook", overlap_hours=1).secret
    models.register_model_folder(workspace, "churn", model_dir)

    deliver_everything(workspace, senders)
    got = receiver.received[0]
    assert len(got.headers["webhook-signature"].split()) == 2
    mlyard.events.verify(got.headers, got.body, old)
    mlyard.events.verify(got.headers, got.body, new)
    assert subscriptions.rotate_secret(workspace, "hook", overlap_hours=0).secret not in (old, new)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"webhook_url": "ftp://example.com/x"}, r"webhook: 'ftp://example.com/x' is not an http:// or https://"),
        ({"webhook_url": "http://169.254.169.254/latest/meta-data"},
         r"meta-data refused: 169.254.169.254 is a link-local / cloud-metadata address"),
        ({"webhook_url": "http://metadata.google.internal/"}, r"cloud metadata service"),
        ({"webhook_url": "http://[fe80::1]/hook"}, r"link-local"),
        ({"types": ["ModelRegisterd"], "webhook_url": "http://127.0.0.1:9/x"},
         r"did you mean 'ModelRegistered'"),
        ({"types": ["ModelRegistered"], "filter": {"ModelNam": "x"}, "webhook_url": "http://127.0.0.1:9/x"},
         r"'ModelNam' is not a field of ModelRegistered events \(did you mean 'ModelName'\?\)"),
        ({}, r"needs a webhook URL \(--webhook\) or email addresses"),
        ({"emails": ["ops@example.com"]}, r"no SMTP server"),
        ({"emails": ["not-an-address"]}, r"'not-an-address' is not an email address"),
    ],
)  # fmt: skip
def test_bad_subscriptions_are_refused_naming_the_field_and_nothing_is_stored(workspace, kwargs, message):
    with pytest.raises((InvalidArgument, PermissionDenied), match=message):
        subscriptions.create_subscription(workspace, "bad", **kwargs)
    assert subscriptions.list_subscriptions(workspace) == []


def test_an_admin_may_allow_link_local_webhook_targets(workspace):
    settings.update_settings(workspace, webhook_allow_link_local=True)
    created = subscriptions.create_subscription(workspace, "meta", webhook_url="http://169.254.10.10/hook")
    assert created.subscription.webhook_url == "http://169.254.10.10/hook"


def test_subscription_changes_are_audited_and_never_show_the_secret(workspace):
    from mlyard.services.workspaces import audit

    created = subscriptions.create_subscription(
        workspace, "hook", ["RunCompleted"], webhook_url="http://127.0.0.1:9/x"
    )
    subscriptions.update_subscription(workspace, "hook", enabled=False)
    subscriptions.rotate_secret(workspace, "hook")
    subscriptions.delete_subscription(workspace, "hook")

    trail = audit.list_events(workspace, entity_type="subscription")
    assert [e.action for e in reversed(trail)] == [
        "event.subscription.create", "event.subscription.update", "event.subscription.rotate_secret",
        "event.subscription.delete",
    ]  # fmt: skip
    assert created.secret not in json.dumps([e.model_dump(mode="json") for e in trail])
    assert "secret" not in created.subscription.model_dump()


def test_an_email_subscription_mails_each_event_through_the_smtp_server(workspace, model_dir, senders):
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self) -> None:
            self.messages: list[bytes] = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            self.messages.append(envelope.content)
            return "250 OK"

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.update_settings(
            workspace, smtp_host="127.0.0.1", smtp_port=port, smtp_from="mlyard@example.com"
        )
        subscriptions.create_subscription(workspace, "ops", ["ModelRegistered"], emails=["ops@example.com"])
        models.register_model_folder(workspace, "churn", model_dir)
        deliver_everything(workspace, senders)
    finally:
        controller.stop()

    [message] = inbox.messages
    assert b"Subject: [mlyard] ModelRegistered: models/churn:1" in message
    assert b"ModelName: churn" in message
    [delivery] = subscriptions.list_deliveries(workspace, "ops")
    assert delivery.state == "succeeded" and delivery.last_status_code == 250


def test_old_events_are_purged_after_the_retention_period(workspace, model_dir):
    models.register_model_folder(workspace, "churn", model_dir)
    dispatch.fan_out(workspace)
    assert dispatch.purge(workspace, now=datetime.now(UTC) + timedelta(days=29)) == 0
    assert dispatch.purge(workspace, now=datetime.now(UTC) + timedelta(days=31)) == 1
    assert outbox.list_events(workspace) == []
