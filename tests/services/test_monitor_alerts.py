"""Monitor alerts: state over successive runs, events once per change, emails through a real SMTP
server, webhooks through a real HTTP receiver, event triggers, and Azure's breach tag on the run."""

from __future__ import annotations

import textwrap
from email import message_from_bytes
from email.policy import default

import pytest

import mlyard
from mlyard.entities.automation.event import MODEL_STALE, MONITOR_ALERT, MONITOR_RECOVERED, RUN_STATUS_CHANGED
from mlyard.entities.automation.monitor import Verdict
from mlyard.entities.jobs.job import JobStatus
from mlyard.errors import Conflict, InvalidArgument, NotFound
from mlyard.services.events import dispatch, outbox, subscriptions
from mlyard.services.events.senders import Senders
from mlyard.services.execution.job_runs import get_spec
from mlyard.services.monitors import notifications
from mlyard.services.monitors.alerts import (
    THRESHOLD_BREACHED_TAG,
    THRESHOLD_BREACHED_TEXT,
    alert_states,
    apply_verdicts,
    forget_monitor,
)
from mlyard.services.schedules import firing, schedules
from mlyard.services.schedules.triggers import dispatch_events
from mlyard.services.tracking import jobs
from mlyard.services.workspaces import audit, settings
from tests.receivers import WebhookReceiver
from tests.services.test_events import free_port


def drift(value: float, feature: str = "age", error: str | None = None, signal: str = "drift") -> Verdict:
    return Verdict(signal, "data_drift", feature, "normalized_wasserstein_distance", value, 0.1,
                   error is None and value > 0.1, error)  # fmt: skip


def quality(value: float) -> Verdict:
    return Verdict("quality", "data_quality", "age", "null_value_rate", value, 0.0, value > 0.0)


def run(workspace, verdicts, emails=(), webhooks=(), monitor="diabetes-monitor", model="diabetes:3"):
    """One monitor run: a job, its verdicts applied, then the job completed (in that order)."""
    job = jobs.start_job(workspace, experiment="monitor-runs")
    outcome = apply_verdicts(workspace, monitor_name=monitor, job_id=job.id, verdicts=verdicts,
                             emails=list(emails), webhooks=list(webhooks), model=model)  # fmt: skip
    jobs.end_job(workspace, job.id, JobStatus.COMPLETED)
    return job.id, outcome


@pytest.fixture
def senders():
    created = Senders(timeout=5.0)
    yield created
    created.close()


@pytest.fixture
def receiver():
    started = WebhookReceiver().start()
    yield started
    started.stop()


@pytest.fixture
def inbox():
    """A real SMTP server on a free port, set as the workspace's; `messages` is what it received."""
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self) -> None:
            self.messages: list[bytes] = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            self.messages.append(envelope.content)
            return "250 OK"

    found = Inbox()
    found.port = free_port()
    controller = Controller(found, hostname="127.0.0.1", port=found.port)
    controller.start()
    yield found
    controller.stop()


def deliver(workspace, senders):
    dispatch_events(workspace)
    return dispatch.deliver_due(workspace, senders)


