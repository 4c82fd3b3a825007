"""Alerts: what a monitor run's verdicts change, announced once per breach.

Per monitor and signal the workspace keeps where the signal stands (`monitor_alerts`): breached
since when, by which run, its last values. Each run's verdicts move it:

- not breached → breached: `mlyard.monitor.alert` (a `model_staleness` signal:
  `mlyard.model.stale`), once; the runs after it that still breach announce nothing;
- breached → not breached: `mlyard.monitor.recovered`, once;
- a verdict with an `error` counts neither way: a signal whose data could not be read stays as it
  was (a recovery needs every verdict of the signal measured and within its threshold).

The events are written to the outbox in the transaction that moves the state, so an alert exists
exactly when the state says it was raised. Emails and webhooks (`alert_notification`) are the
monitor's own event subscriptions (`notifications.py`): one message per event, not per run.
The run gets Azure's tag `azureml_modelmonitor_threshold_breached` while any signal breaches, so
the `RunStatusChanged` of its end carries it in `runTags` — Azure's documented way to filter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from mlyard.entities.automation.event import MODEL_STALE, MONITOR_ALERT, MONITOR_RECOVERED
from mlyard.entities.automation.monitor import Verdict
from mlyard.entities.specs.names import validate_name
from mlyard.errors import Conflict, InvalidArgument, NotFound
from mlyard.services.events.job_events import depth_of_job
from mlyard.services.events.outbox import emit
from mlyard.services.events.subscriptions import check_email
from mlyard.services.events.targets import check_target
from mlyard.services.monitors import notifications
from mlyard.services.workspaces.settings import get_settings
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import jobs as job_rows
from mlyard.store import monitor_alerts as rows
from mlyard.store.jobs import as_utc
from mlyard.store.tables import JobRow, MonitorAlertRow

# Azure ML's run tag on a monitor run that breached, and its text (what Azure's docs filter on:
# `data.RunTags.azureml_modelmonitor_threshold_breached` contains "… violating metric thresholds").
THRESHOLD_BREACHED_TAG = "azureml_modelmonitor_threshold_breached"
THRESHOLD_BREACHED_TEXT = "has failed due to one or more features violating metric thresholds"
STALENESS = "model_staleness"


@dataclass(frozen=True)
class AlertOutcome:
    """What one run's verdicts changed: signals by transition, the events written, who is told."""

    newly_breached: tuple[str, ...] = ()  # signals whose alert (or stale-model event) was raised now
    still_breached: tuple[str, ...] = ()  # breached before and now: nothing announced again
    recovered: tuple[str, ...] = ()
    stale_alert: bool = False  # `mlyard.model.stale` was raised by this run
    emails_queued: tuple[str, ...] = ()  # addresses this run's events will be mailed to
    event_ids: tuple[str, ...] = ()
    subscriptions: tuple[str, ...] = ()  # the monitor's notification subscriptions

    @property
    def breached(self) -> bool:
        """Any signal breaches after this run (what the run tag says)."""
        return bool(self.newly_breached or self.still_breached)


@dataclass(frozen=True)
class AlertState:
    """Where one signal of a monitor stands (for `mlyard monitor show`)."""

    monitor: str
    signal: str
    signal_type: str
    breached_since: datetime | None
    breach_job_id: str | None
    last_job_id: str
    last_values: list[dict[str, Any]]
    updated_at: datetime


