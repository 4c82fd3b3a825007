"""The studio in a real browser, over a seeded workspace: every page loads, the main flows work by
clicking, nothing logs a console error, and axe-core finds no critical accessibility violation."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from tests.server.studio.conftest import critical_violations
from tests.server.studio.demo import drive_endpoint


def test_every_page_loads_with_data_and_no_critical_accessibility_violation(seeded, page):
    server, demo, _ = seeded
    ws = f"{server.url}/w/default"
    pages = {
        "overview": f"{ws}/",
        "jobs": f"{ws}/jobs",
        "job": f"{ws}/jobs/{demo.runs[0]}",
        "pipeline": f"{ws}/jobs/{demo.pipeline}",
        "sweep": f"{ws}/jobs/{demo.sweep}",
        "compare": f"{ws}/compare?job={demo.runs[0]}&job={demo.runs[1]}",
        "models": f"{ws}/models",
        "model": f"{ws}/models/diabetes-ridge",
        "model versions compared": f"{ws}/models/diabetes-ridge/compare?version=1&version=2",
        "artifact": f"{ws}/jobs/{demo.runs[0]}/artifact?path=predictions.csv",
        "data assets": f"{ws}/data",
        "data asset": f"{ws}/data/{demo.data}",
        "data version": f"{ws}/data/{demo.data}/versions/1",
        "not a table": f"{ws}/data/raw-notes",
        "endpoints": f"{ws}/endpoints",
        "online endpoint": f"{ws}/endpoints/online/{demo.endpoint}",
        "batch endpoint": f"{ws}/endpoints/batch/{demo.batch_endpoint}",
        "environments": f"{ws}/environments",
        "environment": f"{ws}/environments/sklearn-env",
        "environment version": f"{ws}/environments/sklearn-env?version=1",
        "components": f"{ws}/components",
        "component": f"{ws}/components/train_ridge",
        "computes": f"{ws}/computes",
        "training dashboard": f"{ws}/dashboards/training",
        "scoring dashboard": f"{ws}/dashboards/scoring",
        "monitoring dashboard": f"{ws}/dashboards/monitoring",
        "monitors": f"{ws}/monitors",
        "monitor": f"{ws}/monitors/{demo.monitor}",
        "schedules": f"{ws}/schedules",
        "schedule": f"{ws}/schedules/{demo.schedule}",
        "event schedule": f"{ws}/schedules/on-register",
        "events": f"{ws}/events",
        "events of a type": f"{ws}/events?type=ModelRegistered",
        "subscription": f"{ws}/events/subscriptions/{demo.subscription}",
        "audit": f"{ws}/audit",
        "audit filtered": f"{ws}/audit?entity=model:diabetes-ridge",
        "keys": f"{ws}/keys",
    }
    for name, url in pages.items():
        response = page.goto(url)
        assert response.status == 200, name
        assert page.locator("main h1").count() == 1, name
        assert critical_violations(page) == [], name


def test_filter_and_sort_runs_by_clicking_keeps_the_view_in_the_url(seeded, page):
    from mlyard.services.tracking import jobs
    from mlyard.services.workspaces.workspace import open_workspace

    server, _, path = seeded
    found = jobs.search_jobs(open_workspace(path), "metrics.mse < 3200", experiments="diabetes")
    below = {job.display_name for job in found}
    assert 0 < len(below) < 6
    page.goto(f"{server.url}/w/default/jobs?experiment=diabetes")
    assert page.locator("table.runs tbody tr").count() == 7  # six runs and the running one
    page.fill("#f-filter", "metrics.mse < 3200")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"filter=metrics.mse"))
    shown = page.locator("table.runs tbody tr td:nth-child(2)").all_inner_texts()
    assert set(shown) == below
    page.fill("#f-filter", "")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(lambda url: "metrics.mse" not in url)
    page.click("th >> text=mse")
    page.wait_for_url(re.compile(r"order=metrics.mse\+DESC"))
    values = _column(page, "mse")
    assert values == sorted(values, reverse=True) and len(values) == 6
    page.click("th >> text=mse")
    page.wait_for_url(re.compile(r"order=metrics.mse\+ASC"))
    values = _column(page, "mse")
    assert values == sorted(values)
    page.reload()  # a deep link reopens the same view
    assert page.locator("th[aria-sort=ascending]").inner_text() == "mse"


def _column(page, header: str) -> list[float]:
    """The numbers in one column of the runs table, top to bottom (blank cells left out)."""
    headers = page.locator("table.runs thead th").all_inner_texts()
    index = [text.strip(" ▲▼") for text in headers].index(header) + 1
    cells = page.locator(f"table.runs tbody tr td:nth-child({index})").all_inner_texts()
    return [float(cell) for cell in cells if cell]


def test_hide_columns_with_the_chooser_and_search_runs_by_text_both_kept_in_the_url(seeded, page):
    server, _, _ = seeded
    page.goto(f"{server.url}/w/default/jobs?experiment=diabetes")
    headers = page.locator("table.runs thead th").all_inner_texts()
    assert "solver" in headers and "r2" in headers
    page.click("details.columns summary")
    page.uncheck("input[data-column='params.solver']")
    page.uncheck("input[data-column='metrics.r2']")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"hide=params.solver&hide=metrics.r2"))
    headers = page.locator("table.runs thead th").all_inner_texts()
    assert "solver" not in headers and "r2" not in headers and "alpha" in headers and "mse" in headers
    assert "(2 hidden)" in page.locator("details.columns summary").inner_text()
    page.fill("#f-search", "RIDGE-3")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"search=RIDGE-3"))
    assert page.locator("table.runs tbody tr td:nth-child(2)").all_inner_texts() == ["ridge-3"]
    page.click("th >> text=mse")  # sorting keeps the search and the hidden columns
    page.wait_for_url(re.compile(r"order=metrics.mse"))
    assert "search=RIDGE-3" in page.url and "hide=params.solver" in page.url
    page.reload()  # a deep link reopens the same view
    assert page.locator("table.runs tbody tr td:nth-child(2)").all_inner_texts() == ["ridge-3"]
    assert "solver" not in page.locator("table.runs thead th").all_inner_texts()
    page.click("details.columns summary")
    page.check("input[data-column='params.solver']")  # shown again
    page.click("form.filters button[type=submit]")
    page.wait_for_url(lambda url: "params.solver" not in url)
    assert "solver" in page.locator("table.runs thead th").all_inner_texts()
    page.fill("#f-search", "no such run")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"search=no"))
    assert page.locator("table.runs tbody").inner_text().strip() == "No run matches."


def test_grouping_by_a_param_shows_each_group_with_mean_and_range(seeded, page):
    server, _, _ = seeded
    page.goto(f"{server.url}/w/default/jobs?experiment=diabetes&group=tags.team")
    assert page.locator("tr.group").count() == 2  # clinic, and the untagged running job
    clinic = page.locator("tr.group", has_text="tags.team = clinic (6 runs)").inner_text()
    assert re.search(r"\d+ \[\d+ – \d+\]", clinic)  # a metric's mean [min – max]


def test_a_sweep_shows_its_trials_the_best_one_and_its_objective_and_parallel_coordinates_charts(
    seeded, page
):
    server, demo, _ = seeded
    page.goto(f"{server.url}/w/default/jobs/{demo.sweep}")
    assert "minimize mse" in page.locator("#t-h").inner_text()
    headers = page.locator("table.trials thead th").all_inner_texts()
    assert headers == ["#", "Trial", "Status", "Duration", "alpha", "solver", "data", "mse"]
    assert page.locator("table.trials tbody tr").count() == 5
    assert "trial 4" in page.locator("table.trials tr.best").inner_text()  # the lowest mse
    objective = page.locator("#sweep-objective.drawn")
    objective.locator("canvas").wait_for()
    assert objective.get_attribute("data-trials") == "5"
    assert objective.locator(".u-legend").inner_text().count("best so far") == 1
    parallel = page.locator("#sweep-parallel.drawn svg")
    assert parallel.locator("line.axis").count() == 3  # alpha, solver and mse
    assert parallel.locator("text.axis-title").all_text_contents() == ["alpha", "solver", "mse"]
    assert parallel.locator("polyline.trial").count() == 5
    # a line opens its trial: click where trial 2's line crosses the alpha axis
    box = parallel.bounding_box()
    first = parallel.locator("polyline.trial").nth(2).evaluate("l => ({x: l.points[0].x, y: l.points[0].y})")
    page.mouse.click(box["x"] + first["x"], box["y"] + first["y"])
    page.wait_for_url(re.compile(r"/jobs/"))
    assert page.locator("h1").inner_text().startswith("trial 2")


def test_a_sweep_logged_without_a_spec_lists_its_trials_and_says_it_has_no_objective(seeded, page):
    from mlyard.services.tracking import jobs
    from mlyard.services.workspaces.workspace import open_workspace

    server, _, path = seeded
    workspace = open_workspace(path)
    sweep = jobs.start_job(workspace, experiment="logged-sweep", job_type="sweep")
    for alpha in ("0.1", "0.2"):
        trial = jobs.start_job(workspace, experiment="logged-sweep", parent_job_id=sweep.id)
        jobs.end_job(workspace, trial.id, params={"alpha": alpha})
    jobs.end_job(workspace, sweep.id)
    page.goto(f"{server.url}/w/default/jobs/{sweep.id}")
    assert page.locator("table.trials tbody tr").count() == 2
    assert "no objective to rank or chart its trials by" in page.locator("main").inner_text()
    assert page.locator("#sweep-parallel").count() == 0


def test_open_a_run_and_its_chart_then_switch_to_log_scale_and_smoothing(seeded, page):
    server, demo, _ = seeded
    page.goto(f"{server.url}/w/default/jobs?experiment=diabetes&order=attributes.created_at+ASC")
    page.click("text=ridge-1")
    page.wait_for_url(re.compile(demo.runs[0]))
    chart = page.locator("figure.chart[data-key=loss]")
    chart.locator("canvas").wait_for()
    assert chart.get_attribute("data-points") == "300"
    page.check("#c-log")
    page.wait_for_function("document.querySelector('figure[data-key=loss]').dataset.scale === 'log'")
    page.fill("#c-smooth", "0.9")
    page.select_option("#c-x", "relative")
    chart.locator("canvas").wait_for()
    page.click("text=predictions.csv")
    assert page.locator("table thead th").all_inner_texts() == ["row", "actual", "predicted"]


def test_a_long_series_is_downsampled_on_the_server_to_2000_points(seeded):
    import httpx

    from mlyard.entities.jobs.job import Metric
    from mlyard.services.tracking import jobs
    from mlyard.services.workspaces.workspace import open_workspace

    server, _, path = seeded
    workspace = open_workspace(path)
    job = jobs.start_job(workspace, experiment="long")
    jobs.record_run_data(
        workspace, job.id, {}, [Metric("loss", (i % 97) / 97, i, i) for i in range(100_000)], {}
    )
    answer = httpx.get(f"{server.url}/w/default/jobs/{job.id}/series", params={"key": "loss"}).json()
    assert len(answer["x"]) == len(answer["y"]) == 2000
    assert answer["x"][0] == 0 and answer["x"][-1] == 99_999
    assert max(answer["y"]) == pytest.approx(96 / 97)  # the peaks survive


def test_compare_two_runs_by_ticking_them_and_show_differences_only(seeded, page):
    server, demo, _ = seeded
    page.goto(f"{server.url}/w/default/jobs?experiment=diabetes")
    page.check(f"input[value='{demo.runs[0]}']")
    page.check(f"input[value='{demo.runs[1]}']")
    page.click("text=Compare selected")
    page.wait_for_url(re.compile(r"/compare\?job="))
    assert page.locator("table.compare thead th").count() == 3
    assert page.locator("th[scope=row] >> text=params.solver").count() == 1
    page.check("#diff")
    page.click("text=Show")
    page.wait_for_url(re.compile(r"diff=true"))
    assert page.locator("th[scope=row] >> text=params.solver").count() == 0  # the same in both
    page.locator("figure.chart[data-key=loss] canvas").wait_for()
    assert page.locator("figure.chart[data-key=loss] .u-legend .u-series").count() == 3  # x and two runs


def test_the_pipeline_graph_shows_steps_in_order_with_the_reused_mark(seeded, page):
    server, demo, _ = seeded
    page.goto(f"{server.url}/w/default/jobs/{demo.pipeline}")
    graph = page.locator("#pipeline-graph svg")
    graph.wait_for()
    assert graph.locator("rect.status-completed").count() == 3
    assert graph.locator("polyline.edge").count() == 2
    assert "reused from" in graph.text_content()
    page.click("#pipeline-graph svg a >> text=train")
    page.wait_for_url(re.compile(r"/jobs/"))
    assert "train" in page.locator("h1").inner_text()


def test_the_log_of_a_running_job_grows_live_and_stops_when_it_ends(seeded, page):
    from mlyard.services.execution import job_runs
    from mlyard.services.tracking import jobs
    from mlyard.services.workspaces.workspace import open_workspace

    server, demo, path = seeded
    workspace = open_workspace(path)
    page.goto(f"{server.url}/w/default/jobs/{demo.running}")
    assert "epoch 2" in page.locator("#job-log").inner_text()
    log = job_runs.log_path(demo.running)
    workspace.artifacts.put_bytes(workspace.artifacts.get_bytes(log) + b"epoch 3: <b>loss</b> 2990\n", log)
    page.wait_for_function("document.getElementById('job-log').textContent.includes('epoch 3')")
    assert "<b>loss</b>" in page.locator("#job-log").inner_text()  # text, not markup
    jobs.end_job(workspace, demo.running)
    page.wait_for_function("document.getElementById('job-log').dataset.ended === 'true'")
    assert page.locator("#job-status").inner_text() == "Completed"


def test_approve_a_pending_promotion_by_clicking_moves_the_production_alias(seeded, page):
    server, demo, _ = seeded
    page.goto(f"{server.url}/w/default/models/diabetes-ridge")
    row = page.locator("tr", has_text="retrained")
    row.locator("button", has_text="Approve").click()
    page.wait_for_url(re.compile(r"/models/diabetes-ridge$"))
    assert "approved" in page.locator("tr", has_text="retrained").inner_text()
    assert "@production → 3" in page.locator("main").inner_text()


def test_a_model_shows_its_lineage_from_data_through_runs_and_versions_to_deployments(seeded, page):
    server, demo, _ = seeded
    page.goto(f"{server.url}/w/default/models/diabetes-ridge")
    graph = page.locator("#lineage-graph svg")
    graph.wait_for()
    assert graph.locator("rect.kind-data").count() == 1  # diabetes:2, read by every run
    assert graph.locator("rect.kind-job").count() == 3  # the run behind each version
    assert graph.locator("rect.kind-model").count() == 3
    assert graph.locator("rect.kind-deployment").count() == 2  # blue (version 1) and green (version 2)
    assert graph.locator("polyline.edge").count() == 3 + 3 + 2
    assert "diabetes/blue" in graph.text_content() and "% traffic" in graph.text_content()
    graph.locator("a[data-kind=data]").click()
    page.wait_for_url(re.compile(rf"/data/{demo.data}/versions/2$"))


def test_compare_two_model_versions_by_ticking_them_and_show_differences_only(seeded, page):
    server, demo, _ = seeded
    page.goto(f"{server.url}/w/default/models/diabetes-ridge")
    page.check("input[aria-label='compare version 1']")
    page.check("input[aria-label='compare version 2']")
    page.click("text=Compare selected versions")
    page.wait_for_url(re.compile(r"/models/diabetes-ridge/compare\?version=\d&version=\d"))
    versions = sorted(
        text.split()[0] for text in page.locator("table.compare thead th").all_inner_texts()[1:]
    )
    assert versions == ["diabetes-ridge:1", "diabetes-ridge:2"]  # each with its aliases beside it
    assert page.locator("th[scope=row] >> text=params.solver").count() == 1
    assert page.locator(f"td a[href$='/jobs/{demo.runs[0]}']").count() == 1  # the producing runs, linked
    page.check("#diff")
    page.click("text=Show")
    page.wait_for_url(re.compile(r"diff=true"))
    rows = page.locator("tbody th[scope=row]").all_inner_texts()
    assert "params.solver" not in rows and "data" not in rows  # the same for both
    assert "params.alpha" in rows and "metrics.mse" in rows and "run" in rows


def test_a_data_asset_shows_its_profile_per_column_its_lineage_and_its_first_rows(seeded, page):
    server, demo, _ = seeded
    page.goto(f"{server.url}/w/default/data")
    page.click(f"text={demo.data}")
    page.wait_for_url(re.compile(rf"/data/{demo.data}$"))
    assert "version 2" in page.locator("h1").inner_text()  # the latest
    bmi = page.locator("figure.profile[data-column=bmi]")
    assert bmi.locator(".bars .bar").count() == 20  # a histogram of the numbers
    assert "mean" in bmi.inner_text() and "nulls" in bmi.inner_text()
    sex = page.locator("figure.profile[data-column=sex]")
    assert sex.locator("ol.top-values li").count() == 2  # two distinct values: listed
    lineage = page.locator("section", has=page.locator("#l-h"))
    assert lineage.locator("text=ridge-1").count() == 1  # a job that read version 2
    assert lineage.locator("text=diabetes-ridge:1").count() == 1  # the model it produced
    headers = page.locator("table.preview thead th").all_inner_texts()
    assert headers[:3] == ["age", "sex", "bmi"] and page.locator("table.preview tbody tr").count() == 20
    page.click("a[href$='/versions/1']")  # the older version, from the versions table
    page.wait_for_url(re.compile(r"/versions/1$"))
    assert "No job has read this version yet." in page.locator("main").inner_text()
    page.goto(f"{server.url}/w/default/data/raw-notes")
    assert "Not a table" in page.locator("main").inner_text()


def test_shift_traffic_by_clicking_after_a_confirmation_and_see_live_numbers(seeded, page):
    server, demo, path = seeded
    # The live numbers cover the last 60 s: on a loaded machine the seeding's requests are older by now.
    drive_endpoint(server.url, path, demo, requests=5)
    page.goto(f"{server.url}/w/default/endpoints")
    page.click(f"a >> text={demo.endpoint}")
    page.wait_for_url(re.compile(rf"/endpoints/online/{demo.endpoint}$"))
    served = page.locator("#endpoint-metrics tr[data-deployment=blue] td.requests")
    served.wait_for()  # polled from the gateway
    assert int(served.inner_text()) > 0
    assert "P99 ms" in page.locator("#endpoint-metrics").inner_text()
    page.fill("#t-blue", "40")
    page.fill("#t-green", "60")
    page.click("button:has-text('Change traffic')")
    assert "Change traffic of diabetes?" in page.locator("h1").inner_text()
    after = page.locator("table.traffic-change tr", has_text="green").inner_text()
    assert "10 %" in after and "60 %" in after  # now and after
    page.click("button:has-text('Confirm')")
    page.wait_for_url(re.compile(rf"/endpoints/online/{demo.endpoint}$"))
    assert page.input_value("#t-blue") == "40" and page.input_value("#t-green") == "60"
    # 50 + 60: refused before any confirmation, in the service's words (sent outside the page: a 4xx
    # page is a console error to the browser)
    form = {
        "csrf_token": page.evaluate("document.body.dataset.csrf"),
        "traffic.blue": "50",
        "traffic.green": "60",
    }
    refused = page.request.post(f"{server.url}/w/default/endpoints/online/{demo.endpoint}/traffic", form=form)
    assert refused.status == 400 and "must sum to 100" in refused.text()
    form["traffic.blue"] = "half"
    refused = page.request.post(f"{server.url}/w/default/endpoints/online/{demo.endpoint}/traffic", form=form)
    assert refused.status == 400
    assert "traffic for blue must be a whole percentage, got &#39;half&#39;" in refused.text()
    page.fill("#t-blue", "90")
    page.fill("#t-green", "10")
    page.click("button:has-text('Change traffic')")
    page.click("button:has-text('Confirm')")
    page.wait_for_url(re.compile(rf"/endpoints/online/{demo.endpoint}$"))


def test_invoke_a_deployment_from_its_sample_body_and_read_the_answer(seeded, page):
    server, demo, _ = seeded
    page.goto(f"{server.url}/w/default/endpoints/online/{demo.endpoint}")
    sample = page.input_value("#i-body")
    assert len(json.loads(sample)["input_data"][0]) == 10  # the signature's ten features
    page.select_option("#i-deployment", "green")
    page.click("button:has-text('Send')")
    assert page.locator("#invoke-status").inner_text() == "200"
    assert re.fullmatch(r"\[[-0-9.e]+\]", page.locator("#invoke-answer").inner_text().strip())
    page.fill("#i-body", "{not json")
    page.click("button:has-text('Send')")
    assert page.locator("#invoke-status").inner_text() == "400"  # the gateway's own answer, shown
    assert page.locator("section", has=page.locator("#l-h")).locator("h3").all_inner_texts() == [
        "blue",
        "green",
    ]


def test_a_batch_endpoint_shows_its_deployment_its_jobs_and_where_predictions_go(seeded, page):
    server, demo, _ = seeded
    page.goto(f"{server.url}/w/default/endpoints/batch/{demo.batch_endpoint}")
    assert "predictions.csv" in page.locator("main").inner_text()
    assert page.locator(f"table.batch-jobs a[href$='/jobs/{demo.batch_job}']").count() == 1


def test_an_environment_shows_its_versions_spec_and_build_log_and_a_component_its_spec(seeded, page):
    server, _, _ = seeded
    page.goto(f"{server.url}/w/default/")
    page.click("nav >> text=Environments")
    page.click("text=sklearn-env")
    assert "version 2" in page.locator("h1").inner_text()  # the latest
    assert "pandas" in page.locator("pre.spec").inner_text()
    assert "done in 12.3 s" in page.locator("#build-log").inner_text()
    page.click("table.versions a >> text=1")
    page.wait_for_url(re.compile(r"version=1$"))
    assert "pandas" not in page.locator("pre.spec").inner_text()
    assert "Not built here yet" in page.locator("main").inner_text()
    page.click("nav >> text=Components")
    page.click("text=train_ridge")
    spec = page.locator("pre.spec").inner_text()
    assert "command: python train.py" in spec and "sklearn-env:2" in spec
    page.click("nav >> text=Computes")
    assert "ray://10.0.0.5:10001" in page.locator("table.computes").inner_text()


def test_the_training_dashboard_shows_pipeline_runs_and_56_models_as_a_grid_by_partition(seeded, page):
    server, demo, _ = seeded
    page.goto(f"{server.url}/w/default/")
    page.click("nav >> text=Dashboards")
    pipelines = page.locator("table.pipelines tbody tr")
    assert pipelines.count() == 2 and "reused" in pipelines.first.locator("td.steps").inner_html()
    grid = page.locator("ul.model-grid li")
    assert grid.count() == 56
    assert grid.first.get_attribute("data-partition") == "store-01"  # in partition order
    assert page.input_value("#d-metric") == "mape"  # the metric the models' runs share
    shades = [grid.nth(i).get_attribute("class") for i in range(56)]
    assert shades.count("cell shade-none") == 1  # store-13: registered without a run
    assert all(shades.count(f"cell shade-{n}") == 11 for n in range(5))  # 55 ranked in fifths
    best = page.locator("li.shade-0 .value").all_inner_texts()
    worst = page.locator("li.shade-4 .value").all_inner_texts()
    assert max(map(float, best)) < min(map(float, worst))
    box = page.locator("ul.model-grid").bounding_box()
    assert box["height"] < 1000 - box["y"]  # all 56 on one screen, no scrolling
    page.select_option("#d-goal", "maximize")
    page.click("button:has-text('Show')")
    page.wait_for_url(re.compile(r"goal=maximize"))
    flipped = page.locator("li.shade-0 .value").all_inner_texts()
    assert min(map(float, flipped)) > max(map(float, best))
    page.locator("ul.model-grid li[data-partition=store-07] a").click()
    page.wait_for_url(re.compile(r"/models/forecast-store-07$"))


def test_schedules_show_next_firings_by_the_timing_rule_history_with_missed_firings_and_toggle(seeded, page):
    from datetime import UTC, datetime

    from mlyard.services.schedules import schedules
    from mlyard.services.workspaces.workspace import open_workspace

    server, demo, path = seeded
    expected = schedules.show_schedule(open_workspace(path), demo.schedule).next_firings
    page.goto(f"{server.url}/w/default/")
    due = page.locator("ul.due li").first
    assert "Retrain every night" in due.inner_text()
    assert expected[0].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") in due.inner_text()
    page.click("nav >> text=Schedules")
    row = page.locator(f"tr[data-schedule={demo.schedule}]")
    assert "Pacific Standard Time" in row.inner_text() and "0 3 * * *" in row.inner_text()
    shown = row.locator("td.next time").all_inner_texts()
    assert shown == [moment.strftime("%Y-%m-%d %H:%M:%S UTC") for moment in expected] and len(shown) == 5
    assert all(moment.astimezone(UTC).hour == 11 for moment in expected)  # 03:00 in Los Angeles, winter
    assert datetime.now(UTC) < expected[0]
    assert "disabled" in page.locator("tr[data-schedule=hourly-score] td.next").inner_text()
    row.locator("a").first.click()
    history = page.locator("table.firings tbody tr")
    assert history.count() == 2 and "2 missed" in history.first.inner_text()  # two nights while down
    job_link = history.first.locator("a")
    job_id = job_link.inner_text()
    assert '"command": "python retrain.py"' in page.locator("pre.spec").inner_text()
    page.click("button:has-text('Disable')")
    page.wait_for_url(re.compile(f"/schedules/{demo.schedule}$"))
    assert "None while disabled" in page.locator("main").inner_text()
    page.click("button:has-text('Enable')")
    assert page.locator("ol.next-firings li").count() == 5
    page.locator("table.firings a", has_text=job_id).click()
    page.wait_for_url(re.compile(f"/jobs/{job_id}$"))


def test_events_filter_by_type_show_data_as_text_and_a_dead_letter_is_redelivered_by_clicking(seeded, page):
    server, demo, path = seeded
    page.goto(f"{server.url}/w/default/")
    page.click("nav >> text=Events")
    page.select_option("#e-type", "RunCompleted")
    page.click("button:has-text('Apply')")
    page.wait_for_url(re.compile(r"type=RunCompleted"))
    types = set(page.locator("table.events tbody td:nth-child(2)").all_inner_texts())
    assert types == {"RunCompleted"}
    page.locator("table.events details summary").first.click()
    assert '"runId"' in page.locator("table.events pre.event-data").first.inner_text()
    page.click(f"text={demo.subscription}")
    assert "the ops team's receiver" in page.locator("main").inner_text()
    dead = page.locator("table.deliveries tr.state-dead")
    before = dead.count()
    assert before > 0
    first = dead.first
    delivery = first.get_attribute("data-delivery")
    first.locator("details summary").click()
    assert "no answer" in first.locator("ol.attempts").inner_text()  # the receiver is down
    first.locator("button:has-text('Redeliver')").click()
    page.wait_for_url(re.compile(f"/events/subscriptions/{demo.subscription}$"))
    from mlyard.services.events import subscriptions
    from mlyard.services.workspaces.workspace import open_workspace
    from tests.waiting import wait_until

    def sent_again() -> bool:  # the server's delivery loop tried it once more (the receiver is still down)
        found = subscriptions.list_deliveries(open_workspace(path), demo.subscription, limit=10_000)
        return len(next(d for d in found if d.id == int(delivery)).history) >= 2

    wait_until(sent_again, timeout=30, message="the redelivered dead letter to be sent again")
    page.select_option("#d-state", "dead")
    page.click("button:has-text('Show')")
    page.wait_for_url(re.compile(r"state=dead$"))
    rows = page.locator("table.deliveries tbody tr")
    assert {rows.nth(i).get_attribute("class") for i in range(rows.count())} == {"state-dead"}


def test_the_scoring_dashboard_shows_batch_runs_rows_scored_and_a_predictions_summary(seeded, page):
    server, demo, _ = seeded
    page.goto(f"{server.url}/w/default/")
    page.click("nav >> text=Dashboards")
    page.click("nav.tabs >> text=Scoring")
    page.wait_for_url(re.compile(r"/dashboards/scoring$"))
    scored = page.locator(f"tr[data-job={demo.scored_job}]")
    assert scored.locator("td.rows-scored").inner_text() == "441"
    assert "complete: 441 of 441 items scored" in scored.inner_text()
    summary = scored.locator("table.summary tbody tr").first.inner_text()
    assert summary.startswith("prediction") and "\t441\t" in summary
    mean = float(summary.split("\t")[2])
    assert 140 < mean < 165  # the diabetes target's mean is 152
    queued = page.locator(f"tr[data-job={demo.batch_job}]")
    assert "no predictions file yet" in queued.inner_text()
    assert "441 rows scored" in page.locator("p.legend").inner_text()


def test_a_monitor_charts_each_signal_against_its_threshold_with_histograms_verdicts_and_alerts(seeded, page):
    server, demo, _ = seeded
    first, second, last = demo.monitor_runs
    page.goto(f"{server.url}/w/default/")
    alerts = page.locator("ul.open-alerts li")
    assert {text.split(" · ")[1].split()[0] for text in alerts.all_inner_texts()} == {
        "drift", "performance", "staleness"
    }  # fmt: skip
    page.click("nav >> text=Monitors")
    row = page.locator(f"tr[data-monitor={demo.monitor}]")
    assert "diabetes-production:1" in row.inner_text() and last in row.inner_text()
    assert "breached" in row.locator("td.monitor-status").inner_text()
    row.locator("a", has_text="Diabetes inputs and predictions").click()
    page.wait_for_url(re.compile(f"/monitors/{demo.monitor}$"))
    for signal, series in (("drift", 7), ("performance", 4), ("staleness", 2)):  # features + thresholds
        figure = page.locator(f"figure.monitor-chart.drawn[data-signal={signal}]")
        assert figure.get_attribute("data-runs") == "3" and figure.get_attribute("data-series") == str(series)
        assert figure.locator("canvas").count() == 1
    bmi = page.locator("figure.histogram[data-feature=bmi]")
    assert "breached" in (bmi.get_attribute("class") or "") and bmi.locator(".bar.production").count() > 5
    assert "breached" not in (page.locator("figure.histogram[data-feature=age]").get_attribute("class") or "")
    breached = page.locator("table.verdicts tr.breached td:nth-child(2)").all_inner_texts()
    assert breached == ["bmi", "prediction", "prediction", "diabetes-legacy:1"]
    assert "reference: diabetes-reference:1" in page.locator("dl.facts").inner_text()
    drift = page.locator("table.alert-states tr[data-signal=drift]")
    assert "breached" in drift.inner_text() and second in drift.inner_text()  # bmi breached from day two
    assert first in page.locator("table.alert-states tr[data-signal=staleness]").inner_text()
    types = page.locator("table.monitor-events td:nth-child(2)").all_inner_texts()
    assert sorted(types) == ["mlyard.model.stale", "mlyard.monitor.alert", "mlyard.monitor.alert"]
    assert page.locator("table.monitor-runs tbody tr").count() == 3
    page.locator("table.monitor-events a", has_text="signals/drift").click()
    page.wait_for_url(re.compile(r"/events\?subject=monitors%2Fdiabetes-watch%2Fsignals%2Fdrift$"))
    assert page.locator("table.events tbody tr").count() == 1


def test_the_monitor_page_loads_at_most_300_kb_of_compressed_js_and_css(seeded):
    import gzip

    server, demo, _ = seeded
    html = httpx.get(f"{server.url}/w/default/monitors/{demo.monitor}").text
    assets = re.findall(r'(?:src|href)="(/studio/static/[^"]+\.(?:js|css))"', html)
    assert any(a.endswith("uPlot.iife.min.js") for a in assets)
    size = sum(len(gzip.compress(httpx.get(server.url + asset).content)) for asset in assets)
    assert size <= 300 * 1024, size


def test_the_monitoring_dashboard_shows_performance_over_time_drift_and_stale_models(seeded, page):
    server, demo, _ = seeded
    page.goto(f"{server.url}/w/default/dashboards/training")
    page.click("nav.tabs >> text=Monitoring")
    page.wait_for_url(re.compile(r"/dashboards/monitoring$"))
    chart = page.locator("figure.monitor-chart.drawn[data-signal=performance]")
    assert chart.get_attribute("data-runs") == "3" and demo.monitor in chart.inner_text()
    drifted = page.locator("table.drift tr.breached td:nth-child(3)").all_inner_texts()
    assert drifted == ["bmi"] and page.locator("table.drift tbody tr").count() == 5
    stale = page.locator("table.stale tbody tr")
    assert stale.count() == 1 and "diabetes-legacy:1" in stale.inner_text() and "stale" in stale.inner_text()
    assert "70 days old (max 60)" in page.locator("ul.stale-events").inner_text()


def test_run_a_monitor_now_by_clicking_runs_a_monitor_job(seeded, page):
    from mlyard.services.tracking import jobs
    from mlyard.services.workspaces.workspace import open_workspace
    from tests.waiting import wait_until

    server, demo, path = seeded
    page.goto(f"{server.url}/w/default/monitors/{demo.monitor}")
    page.click("button:has-text('Run now')")
    page.wait_for_url(re.compile(r"/jobs/[^/]+$"))
    workspace = open_workspace(path)
    job_id = page.url.rsplit("/", 1)[1]
    job = jobs.get_job(workspace, job_id)
    assert job.type == "monitor" and job.tags["mlyard.monitor"] == demo.monitor
    ended = wait_until(lambda: jobs.get_job(workspace, job_id).status.is_terminal, timeout=120,
                       message="the monitor run started from the studio to end")  # fmt: skip
    assert ended and jobs.get_job(workspace, job_id).status.value == "Completed"
    page.goto(f"{server.url}/w/default/monitors/{demo.monitor}")
    assert page.locator("table.monitor-runs tbody tr").first.get_attribute("data-job") == job_id
    assert page.locator("#verdicts-h a").inner_text() == job_id


def test_an_admin_deletes_a_run_for_good_after_a_confirmation(seeded, page):
    from mlyard.services.tracking import job_artifacts, jobs
    from mlyard.services.workspaces.workspace import open_workspace

    server, _, path = seeded
    workspace = open_workspace(path)
    run = jobs.start_job(workspace, experiment="scratch", display_name="throwaway")
    job_artifacts.log_bytes(workspace, run.id, b"bye", "note.txt")
    jobs.end_job(workspace, run.id)
    page.goto(f"{server.url}/w/default/jobs/{run.id}")
    page.click("button:has-text('Delete for good')")
    assert "cannot be undone" in page.locator("main").inner_text()
    page.click("main button:has-text('Delete for good')")
    page.wait_for_url(re.compile(r"/jobs\?experiment=scratch$"))
    assert httpx.get(f"{server.url}/w/default/jobs/{run.id}").status_code == 404
    assert not workspace.artifacts.exists(f"jobs/{run.id}")


def test_every_page_loads_without_data(tmp_path, page):
    from tests.server.studio.demo import make_workspace
    from tests.servers import serve_in_thread

    make_workspace(tmp_path / "empty")
    server = serve_in_thread(tmp_path / "empty", auth=False, workers=0)
    try:
        for path, says in [("/", "No jobs yet"), ("/jobs", "No jobs yet"), ("/models", "No model registered"),
                           ("/compare", "Choose runs to compare"), ("/data", "No data asset registered"),
                           ("/endpoints", "No online endpoint"), ("/audit", "No change recorded"),
                           ("/environments", "No environment registered"),
                           ("/components", "No component registered"),
                           ("/computes", "processes on this machine"),
                           ("/dashboards/training", "No pipeline has run yet"),
                           ("/dashboards/scoring", "No batch scoring run yet"),
                           ("/dashboards/monitoring", "No monitor yet"), ("/monitors", "No monitor yet"),
                           ("/schedules", "No schedule yet"), ("/events", "No subscription"),
                           ("/keys", "No API key yet")]:  # fmt: skip
            response = page.goto(f"{server.url}/w/default{path}")
            assert response.status == 200 and says in page.locator("main").inner_text()
    finally:
        server.stop()
