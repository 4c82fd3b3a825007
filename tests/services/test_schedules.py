"""Schedules: timing in time zones, the missed-firing rule, bad input, firings and event triggers.

Time is injected (`now=`), so nothing here waits for the clock."""

from __future__ import annotations

import textwrap
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mlyard.entities.automation.schedule_spec import CronTrigger, RecurrenceTrigger
from mlyard.entities.specs.spec_warnings import checking_specs
from mlyard.errors import AlreadyExists, InvalidArgument, InvalidSpec, NotFound
from mlyard.services.events import outbox
from mlyard.services.model_registry import models
from mlyard.services.schedules import firing, schedules
from mlyard.services.schedules.timing import timing_of
from mlyard.services.schedules.triggers import dispatch_events
from mlyard.services.tracking import jobs
from mlyard.services.workspaces import audit, settings

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(
        tmp_path / "job.yml",
        """\
        command: echo nightly ${{inputs.n}}
        inputs: {n: 1}
        environment: inherit
        experiment_name: nightly
        """,
    )
    return tmp_path


def schedule_yaml(project: Path, trigger: str, name: str = "nightly", create_job: str = "./job.yml") -> Path:
    return write(project / f"{name}.yml", f"name: {name}\ntrigger: {trigger}\ncreate_job: {create_job}\n")


# --- timing ----------------------------------------------------------------------------------------


def test_cron_fires_at_wall_clock_time_of_a_windows_named_zone_summer_and_winter():
    trigger = CronTrigger(type="cron", expression="0 3 * * *", time_zone="Pacific Standard Time",
                          start_time=datetime(2026, 3, 6))  # fmt: skip
    timing = timing_of(trigger, T0)
    first, *rest = timing.upcoming(datetime(2026, 3, 6, tzinfo=UTC), 3)
    assert first == datetime(2026, 3, 6, 11, 0, tzinfo=UTC)  # 03:00 PST = 11:00 UTC
    assert rest[-1] == datetime(2026, 3, 8, 10, 0, tzinfo=UTC)  # 03:00 PDT after the switch


def test_recurrences_follow_azure_semantics():
    weekly = RecurrenceTrigger(
        type="recurrence", frequency="week", interval=2, start_time=datetime(2026, 12, 1),
        schedule={"week_days": ["Monday", "friday"], "hours": [9], "minutes": [30]},
    )  # fmt: skip
    got = timing_of(weekly, T0).upcoming(datetime(2026, 12, 1, tzinfo=UTC), 4)
    assert [d.strftime("%a %d %H:%M") for d in got] == [
        "Fri 04 09:30",
        "Mon 14 09:30",
        "Fri 18 09:30",
        "Mon 28 09:30",
    ]
    monthly = RecurrenceTrigger(type="recurrence", frequency="month", start_time=datetime(2027, 1, 1),
                                schedule={"month_days": [31], "hours": [0], "minutes": [0]})  # fmt: skip
    assert [d.month for d in timing_of(monthly, T0).upcoming(datetime(2027, 1, 1, tzinfo=UTC), 3)] == [
        1,
        3,
        5,
    ]
    every = RecurrenceTrigger(type="recurrence", frequency="minute", interval=15)
    assert timing_of(every, T0).upcoming(T0, 2) == [T0 + timedelta(minutes=15), T0 + timedelta(minutes=30)]


def test_without_start_time_the_first_firing_is_at_creation(workspace, project):
    created = schedules.create_schedule_file(
        workspace, schedule_yaml(project, '{type: cron, expression: "0 3 * * *"}'), T0
    )
    assert created.next_fire_at == T0
    details = schedules.show_schedule(workspace, "nightly", now=T0)
    assert details.next_firings[:2] == [T0, datetime(2026, 12, 2, 3, 0, tzinfo=UTC)]
    assert len(details.next_firings) == 5


def test_missed_firings_fire_once_for_the_latest_time_never_as_a_burst(workspace, project):
    path = schedule_yaml(project, '{type: cron, expression: "0 * * * *", start_time: "2026-12-01T12:00:00"}')
    schedules.create_schedule_file(workspace, path, T0)
    three_days_later = T0 + timedelta(days=3, minutes=30)

    [firing_id] = firing.fire_due(workspace, now=three_days_later)
    assert firing.fire_due(workspace, now=three_days_later) == []
    details = schedules.show_schedule(workspace, "nightly", now=three_days_later)
    [fired] = details.firings
    assert fired.id == firing_id and fired.scheduled_for == T0 + timedelta(days=3)
    assert details.schedule.next_fire_at == T0 + timedelta(days=3, hours=1)


def test_two_servers_firing_at_once_record_each_firing_once(workspace, project):
    schedules.create_schedule_file(
        workspace, schedule_yaml(project, '{type: cron, expression: "*/5 * * * *"}'), T0
    )
    fired: list[int] = []
    threads = [
        threading.Thread(
            target=lambda: fired.extend(firing.fire_due(workspace, now=T0 + timedelta(minutes=1)))
        )
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fired) == 1