def apply_verdicts(
    workspace: Workspace,
    *,
    monitor_name: str,
    job_id: str,
    verdicts: Sequence[Verdict],
    emails: Sequence[str],
    webhooks: Sequence[str] = (),
    model: str | None = None,
) -> AlertOutcome:
    """Move each signal's alert state by this run's verdicts, emit the alert / recovery / stale
    events, keep the monitor's notification subscriptions in step, and tag the run — all in one
    transaction. `model` is the monitored model version, `name:version`.

    Call it BEFORE the monitor job `job_id` ends: the run tag must be on the job when its final
    `RunStatusChanged` is emitted, so that event carries it. A job that already ended is refused
    (`Conflict`). Bad `emails` / `webhooks` raise `InvalidArgument` naming
    `alert_notification.emails[i]` / `.webhooks[i]`, and nothing is stored.
    """
    validate_name(monitor_name, "monitor name")
    addresses = [check_email(a, f"alert_notification.emails[{i}]") for i, a in enumerate(emails)]
    allow_link_local = get_settings(workspace).webhook_allow_link_local if webhooks else False
    for i, url in enumerate(webhooks):
        check_target(url, allow_link_local, f"alert_notification.webhooks[{i}]")
    model_name, model_version = _model(model)
    by_signal = _by_signal(verdicts)
    now = datetime.now(UTC)

    def work(session: Session) -> AlertOutcome:
        _require_running(session, job_id)
        rows.lock_monitor(session, monitor_name)
        states = rows.states(session, monitor_name)
        depth = depth_of_job(session, job_id)
        newly, still, recovered, event_ids = [], [], [], []
        stale = False
        for signal, found in by_signal.items():
            state = states.get(signal)
            was_breached = state is not None and state.breached_since is not None
            breached = _breached(found)
            if breached is None:
                breached = was_breached  # nothing measured: the signal stays where it was
            context = dict(MonitorName=monitor_name, SignalName=signal, SignalType=found[0].signal_type,
                           JobId=job_id, ModelName=model_name, ModelVersion=model_version)  # fmt: skip
            if breached and not was_breached:
                newly.append(signal)
                event_type, subject, data = _raised(context, found, now)
                stale = stale or event_type == MODEL_STALE
                event_ids.append(emit(session, event_type, subject, data, depth))
            elif breached:
                still.append(signal)
            elif state is not None and state.breached_since is not None:
                recovered.append(signal)
                data = {**context, "BreachedSince": as_utc(state.breached_since).isoformat(),
                        "BreachJobId": state.breach_job_id, "Features": _recovered(state, found)}  # fmt: skip
                subject = _subject(monitor_name, signal)
                event_ids.append(emit(session, MONITOR_RECOVERED, subject, data, depth))
            _save(session, state, monitor_name, signal, found, breached, was_breached, job_id, now)
        if newly or still:
            job_rows.upsert_tags(session, job_id, {THRESHOLD_BREACHED_TAG: THRESHOLD_BREACHED_TEXT})
        kept = notifications.sync_subscriptions(session, monitor_name, addresses, webhooks)
        emailed = addresses if event_ids and notifications.email_subscription(monitor_name) in kept else []
        return AlertOutcome(
            newly_breached=tuple(newly), still_breached=tuple(still), recovered=tuple(recovered),
            stale_alert=stale, emails_queued=tuple(emailed), event_ids=tuple(event_ids),
            subscriptions=tuple(kept),
        )  # fmt: skip

    return workspace.database.write(work)


def alert_states(workspace: Workspace, monitor_name: str) -> list[AlertState]:
    """Every signal's alert state of a monitor, by signal name ([] for a monitor never run)."""
    with workspace.database.read() as session:
        found = rows.states(session, monitor_name)
        return [_state(found[name]) for name in sorted(found)]


def all_alert_states(workspace: Workspace) -> dict[str, list[AlertState]]:
    """`alert_states` of every monitor at once, by monitor name (monitors never run are absent)."""
    found: dict[str, list[AlertState]] = {}
    with workspace.database.read() as session:
        for row in rows.all_states(session):
            found.setdefault(row.monitor, []).append(_state(row))
    return found


def forget_monitor(session: Session, monitor_name: str) -> None:
    """Drop a monitor's alert state and notification subscriptions, in the caller's transaction
    (the one that deletes the monitor)."""
    rows.delete_states(session, monitor_name)
    notifications.delete_subscriptions(session, monitor_name)


def _by_signal(verdicts: Sequence[Verdict]) -> dict[str, list[Verdict]]:
    grouped: dict[str, list[Verdict]] = {}
    for verdict in verdicts:
        if not isinstance(verdict, Verdict):
            raise InvalidArgument(f"verdicts: expected Verdict records, got {type(verdict).__name__}")
        grouped.setdefault(verdict.signal, []).append(verdict)
    return grouped


