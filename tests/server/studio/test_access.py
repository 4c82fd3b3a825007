"""The studio's security, on SQLite and PostgreSQL through a real server: login with an API key into
a signed, HttpOnly, SameSite session cookie; a reader sees no button it cannot use and the server
refuses the action anyway; every change needs the CSRF token; HTML in names, tags and logs shows as
text; bad query strings are 4xx pages."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from mlyard.entities.governance.access import Actor, Role
from mlyard.services.model_registry import promotions
from mlyard.services.tracking import jobs
from mlyard.services.workspaces import audit, keys
from mlyard.services.workspaces.workspace import open_workspace
from tests.server.studio.demo import _register

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


_OPEN: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients():  # type: ignore[no-untyped-def]
    yield
    while _OPEN:
        _OPEN.pop().close()


def _client(url: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30)  # a loaded CI machine can take seconds
    _OPEN.append(client)
    return client


def _log_in(url: str, token: str) -> httpx.Client:
    client = _client(url)
    login = client.get("/login?ws=default")
    answer = client.post(
        "/login", data={"csrf_token": CSRF.search(login.text)[1], "ws": "default", "key": token}
    )
    assert answer.status_code == 303, answer.text
    return client


@pytest.fixture
def guarded(workspace_path: Path, serve_workspace):  # type: ignore[no-untyped-def]
    """A server requiring keys, with a reader, an operator who asked for a promotion, and another operator."""
    workspace = open_workspace(workspace_path)
    tokens = {
        owner: keys.create_key(workspace, owner, role).token
        for owner, role in (("rita", "reader"), ("olga", "operator"), ("otto", "operator"), ("ada", "admin"))
    }
    run = jobs.start_job(workspace, experiment="diabetes")
    version = _register(workspace, run.id, 0.5)
    with audit.acting_as(Actor(name="olga", role=Role.OPERATOR)):
        request = promotions.request_promotion(workspace, "diabetes-ridge", version, reason="better mse")
    return serve_workspace(workspace_path, auth=True, workers=0), tokens, request.id


def test_a_reader_sees_no_keys_link_and_the_server_refuses_the_keys_page_and_a_new_key(guarded):
    url, tokens, _ = guarded
    rita = _log_in(url, tokens["rita"])
    overview = rita.get("/w/default/")
    assert "/w/default/audit" in overview.text and "/w/default/keys" not in overview.text
    csrf = CSRF.search(overview.text)[1]
    for answer in (
        rita.get("/w/default/keys"),
        rita.post("/w/default/keys", data={"csrf_token": csrf, "owner": "mallory", "role": "admin"}),
        rita.post("/w/default/keys/abc/revoke", data={"csrf_token": csrf, "confirm": "yes"}),
    ):
        assert answer.status_code == 403 and "needs admin" in answer.text
    assert "mallory" not in _log_in(url, tokens["ada"]).get("/w/default/keys").text  # nothing was made


def test_an_admin_creates_a_key_sees_its_secret_once_and_revokes_it_after_a_confirmation(guarded, page):
    url, tokens, _ = guarded
    page.goto(f"{url}/login?ws=default")
    page.fill("#login-key", tokens["ada"])
    page.click("button:has-text('Log in')")
    page.click("nav >> text=Keys")
    page.fill("#k-owner", "ci-bot")
    page.select_option("#k-role", "contributor")
    page.fill("#k-description", "<b>nightly</b>")
    page.click("button:has-text('Create key')")
    token = page.input_value("#new-token")
    assert (
        token.startswith("mly_")
        and httpx.get(f"{url}/api/v1/whoami", headers={"authorization": f"Bearer {token}"}).json()["role"]
        == "contributor"
    )
    assert "<b>nightly</b>" in page.locator("table.keys").inner_text()  # text, not markup
    page.goto(f"{url}/w/default/keys")
    assert page.locator("#new-token").count() == 0  # shown once
    key_id = token.split("_")[1]
    page.locator("tr", has_text=key_id).locator("button:has-text('Revoke')").click()
    assert f"Revoke key {key_id} of ci-bot?" in page.locator("h1").inner_text()
    assert httpx.get(f"{url}/api/v1/whoami", headers={"authorization": f"Bearer {token}"}).status_code == 200
    page.click("button:has-text('Revoke')")
    page.wait_for_url(f"{url}/w/default/keys")
    assert "revoked" in page.locator("tr", has_text=key_id).inner_text()
    assert httpx.get(f"{url}/api/v1/whoami", headers={"authorization": f"Bearer {token}"}).status_code == 401


def test_the_audit_trail_filters_by_since_actor_and_entity_as_the_cli_does(guarded, page):
    url, tokens, _ = guarded
    page.goto(f"{url}/login?ws=default")
    page.fill("#login-key", tokens["rita"])
    page.click("button:has-text('Log in')")
    page.click("nav >> text=Audit")
    everything = page.locator("table.audit tbody tr").count()
    assert everything >= 5  # four keys, a model version, a promotion request
    page.fill("#a-entity", "api_key")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"entity=api_key"))
    assert page.locator("table.audit tbody tr").count() == 4
    page.fill("#a-entity", "")
    page.fill("#a-actor", "olga")
    page.fill("#a-since", "1h")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"since=1h&actor=olga"))
    rows = page.locator("table.audit tbody tr").all_inner_texts()
    assert len(rows) == 1 and "promotion" in rows[0]
    page.fill("#a-since", "2999-01-01")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"since=2999"))
    assert "No change recorded matches these filters." in page.locator("main").inner_text()


def test_without_a_session_the_studio_asks_for_a_key_and_refuses_a_wrong_one(guarded):
    url, _, _ = guarded
    first = httpx.get(f"{url}/w/default/models")
    assert first.status_code == 303 and first.headers["location"].startswith("/login?ws=default&next=")
    client = _client(url)
    token = CSRF.search(client.get("/login").text)[1]
    refused = client.post("/login", data={"csrf_token": token, "ws": "default", "key": "mly_nope"})
    assert refused.status_code == 401 and "not valid for workspace" in refused.text


def test_the_session_cookie_is_signed_httponly_and_samesite_and_a_forged_one_is_ignored(guarded):
    url, tokens, _ = guarded
    client = _log_in(url, tokens["rita"])
    cookie = next(c for c in client.cookies.jar if c.name == "mlyard_studio")
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert client.get("/w/default/models").status_code == 200
    forged = cookie.value[:-4] + ("0000" if not cookie.value.endswith("0000") else "1111")
    other = httpx.get(f"{url}/w/default/models", cookies={"mlyard_studio": forged})
    assert other.status_code == 303  # back to the login page


def test_a_reader_sees_no_approve_button_and_the_server_refuses_the_approval_anyway(guarded):
    url, tokens, request_id = guarded
    client = _log_in(url, tokens["rita"])
    page = client.get("/w/default/models/diabetes-ridge")
    assert "better mse" in page.text and "Approve" not in page.text and "Archive" not in page.text
    csrf = CSRF.search(page.text)[1]
    refused = client.post(f"/w/default/promotions/{request_id}/approve", data={"csrf_token": csrf})
    assert refused.status_code == 403
    assert "rita has role reader" in refused.text and "needs operator" in refused.text


def test_the_requester_cannot_approve_their_own_promotion_but_another_operator_can(guarded):
    url, tokens, request_id = guarded
    olga = _log_in(url, tokens["olga"])
    csrf = CSRF.search(olga.get("/w/default/models/diabetes-ridge").text)[1]
    refused = olga.post(f"/w/default/promotions/{request_id}/approve", data={"csrf_token": csrf})
    assert refused.status_code == 403 and "olga" in refused.text
    otto = _log_in(url, tokens["otto"])
    csrf = CSRF.search(otto.get("/w/default/models/diabetes-ridge").text)[1]
    approved = otto.post(f"/w/default/promotions/{request_id}/approve", data={"csrf_token": csrf})
    assert approved.status_code == 303
    assert "@production → 1" in otto.get("/w/default/models/diabetes-ridge").text


def test_a_change_without_the_csrf_token_is_refused(guarded):
    url, tokens, request_id = guarded
    otto = _log_in(url, tokens["otto"])
    for form in ({}, {"csrf_token": "0" * 64}):
        refused = otto.post(f"/w/default/promotions/{request_id}/approve", data=form)
        assert refused.status_code == 403 and "CSRF token" in refused.text
    assert "pending" in otto.get("/w/default/models/diabetes-ridge").text  # nothing was decided


def test_html_in_names_tags_and_logs_is_shown_as_text(workspace_path: Path, serve_workspace):  # type: ignore[no-untyped-def]
    workspace = open_workspace(workspace_path)
    evil = "<script>alert(1)</script>"
    job = jobs.start_job(workspace, experiment="x", display_name=evil, tags={"note": evil})
    workspace.artifacts.put_bytes(f"line {evil}\n".encode(), f"jobs/{job.id}/logs/std_log.txt")
    url = serve_workspace(workspace_path, auth=False, workers=0)
    for path in ("/w/default/jobs?experiment=x", f"/w/default/jobs/{job.id}", "/w/default/"):
        text = httpx.get(url + path).text
        assert evil not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text, path


def test_html_in_a_sweep_trials_name_and_sampled_values_is_shown_as_text(  # type: ignore[no-untyped-def]
    workspace_path: Path, serve_workspace
):
    from mlyard.entities.jobs.job import Metric

    workspace = open_workspace(workspace_path)
    evil = "<script>alert(1)</script>"
    spec = {"type": "sweep", "objective": {"goal": "maximize", "primary_metric": "acc"},
            "search_space": {"kernel": {"type": "choice", "values": [evil]}}}  # fmt: skip
    sweep = jobs.start_job(workspace, experiment="s", job_type="sweep", spec=spec)
    trial = jobs.start_job(workspace, experiment="s", display_name=evil, parent_job_id=sweep.id)
    jobs.end_job(workspace, trial.id, params={"kernel": evil}, metrics=[Metric("acc", 0.9, 0, 0)])
    jobs.end_job(workspace, sweep.id)
    url = serve_workspace(workspace_path, auth=False, workers=0)
    text = httpx.get(f"{url}/w/default/jobs/{sweep.id}").text
    assert evil not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "\\u003cscript\\u003e" in text  # in the charts' JSON too


def test_html_in_a_data_asset_description_tags_and_cells_is_shown_as_text(
    workspace_path: Path, serve_workspace, tmp_path: Path
):  # type: ignore[no-untyped-def]
    from mlyard.services.data_assets import data

    evil = "<script>alert(1)</script>"
    table = tmp_path / "t.csv"
    table.write_text(f"name,n\n{evil},1\n", encoding="utf-8")
    data.create_data_asset(open_workspace(workspace_path), "x", table, description=evil, tags={"t": evil})
    url = serve_workspace(workspace_path, auth=False, workers=0)
    for path in ("/w/default/data", "/w/default/data/x"):
        text = httpx.get(url + path).text
        assert evil not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text, path


def test_html_in_an_environment_description_tags_and_requirements_is_shown_as_text(  # type: ignore[no-untyped-def]
    workspace_path: Path, serve_workspace, tmp_path: Path
):
    from mlyard.entities.assets.environment_spec import EnvironmentSpec
    from mlyard.services.assets import environments

    evil = "<script>alert(1)</script>"
    spec = EnvironmentSpec(name="evil", description=evil, tags={"t": evil}, pip_requirements=["six"])
    environments.create_environment(open_workspace(workspace_path), spec, tmp_path)
    url = serve_workspace(workspace_path, auth=False, workers=0)
    for path in ("/w/default/environments", "/w/default/environments/evil"):
        text = httpx.get(url + path).text
        assert evil not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text, path


def test_a_reader_sees_no_traffic_or_test_form_and_the_server_refuses_both(guarded):
    url, tokens, _ = guarded
    rita = _log_in(url, tokens["rita"])
    page = rita.get("/w/default/endpoints")
    assert page.status_code == 200 and "No online endpoint" in page.text
    csrf = CSRF.search(page.text)[1]
    for action, form in (("traffic", {"traffic.blue": "100", "confirm": "yes"}), ("invoke", {"body": "{}"})):
        refused = rita.post(f"/w/default/endpoints/online/any/{action}", data={"csrf_token": csrf, **form})
        assert refused.status_code == 403, action
        assert "rita has role reader" in refused.text and "needs operator" in refused.text
    assert "Change traffic" not in page.text and "Send" not in page.text


def test_html_in_an_endpoint_description_and_tags_is_shown_as_text(workspace_path: Path, serve_workspace):  # type: ignore[no-untyped-def]
    from mlyard.entities.endpoints.endpoint_spec import endpoint_spec_from_dict
    from mlyard.services.online import endpoints

    evil = "<script>alert(1)</script>"
    spec = {"name": "evil", "auth_mode": "key", "description": evil, "tags": {"t": evil}}
    endpoints.create_endpoint(open_workspace(workspace_path), endpoint_spec_from_dict(spec, "test"))
    url = serve_workspace(workspace_path, auth=False, workers=0)
    for path in ("/w/default/endpoints", "/w/default/endpoints/online/evil"):
        text = httpx.get(url + path).text
        assert evil not in text, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in httpx.get(url + "/w/default/endpoints/online/evil").text


BAD_PATHS = [
    "/w/default/jobs?page=abc",
    "/w/default/jobs?page=0",
    "/w/default/jobs?size=100000",
    "/w/default/jobs?experiment=x&filter=metrics.mse+%3C%3C+1",
    "/w/default/jobs?experiment=x&order=nonsense.key+UP",
    "/w/default/jobs?experiment=x&group=metrics.mse",
    "/w/default/jobs?experiment=x&hide=tags.team",
    "/w/default/jobs?experiment=x&hide=params.",
    "/w/default/jobs?experiment=x&search=" + "x" * 501,
    "/w/default/jobs/nope",
    "/w/default/jobs/nope/series?key=loss",
    "/w/default/compare?job=only-one",
    "/w/default/models/nope",
    "/w/default/models/nope/compare?version=1&version=2",
    "/w/default/models/diabetes-ridge/compare?version=1",
    "/w/default/models/diabetes-ridge/compare?version=1&version=99",
    "/w/default/data/nope",
    "/w/default/data/nope/versions/1",
    "/w/default/data/x/versions/%20bad",
    "/w/default/endpoints/online/nope",
    "/w/default/endpoints/online/nope/metrics",
    "/w/default/endpoints/online/x/metrics?window=0",
    "/w/default/endpoints/batch/nope",
    "/w/default/environments/nope",
    "/w/default/components/nope",
    "/w/default/environments/x?version=" + "1" * 101,
    "/w/default/dashboards/training?goal=sideways",
    "/w/default/dashboards/training?tag=",
    "/w/default/audit?since=yesterday",
    "/w/default/audit?since=99999999999d",
    "/w/default/audit?since=" + "1" * 101,
    "/w/default/no-such-page",
    "/w/default/schedules/nope",
    "/w/default/events?type=NoSuchEvent",
    "/w/default/events?subject=" + "x" * 501,
    "/w/default/events/subscriptions/nope",
    "/w/default/monitors/nope",
    "/w/default/monitors/%3Cscript%3E",
    "/w/default/monitors/nope/run",
    "/w/other/",
    "/switch?ws=other",
]


def test_a_bad_query_string_or_path_is_a_4xx_page_never_a_500(workspace_path: Path, serve_workspace):  # type: ignore[no-untyped-def]
    jobs.start_job(open_workspace(workspace_path), experiment="x")
    url = serve_workspace(workspace_path, auth=False, workers=0)
    for path in BAD_PATHS:
        answer = httpx.get(url + path)
        assert 400 <= answer.status_code < 500, (path, answer.status_code)
        assert answer.headers["content-type"].startswith("text/html")
        assert '<p class="error" role="alert">' in answer.text, path


def test_a_reader_sees_no_schedule_redeliver_or_delete_buttons_and_the_server_refuses_them(
    guarded, workspace_path: Path
):
    url, tokens, _ = guarded
    workspace = open_workspace(workspace_path)
    job_id = jobs.search_jobs(workspace, experiments="diabetes")[0].id
    jobs.end_job(workspace, job_id)
    rita = _log_in(url, tokens["rita"])
    for path in ("/w/default/schedules", "/w/default/events", f"/w/default/jobs/{job_id}"):
        page = rita.get(path)
        assert page.status_code == 200 and '<button type="submit">Disable' not in page.text
        assert "Redeliver" not in page.text and "Delete for good" not in page.text
    csrf = CSRF.search(rita.get("/w/default/schedules").text)[1]
    for path, role in (("/w/default/schedules/nightly/disable", "operator"),
                       ("/w/default/events/subscriptions/hook/redeliver", "operator"),
                       (f"/w/default/jobs/{job_id}/delete", "admin")):  # fmt: skip
        refused = rita.post(path, data={"csrf_token": csrf, "confirm": "yes", "dead": "yes"})
        assert refused.status_code == 403 and f"needs {role}" in refused.text, path
    olga = _log_in(url, tokens["olga"])  # an operator: no delete either, on the page or the API
    assert "Delete for good" not in olga.get(f"/w/default/jobs/{job_id}").text
    api = httpx.delete(f"{url}/api/v1/workspaces/default/jobs/{job_id}", params={"permanent": "true"},
                       headers={"authorization": f"Bearer {tokens['olga']}"})  # fmt: skip
    assert api.status_code == 403
    ada = _log_in(url, tokens["ada"])
    assert "Delete for good" in ada.get(f"/w/default/jobs/{job_id}").text


def test_html_in_schedules_events_and_subscriptions_is_shown_as_text(workspace_path: Path, serve_workspace):  # type: ignore[no-untyped-def]
    from mlyard.services.events import subscriptions
    from mlyard.services.schedules import schedules

    workspace = open_workspace(workspace_path)
    evil = "<script>alert(1)</script>"
    job = {"command": "echo hi", "environment": "inherit"}
    schedules.create_schedule(workspace, {"name": "evil", "display_name": evil, "description": evil,
                                          "trigger": {"type": "cron", "expression": "0 3 * * *"},
                                          "create_job": job}, workspace_path)  # fmt: skip
    subscriptions.create_subscription(workspace, "hook", ["RunCompleted"], webhook_url="http://127.0.0.1:9/x",
                                      description=evil)  # fmt: skip
    run = jobs.start_job(workspace, experiment="x", display_name=evil, tags={"note": evil})
    jobs.end_job(workspace, run.id)  # its RunCompleted event carries the tag in its data
    url = serve_workspace(workspace_path, auth=False, workers=0)
    for path in ("/w/default/schedules", "/w/default/schedules/evil", "/w/default/events",
                 "/w/default/events/subscriptions/hook", "/w/default/"):  # fmt: skip
        text = httpx.get(url + path).text
        assert evil not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text, path


def _two_tables(folder: Path, feature: str) -> None:
    """A reference and a production table, `feature` shifted in production, as data assets."""
    import numpy as np
    import pandas as pd

    from mlyard.services.data_assets import data

    rng = np.random.default_rng(3)
    reference = pd.DataFrame({feature: rng.normal(0, 1, 300), "bmi": rng.normal(25, 4, 300)})
    production = reference.assign(**{feature: reference[feature] + 3})
    workspace = open_workspace(folder / "ws")
    for name, table in (("reference", reference), ("production", production)):
        table.to_parquet(folder / f"{name}.parquet", index=False)
        data.create_data_asset(workspace, name, folder / f"{name}.parquet")


def _monitor(folder: Path, name: str, **extra: object) -> None:
    from mlyard.entities.automation.schedule_spec import MonitorFile
    from mlyard.monitoring.monitor_checks import check_signals
    from mlyard.services.monitors import monitors

    drift = {"type": "data_drift", "production_data": {"input_data": {"path": "azureml:production:1"}},
             "reference_data": {"input_data": {"path": "azureml:reference:1"}}}  # fmt: skip
    signals = {"monitoring_signals": {"drift": drift}}
    spec = MonitorFile.model_validate({"name": name, "create_monitor": signals, **extra})
    monitors.create_monitor(open_workspace(folder / "ws"), spec, folder, "test", check_signals)


def test_a_reader_sees_no_run_now_button_and_the_server_refuses_it_an_operator_queues_a_run(
    guarded, workspace_path: Path
):
    from mlyard.services.monitors import monitors

    url, tokens, _ = guarded
    _two_tables(workspace_path.parent, "age")
    _monitor(workspace_path.parent, "watch")
    rita = _log_in(url, tokens["rita"])
    page = rita.get("/w/default/monitors/watch")
    assert page.status_code == 200 and "Run now" not in page.text
    refused = rita.post("/w/default/monitors/watch/run", data={"csrf_token": CSRF.search(page.text)[1]})
    assert refused.status_code == 403 and "needs operator" in refused.text
    workspace = open_workspace(workspace_path)
    assert monitors.show_monitor(workspace, "watch").runs == []  # nothing was queued
    olga = _log_in(url, tokens["olga"])
    page = olga.get("/w/default/monitors/watch")
    assert "Run now" in page.text
    without = olga.post("/w/default/monitors/watch/run", data={})
    assert without.status_code == 403 and "CSRF" in without.text
    answer = olga.post("/w/default/monitors/watch/run", data={"csrf_token": CSRF.search(page.text)[1]})
    assert answer.status_code == 303
    job_id = answer.headers["location"].rsplit("/", 1)[1]
    job = jobs.get_job(workspace, job_id)
    assert job.type == "monitor" and job.tags["mlyard.monitor"] == "watch"
    assert [run.job_id for run in monitors.show_monitor(workspace, "watch").runs] == [job_id]


def test_html_in_monitor_names_tags_and_feature_names_is_shown_as_text(workspace_path: Path, serve_workspace):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from mlyard.entities.automation.monitor import MONITOR_JOB_TYPE, MONITOR_TAG
    from mlyard.services.monitors import monitors

    evil = "<script>alert(1)</script>"
    _two_tables(workspace_path.parent, evil)
    _monitor(workspace_path.parent, "evil", display_name=evil, description=evil, tags={"note": evil})
    workspace = open_workspace(workspace_path)
    # What a monitor run stores (its verdicts and histograms), written by the service it calls.
    job = jobs.start_job(workspace, experiment="evil", job_type=MONITOR_JOB_TYPE, tags={MONITOR_TAG: "evil"})
    histogram = {"bins": [evil, "b"], "counts": [3, 1]}
    measured = {"signal": "drift", "signal_type": "data_drift", "feature": evil,
                "metric": "jensen_shannon_distance", "value": 0.5, "threshold": 0.1, "breached": True,
                "error": None, "reference_histogram": histogram, "production_histogram": histogram,
                "window_start": None, "window_end": datetime.now(UTC), "reference": evil}  # fmt: skip
    failed = {**measured, "feature": "bmi", "metric": "", "value": None, "threshold": None, "breached": False,
              "error": evil, "reference_histogram": None, "production_histogram": None}  # fmt: skip
    monitors.record_results(workspace, "evil", job.id, [measured, failed])
    jobs.end_job(workspace, job.id)
    url = serve_workspace(workspace_path, auth=False, workers=0)
    for path in ("/w/default/monitors", "/w/default/monitors/evil", "/w/default/dashboards/monitoring"):
        text = httpx.get(url + path).text
        assert evil not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text, path
    chart = httpx.get(url + "/w/default/monitors/evil").text
    assert "\\u003cscript\\u003e" in chart  # the chart's JSON block cannot end its <script>