def test_nothing_fires_after_end_time(workspace, project):
    trigger = '{type: recurrence, frequency: hour, start_time: "2026-12-01T12:00:00", '
    trigger += 'end_time: "2026-12-01T13:30:00"}'
    schedules.create_schedule_file(workspace, schedule_yaml(project, trigger), T0)
    firing.fire_due(workspace, now=T0 + timedelta(hours=5))
    assert schedules.get_schedule(workspace, "nightly").next_fire_at is None
    assert firing.fire_due(workspace, now=T0 + timedelta(hours=9)) == []


# --- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trigger", "create_job", "message"),
    [
        ('{type: cron, expression: "0 3 * *"}', "./job.yml",
         r"nightly.yml: trigger.expression: '0 3 \* \*' has 4 fields; a cron expression has five"),
        ('{type: cron, expression: "0 25 * * *"}', "./job.yml",
         r"trigger.expression: '0 25 \* \* \*' is not a valid"),
        ('{type: cron, expression: "0 3 * * *", time_zone: "Pacific Standrd Time"}', "./job.yml",
         r"trigger.time_zone: unknown time zone 'Pacific Standrd Time' "
         r"\(did you mean 'Pacific Standard Time'\?\)"),
        ('{type: recurrence, frequency: day, start_time: "2026-12-02T00:00:00", '
         'end_time: "2026-12-01T00:00:00"}',
         "./job.yml", r"trigger.end_time: 2026-12-01T00:00:00\+00:00 is not after start_time"),
        ("{type: recurrence, frequency: fortnight}", "./job.yml",
         r"nightly.yml: trigger.recurrence.frequency"),
        ("{type: event, event_type: ModelRegisterd}", "./job.yml",
         r"trigger.event_type: unknown event type 'ModelRegisterd' \(did you mean 'ModelRegistered'\?\)"),
        ("{type: event, event_type: ModelRegistered, filter: {Modelname: x, Flavour: y}}", "./job.yml",
         r"trigger.filter: 'Flavour' is not a field of ModelRegistered events"),
        ('{type: cron, expression: "0 3 * * *"}', "./missing.yml",
         r"create_job: ./missing.yml does not exist"),
        ('{type: cron, expression: "0 3 * * *"}', "{command: echo hi, comand: x}",
         r"nightly.yml: create_job: comand: unknown field.*did you mean 'command'\?"),
        ("{type: event, event_type: RunCompleted}", "./job.yml",
         r"trigger.filter: this trigger would trigger itself \(the job it creates \(experiment 'nightly'\)"),
    ],
)  # fmt: skip
def test_bad_schedules_are_refused_naming_file_and_field_and_nothing_is_stored(
    workspace, project, trigger, create_job, message
):
    # strict: an unknown field is refused, as `--strict` makes it (it is otherwise a warning)
    with checking_specs(strict=True), pytest.raises((InvalidSpec, NotFound), match=message):
        schedules.create_schedule_file(workspace, schedule_yaml(project, trigger, create_job=create_job), T0)
    assert schedules.list_schedules(workspace) == []
    assert audit.list_events(workspace, entity_type="schedule") == []


def test_a_schedule_name_is_taken_once(workspace, project):
    path = schedule_yaml(project, '{type: cron, expression: "0 3 * * *"}')
    schedules.create_schedule_file(workspace, path, T0)
    with pytest.raises(AlreadyExists, match="schedule 'nightly' already exists"):
        schedules.create_schedule_file(workspace, path, T0)


# --- firings become jobs ---------------------------------------------------------------------------


def test_trigger_creates_the_job_with_its_overrides_and_the_schedule_tags(workspace, project):
    path = write(
        project / "nightly.yml",
        """\
        name: nightly
        trigger: {type: recurrence, frequency: day, schedule: {hours: [3], minutes: [15]}}
        create_job:
          job: ./job.yml
          experiment_name: nightly-retrain
          inputs: {n: 7}
          tags: {why: scheduled}
        """,
    )
    schedules.create_schedule_file(workspace, path, T0)
    firing_id = firing.trigger_now(workspace, "nightly", now=T0)
    [fired] = firing.run_pending(workspace, dispatch=None, now=T0)

    assert fired.firing.id == firing_id and fired.firing.state == "done" and fired.firing.reason == "manual"
    job = jobs.get_job(workspace, fired.job.id)
    assert job.experiment == "nightly-retrain" and job.display_name == "nightly-20261201120000"
    assert job.tags["why"] == "scheduled" and job.tags["mlyard.schedule"] == "nightly"
    from mlyard.services.execution.job_runs import get_spec

    assert get_spec(workspace, job.id)["inputs"]["n"]["value"] == 7
    [event] = outbox.list_events(workspace, types=["ScheduleFired"])
    assert event.data["ScheduleName"] == "nightly" and event.data["Reason"] == "manual"
    assert [f.job_id for f in schedules.show_schedule(workspace, "nightly").firings] == [job.id]