def test_a_signal_alerts_once_stays_quiet_while_breached_recovers_once_and_alerts_again(workspace):
    first, outcome = run(workspace, [drift(0.3), drift(0.05, "bmi"), quality(0.0)])
    assert outcome.newly_breached == ("drift",) and outcome.still_breached == () and outcome.breached
    [alert] = outbox.list_events(workspace, types=["monitor.alert"])
    assert alert.type == MONITOR_ALERT == "mlyard.monitor.alert"
    assert alert.subject == "monitors/diabetes-monitor/signals/drift"
    assert alert.data["MonitorName"] == "diabetes-monitor" and alert.data["SignalType"] == "data_drift"
    assert alert.data["JobId"] == first and (alert.data["ModelName"], alert.data["ModelVersion"]) == (
        "diabetes",
        "3",
    )
    assert alert.data["Features"] == [
        {"feature": "age", "metric": "normalized_wasserstein_distance", "value": 0.3, "threshold": 0.1}
    ]

    _, outcome = run(workspace, [drift(0.4), drift(0.2, "bmi"), quality(0.0)])
    assert outcome.newly_breached == () and outcome.still_breached == ("drift",) and outcome.event_ids == ()
    [state, _] = alert_states(workspace, "diabetes-monitor")
    assert state.signal == "drift" and state.breach_job_id == first and state.last_values[1]["value"] == 0.2

    third, outcome = run(workspace, [drift(0.01), drift(0.02, "bmi"), quality(0.0)])
    assert outcome.recovered == ("drift",) and not outcome.breached
    [recovered] = outbox.list_events(workspace, types=["monitor.recovered"])
    assert recovered.type == MONITOR_RECOVERED and recovered.data["JobId"] == third
    assert recovered.data["BreachJobId"] == first and recovered.data["BreachedSince"]
    # the current values of what breached in the run before: age and bmi
    assert [f["feature"] for f in recovered.data["Features"]] == ["age", "bmi"]
    assert alert_states(workspace, "diabetes-monitor")[0].breached_since is None

    fourth, outcome = run(workspace, [drift(0.5), quality(0.2)])
    assert outcome.newly_breached == ("drift", "quality")
    alerts = outbox.list_events(workspace, types=["monitor.alert"])
    assert [(e.data["SignalName"], e.data["JobId"]) for e in alerts[:2]] == [
        ("quality", fourth),
        ("drift", fourth),
    ]
    assert len(alerts) == 3


def test_verdicts_with_errors_never_count_as_breach_nor_recovery(workspace):
    _, outcome = run(workspace, [drift(0.0, error="production data has no column 'age'")])
    assert outcome.newly_breached == () and outcome.recovered == ()
    run(workspace, [drift(0.3)])
    # breached; now one feature cannot be read and the other is fine: not a recovery
    _, outcome = run(workspace, [drift(0.0, error="unreadable file"), drift(0.01, "bmi")])
    assert outcome.recovered == () and outcome.still_breached == ("drift",)
    # an error beside a measured breach: still breached, nothing announced again
    _, outcome = run(workspace, [drift(0.0, error="unreadable file"), drift(0.4, "bmi")])
    assert outcome.still_breached == ("drift",)
    assert len(outbox.list_events(workspace, types=["monitor.alert"])) == 1
    assert outbox.list_events(workspace, types=["monitor.recovered"]) == []


def test_the_breach_tag_is_on_the_run_and_in_its_run_status_changed_data(workspace):
    breached, _ = run(workspace, [drift(0.3)])
    assert jobs.get_job(workspace, breached).tags[THRESHOLD_BREACHED_TAG] == THRESHOLD_BREACHED_TEXT
    ends = [
        e for e in outbox.list_events(workspace, types=[RUN_STATUS_CHANGED]) if e.data["runId"] == breached
    ]
    completed = next(e for e in ends if e.data["runStatus"] == "Completed")
    assert completed.data["runTags"][THRESHOLD_BREACHED_TAG] == THRESHOLD_BREACHED_TEXT
    still, _ = run(workspace, [drift(0.3)])  # still breached: tagged again though nothing is announced
    assert THRESHOLD_BREACHED_TAG in jobs.get_job(workspace, still).tags
    fine, _ = run(workspace, [drift(0.01)])
    assert THRESHOLD_BREACHED_TAG not in jobs.get_job(workspace, fine).tags


def test_a_stale_model_is_announced_once_while_stale_and_its_recovery_once(workspace):
    def staleness(age: float) -> Verdict:
        return Verdict("staleness", "model_staleness", "model", "max_age_days", age, 60.0, age > 60)

    job, outcome = run(workspace, [staleness(75.0)])
    assert outcome.stale_alert and outcome.newly_breached == ("staleness",)
    _, outcome = run(workspace, [staleness(76.0)])
    assert not outcome.stale_alert and outcome.still_breached == ("staleness",)
    [stale] = outbox.list_events(workspace, types=["model.stale"])
    assert stale.type == MODEL_STALE and stale.subject == "models/diabetes:3"
    assert stale.data == {
        "ModelName": "diabetes", "ModelVersion": "3", "AgeDays": 75.0, "MaxAgeDays": 60.0,
        "MonitorName": "diabetes-monitor", "SignalName": "staleness", "JobId": job,
    }  # fmt: skip
    assert outbox.list_events(workspace, types=["monitor.alert"]) == []
    run(workspace, [staleness(1.0)], model="diabetes:4")
    [recovered] = outbox.list_events(workspace, types=["monitor.recovered"])
    assert recovered.data["SignalType"] == "model_staleness" and recovered.data["ModelVersion"] == "4"


