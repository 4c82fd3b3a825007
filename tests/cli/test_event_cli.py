"""`mlyard event …` and `mlyard schedule …` as a user types them: exit codes, one-line errors, JSON."""

from __future__ import annotations

import textwrap

from tests.cli.test_cli import as_json, mlyard


def test_a_subscription_created_with_json_output_includes_its_secret_once(tmp_path):
    ws = tmp_path / "ws"
    args = ["--name", "hook", "--types", "ModelRegistered", "--filter", "ModelName=churn*"]
    args += ["--webhook", "http://127.0.0.1:9/h", "-o", "json"]
    created = as_json(mlyard("event", "subscription", "create", *args, workspace=ws))
    assert created["secret"].startswith("whsec_") and created["filter"] == {"ModelName": "churn*"}
    shown = mlyard("event", "subscription", "show", "hook", "-o", "json", workspace=ws).stdout
    assert created["secret"] not in shown
    refused = mlyard("event", "subscription", "create", "--name", "x", "--webhook", "http://169.254.169.254/",
                     workspace=ws, expect=5)  # fmt: skip
    assert "link-local / cloud-metadata" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1


def test_a_bad_schedule_exits_2_naming_the_file_and_field(tmp_path):
    ws = tmp_path / "ws"
    spec = tmp_path / "s.yml"
    trigger = "{type: cron, expression: '0 3 * * *', time_zone: Mars/Olympus}"
    spec.write_text(f"name: s\ntrigger: {trigger}\ncreate_job: ./j.yml\n")
    done = mlyard("schedule", "create", "--file", str(spec), workspace=ws, expect=2)
    assert "s.yml: trigger.time_zone: unknown time zone 'Mars/Olympus'" in done.stderr
    assert as_json(mlyard("schedule", "list", "-o", "json", workspace=ws)) == []


def test_schedule_trigger_prints_the_job_it_created_and_events_list_shows_the_firing(tmp_path):
    ws = tmp_path / "ws"
    (tmp_path / "job.yml").write_text("command: echo hi\nenvironment: inherit\n")
    (tmp_path / "s.yml").write_text(textwrap.dedent("""\
        name: weekly
        trigger: {type: recurrence, frequency: week, interval: 1,
                  schedule: {week_days: [monday], hours: [6], minutes: [0]}, time_zone: "Tokyo Standard Time"}
        create_job: ./job.yml
        """))  # fmt: skip
    mlyard("schedule", "create", "--file", str(tmp_path / "s.yml"), workspace=ws)
    job_id = mlyard("schedule", "trigger", "--name", "weekly", workspace=ws).stdout.strip()
    shown = as_json(mlyard("schedule", "show", "--name", "weekly", "-o", "json", workspace=ws))
    assert [f["job_id"] for f in shown["firings"]] == [job_id] and len(shown["next_firings"]) == 5
    events = as_json(mlyard("event", "list", "--type", "ScheduleFired", "-o", "json", workspace=ws))
    assert events[0]["data"]["ScheduleName"] == "weekly" and events[0]["specversion"] == "1.0"