def test_disable_enable_and_delete_keep_the_jobs_created(workspace, project):
    schedules.create_schedule_file(
        workspace, schedule_yaml(project, '{type: cron, expression: "0 3 * * *"}'), T0
    )
    assert schedules.set_enabled(workspace, "nightly", False, T0).next_fire_at == T0  # kept, not fired
    assert firing.fire_due(workspace, now=T0 + timedelta(days=2)) == []
    enabled = schedules.set_enabled(workspace, "nightly", True, T0 + timedelta(days=2))
    assert enabled.next_fire_at == T0  # never fired: the immediate first firing still stands
    firing.trigger_now(workspace, "nightly")
    [fired] = firing.run_pending(workspace, dispatch=None)
    schedules.delete_schedule(workspace, "nightly")
    assert jobs.get_job(workspace, fired.job.id).tags["mlyard.schedule"] == "nightly"
    with pytest.raises(NotFound, match="schedule 'nightly' does not exist"):
        schedules.show_schedule(workspace, "nightly")
    actions = [e.action for e in reversed(audit.list_events(workspace, entity_type="schedule"))]
    assert actions == [
        "schedule.create",
        "schedule.disable",
        "schedule.enable",
        "schedule.trigger",
        "schedule.delete",
    ]


# --- event triggers --------------------------------------------------------------------------------


def test_an_event_trigger_starts_the_pipeline_it_names_with_the_bound_inputs(workspace, tmp_path):
    from mlyard.entities.jobs.job import JobStatus
    from mlyard.runtime.launch import run_job
    from mlyard.services.execution.job_runs import get_spec

    write(
        tmp_path / "pipeline.yml",
        """\
        type: pipeline
        experiment_name: on-registration
        inputs: {model_name: none, model_version: "0"}
        jobs:
          report:
            command: echo evaluating ${{inputs.name}} version ${{inputs.version}}
            inputs: {name: "${{parent.inputs.model_name}}", version: "${{parent.inputs.model_version}}"}
        """,
    )
    path = write(
        tmp_path / "on-churn.yml",
        """\
        name: on-churn
        trigger: {type: event, event_type: ModelRegistered, filter: {modelName: "churn*"}}
        create_job:
          type: pipeline
          job: ./pipeline.yml
          inputs: {model_name: "${{event.data.modelName}}", model_version: "${{event.data.ModelVersion}}"}
        """,
    )
    schedules.create_schedule_file(workspace, path)
    model_dir = write(tmp_path / "model" / "w.txt", "1").parent
    models.register_model_folder(workspace, "fraud", model_dir)  # does not match the filter
    models.register_model_folder(workspace, "churn-eu", model_dir)

    assert schedules.get_schedule(workspace, "on-churn").last_fired_at is None
    dispatch_events(workspace)
    [fired] = firing.run_pending(workspace, dispatch=None)
    assert fired.firing.reason == "event" and fired.job is not None
    assert schedules.get_schedule(workspace, "on-churn").last_fired_at == fired.firing.fired_at
    spec = get_spec(workspace, fired.job.id)
    assert "churn-eu" in str(spec["inputs"]["model_name"])
    assert run_job(workspace, fired.job.id).status == JobStatus.COMPLETED
    [step] = jobs.search_jobs(workspace, parent=fired.job.id)
    from mlyard.runtime.streaming import read_log

    assert b"evaluating churn-eu version 1" in read_log(workspace, step.id)
    assert dispatch_events(workspace) > 0 and firing.run_pending(workspace, dispatch=None) == []


def test_a_chain_of_triggers_deeper_than_the_setting_is_refused(workspace, tmp_path, project):
    settings.update_settings(workspace, trigger_max_depth=1)
    path = write(
        tmp_path / "chain.yml",
        """\
        name: chain
        trigger: {type: event, event_type: RunCompleted, filter: {experimentName: first}}
        create_job: ./job.yml
        """,
    )
    schedules.create_schedule_file(workspace, path)
    from mlyard.entities.jobs.job import JobStatus

    job = jobs.start_job(workspace, experiment="first", tags={"mlyard.trigger_depth": "1"})
    jobs.end_job(workspace, job.id, JobStatus.COMPLETED)
    dispatch_events(workspace)

    [refused] = schedules.show_schedule(workspace, "chain").firings
    assert refused.state == "failed" and "reached trigger_max_depth 1 (a loop?)" in refused.error
    assert firing.run_pending(workspace, dispatch=None) == []


def test_an_unknown_event_type_is_refused_with_a_suggestion_everywhere_it_is_named(workspace):
    with pytest.raises(InvalidArgument, match=r"did you mean 'RunCompleted'"):
        outbox.list_events(workspace, types=["RunComplete"])