def test_one_alert_mail_for_three_breached_runs_and_one_recovery_mail(workspace, inbox, senders):
    settings.update_settings(
        workspace, smtp_host="127.0.0.1", smtp_port=inbox.port, smtp_from="mlyard@example.com"
    )
    emails = ["ops@example.com", "oncall@example.com"]
    first, outcome = run(workspace, [drift(0.3), drift(0.02, "bmi")], emails)
    assert outcome.emails_queued == tuple(emails)
    deliver(workspace, senders)
    for _ in range(2):
        _, outcome = run(workspace, [drift(0.35)], emails)
        assert outcome.emails_queued == ()
        deliver(workspace, senders)
    last, _ = run(workspace, [drift(0.01)], emails)
    deliver(workspace, senders)

    assert len(inbox.messages) == 2
    alert, recovery = (message_from_bytes(raw, policy=default) for raw in inbox.messages)
    assert (
        alert["Subject"].strip() == "[mlyard] ALERT monitor diabetes-monitor: drift breached on 1 metric(s)"
    )
    assert alert["To"] == "ops@example.com, oncall@example.com"
    text = alert.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert f"crossed its thresholds in monitor run {first}" in text
    assert "  age      normalized_wasserstein_distance  0.3    0.1\n" in text
    assert "mlyard monitor show --name diabetes-monitor" in text and "Model: diabetes:3" in text
    assert recovery["Subject"].strip() == "[mlyard] recovered monitor diabetes-monitor: drift"
    text = recovery.get_body(("plain",)).get_content()
    assert f"back within its thresholds in monitor run {last}" in text and f"(run {first})" in text
    [subscription] = subscriptions.list_subscriptions(workspace)
    assert subscription.name == "monitor.diabetes-monitor.email" and subscription.emails == emails
    assert [d.state.value for d in subscriptions.list_deliveries(workspace, subscription.name)] == [
        "succeeded", "succeeded",
    ]  # fmt: skip


def test_webhooks_get_the_alert_signed_both_the_monitors_own_and_a_subscription(workspace, receiver, senders):
    subscriptions.create_subscription(workspace, "alerts", ["monitor.alert"], {"SignalType": "data_drift"},
                                      receiver.url)  # fmt: skip
    run(workspace, [drift(0.01)], webhooks=[receiver.url])
    [own] = [s.name for s in subscriptions.list_subscriptions(workspace) if s.name.startswith("monitor.")]
    secret = subscriptions.rotate_secret(workspace, own, overlap_hours=0).secret  # how a receiver gets it
    job, _ = run(workspace, [drift(0.3)], webhooks=[receiver.url])
    run(workspace, [drift(0.3)], webhooks=[receiver.url])  # still breached: nothing more is sent

    assert deliver(workspace, senders) == 2
    received = receiver.wait_for(2)
    assert {got.event["type"] for got in received} == {MONITOR_ALERT}
    assert all(got.event["data"]["JobId"] == job for got in received)
    own_delivery = next(got for got in received if _verifies(got, secret))
    assert own_delivery.event["data"]["Features"][0]["value"] == 0.3
    run(workspace, [drift(0.01)], webhooks=[receiver.url])
    assert deliver(workspace, senders) == 1  # the recovery, to the monitor's webhook only
    assert receiver.wait_for(3)[-1].event["type"] == MONITOR_RECOVERED


def _verifies(got, secret) -> bool:
    try:
        mlyard.events.verify(got.headers, got.body, secret)
    except mlyard.errors.PermissionDenied:
        return False
    return True