def _breached(verdicts: list[Verdict]) -> bool | None:
    """True: some measured verdict breaches; False: every verdict measured and none breaches;
    None: not known (errors, and nothing measured breaches) — errors never decide either way."""
    measured = [v for v in verdicts if v.error is None]
    if any(v.breached for v in measured):
        return True
    return False if len(measured) == len(verdicts) else None


def _raised(context: dict[str, Any], found: list[Verdict], now: datetime) -> tuple[str, str, dict[str, Any]]:
    breached = [v for v in found if v.error is None and v.breached]
    if found[0].signal_type == STALENESS:
        worst = breached[0]
        model = f"{context['ModelName']}:{context['ModelVersion']}" if context["ModelName"] else None
        data = dict(ModelName=context["ModelName"], ModelVersion=context["ModelVersion"],
                    AgeDays=_number(worst.value), MaxAgeDays=_number(worst.threshold),
                    MonitorName=context["MonitorName"], SignalName=context["SignalName"],
                    JobId=context["JobId"])  # fmt: skip
        subject = f"models/{model}" if model else _subject(context["MonitorName"], context["SignalName"])
        return MODEL_STALE, subject, data
    data = {**context, "BreachedSince": now.isoformat(), "Features": [_shown(v) for v in breached]}
    return MONITOR_ALERT, _subject(context["MonitorName"], context["SignalName"]), data


def _recovered(state: MonitorAlertRow, found: list[Verdict]) -> list[dict[str, Any]]:
    """The current values of what breached in the last run (all of them if that is not known)."""
    before = {(v["feature"], v["metric"]) for v in state.last_values if v.get("breached")}
    return [_shown(v) for v in found if not before or (v.feature, v.metric) in before]


def _save(
    session: Session,
    state: MonitorAlertRow | None,
    monitor: str,
    signal: str,
    found: list[Verdict],
    breached: bool,
    was_breached: bool,
    job_id: str,
    now: datetime,
) -> None:
    values = [{**asdict(v), "value": _number(v.value), "threshold": _number(v.threshold)} for v in found]
    if state is None:
        rows.insert_state(
            session,
            dict(monitor=monitor, signal=signal, signal_type=found[0].signal_type,
                 breached_since=now if breached else None, breach_job_id=job_id if breached else None,
                 last_job_id=job_id, last_values=values, updated_at=now),
        )  # fmt: skip
        return
    if breached and not was_breached:
        state.breached_since, state.breach_job_id = now, job_id
    elif not breached:
        state.breached_since, state.breach_job_id = None, None
    state.signal_type, state.last_job_id, state.last_values, state.updated_at = (
        found[0].signal_type, job_id, values, now,
    )  # fmt: skip


def _require_running(session: Session, job_id: str) -> None:
    job = session.get(JobRow, job_id)
    if job is None:
        raise NotFound(f"job {job_id!r} does not exist; the monitor run's verdicts need its job")
    if job.status in job_rows.TERMINAL_STATUSES:
        raise Conflict(
            f"job {job_id} already ended as {job.status}: apply a monitor run's verdicts before "
            "its job ends, so the end's RunStatusChanged carries the breach tag"
        )


def _model(model: str | None) -> tuple[str | None, str | None]:
    if model is None:
        return None, None
    name, _, version = model.removeprefix("azureml:").partition(":")
    if not name:
        raise InvalidArgument(f"model: expected name:version, got {model!r}")
    return name, version or None


def _shown(verdict: Verdict) -> dict[str, Any]:
    return {"feature": verdict.feature, "metric": verdict.metric, "value": _number(verdict.value),
            "threshold": _number(verdict.threshold)}  # fmt: skip


def _number(value: float | None) -> float | None:
    """JSON has no NaN or infinity (PostgreSQL refuses them): such a value is stored as null."""
    return None if value is None or not math.isfinite(value) else float(value)


def _subject(monitor: str, signal: str) -> str:
    return f"monitors/{monitor}/signals/{signal}"


def _state(row: MonitorAlertRow) -> AlertState:
    return AlertState(
        monitor=row.monitor, signal=row.signal, signal_type=row.signal_type,
        breached_since=as_utc(row.breached_since),
        breach_job_id=row.breach_job_id, last_job_id=row.last_job_id, last_values=list(row.last_values),
        updated_at=as_utc(row.updated_at),
    )  # fmt: skip