def test_an_event_trigger_on_monitor_alert_fires_for_its_monitor_only(workspace, tmp_path):
    (tmp_path / "job.yml").write_text("command: echo retrain ${{inputs.signal}}\ninputs: {signal: x}\n"
                                      "environment: inherit\nexperiment_name: retrain\n")  # fmt: skip
    (tmp_path / "retrain.yml").write_text(textwrap.dedent("""\
        name: retrain-on-drift
        trigger: {type: event, event_type: monitor.alert, filter: {MonitorName: diabetes-monitor}}
        create_job:
          type: command
          job: ./job.yml
          inputs: {signal: "${{event.data.SignalName}}"}
        """))  # fmt: skip
    schedules.create_schedule_file(workspace, tmp_path / "retrain.yml")
    run(workspace, [drift(0.3)], monitor="other-monitor")
    run(workspace, [drift(0.3)])

    dispatch_events(workspace)
    [fired] = firing.run_pending(workspace, dispatch=None)
    [alert] = outbox.list_events(workspace, types=["monitor.alert"], subject="monitors/diabetes-monitor/*")
    assert fired.job is not None and fired.firing.event_id == alert.id
    assert "drift" in str(get_spec(workspace, fired.job.id)["inputs"]["signal"])


def test_notification_subscriptions_follow_the_monitor_and_leave_users_own_alone(workspace, receiver):
    settings.update_settings(workspace, smtp_host="127.0.0.1", smtp_port=25, smtp_from="mlyard@example.com")
    email_name = notifications.email_subscription("diabetes-monitor")
    subscriptions.create_subscription(workspace, email_name, ["ModelRegistered"], emails=["me@example.com"])
    run(workspace, [drift(0.01)], emails=["ops@example.com"], webhooks=[receiver.url])
    mine = {s.name: s for s in subscriptions.list_subscriptions(workspace)}
    assert mine[email_name].emails == ["me@example.com"]  # the user's, untouched
    [hook] = [name for name in mine if "webhook-" in name]
    assert mine[hook].webhook_url == receiver.url and mine[hook].filter == {"MonitorName": "diabetes-monitor"}

    subscriptions.delete_subscription(workspace, email_name)
    _, outcome = run(workspace, [drift(0.3)], emails=["ops@example.com", "b@example.com"])
    assert set(outcome.subscriptions) == {email_name}  # webhook gone, email one now the monitor's
    assert subscriptions.get_subscription(workspace, email_name).emails == [
        "ops@example.com",
        "b@example.com",
    ]
    assert "event.subscription.delete" in {e.action for e in audit.list_events(workspace)}

    workspace.database.write(lambda session: forget_monitor(session, "diabetes-monitor"))
    assert (
        alert_states(workspace, "diabetes-monitor") == []
        and subscriptions.list_subscriptions(workspace) == []
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"emails": ["ops@example.com", "not-an-address"]}, InvalidArgument,
         r"alert_notification.emails\[1\]: 'not-an-address' is not an email address"),
        ({"webhooks": ["ftp://example.com/hook"]}, InvalidArgument, r"alert_notification.webhooks\[0\]"),
        ({"monitor_name": "bad name"}, InvalidArgument, r"invalid monitor name 'bad name'"),
        ({"job_id": "nope"}, NotFound, r"job 'nope' does not exist"),
        ({"model": ":3"}, InvalidArgument, r"model: expected name:version"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(workspace, kwargs, error, message):
    job = jobs.start_job(workspace, experiment="monitor-runs")
    arguments = {"monitor_name": "m", "job_id": job.id, "verdicts": [drift(0.3)], "emails": [], **kwargs}
    with pytest.raises(error, match=message):
        apply_verdicts(workspace, **arguments)
    assert alert_states(workspace, "m") == [] and subscriptions.list_subscriptions(workspace) == []
    assert outbox.list_events(workspace, types=["monitor.alert"]) == []
    assert THRESHOLD_BREACHED_TAG not in jobs.get_job(workspace, job.id).tags


def test_verdicts_after_the_job_ended_are_refused_so_the_tag_cannot_miss_its_event(workspace):
    job = jobs.start_job(workspace, experiment="monitor-runs")
    jobs.end_job(workspace, job.id, JobStatus.COMPLETED)
    with pytest.raises(Conflict, match="before its job ends"):
        apply_verdicts(workspace, monitor_name="m", job_id=job.id, verdicts=[drift(0.3)], emails=[])
    assert alert_states(workspace, "m") == []


def test_empty_emails_and_no_verdicts_are_fine(workspace):
    _, outcome = run(workspace, [], emails=[])
    assert outcome == type(outcome)() and subscriptions.list_subscriptions(workspace) == []
