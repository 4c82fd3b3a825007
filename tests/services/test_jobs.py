"""Run records through the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

import math

import pytest

from mlyard.entities.jobs.job import DataInput, JobStatus
from mlyard.errors import Conflict, InvalidArgument, NotFound
from mlyard.services.tracking import jobs


def test_started_job_is_running_and_ending_it_records_status_and_duration(workspace):
    job = jobs.start_job(workspace, experiment="exp", display_name="first", tags={"team": "a"})
    assert job.status == JobStatus.RUNNING
    assert job.experiment == "exp" and job.tags == {"team": "a"}

    jobs.end_job(workspace, job.id, JobStatus.FAILED, "boom", metrics=[jobs.make_metric("mse", 1.0)])
    ended = jobs.get_job(workspace, job.id)
    assert ended.status == JobStatus.FAILED
    assert ended.error == "boom"
    assert ended.end_time is not None and ended.duration_seconds is not None
    assert ended.duration_seconds >= 0
    assert ended.metrics == {"mse": 1.0}


def test_ending_an_ended_job_is_refused(workspace):
    job = jobs.start_job(workspace)
    jobs.end_job(workspace, job.id)
    with pytest.raises(Conflict, match="already ended as Completed"):
        jobs.end_job(workspace, job.id, JobStatus.FAILED)


def test_params_are_immutable_but_relogging_the_same_value_is_fine(workspace):
    job = jobs.start_job(workspace)
    jobs.record_run_data(workspace, job.id, params={"alpha": "0.5"})
    jobs.record_run_data(workspace, job.id, params={"alpha": "0.5"})
    with pytest.raises(Conflict, match="param 'alpha' .* already '0.5'"):
        jobs.record_run_data(workspace, job.id, params={"alpha": "0.7", "other": "1"})
    # The refused write left nothing half-done: 'other' was not stored either.
    assert jobs.get_job(workspace, job.id).params == {"alpha": "0.5"}


def test_a_param_relogged_as_the_same_number_written_another_way_is_not_a_change(workspace):
    # A job's input `alpha: 1` is its param "1"; the script's log_param("alpha", float(...)) says "1.0".
    job = jobs.start_job(workspace)
    jobs.record_run_data(workspace, job.id, params={"alpha": "1", "solver": "auto"})
    jobs.record_run_data(workspace, job.id, params={"alpha": "1.0", "solver": "auto"})
    assert jobs.get_job(workspace, job.id).params == {"alpha": "1", "solver": "auto"}
    with pytest.raises(Conflict, match="param 'alpha' .* already '1', cannot change it to '1.5'"):
        jobs.record_run_data(workspace, job.id, params={"alpha": "1.5"})


def test_metric_history_keeps_every_point_and_latest_follows_the_highest_step(workspace):
    job = jobs.start_job(workspace)
    points = [jobs.make_metric("loss", 1.0 / (s + 1), step=s, timestamp=1000 + s) for s in range(5)]
    late_low_step = jobs.make_metric("loss", 99.0, step=1, timestamp=9999)
    jobs.record_run_data(workspace, job.id, metrics=[*points, late_low_step])

    history = jobs.metric_history(workspace, job.id, "loss")
    assert [p.step for p in history] == [0, 1, 1, 2, 3, 4]
    assert jobs.get_job(workspace, job.id).metrics["loss"] == pytest.approx(0.2)


def test_metric_values_must_be_numbers(workspace):
    with pytest.raises(InvalidArgument, match="metric 'mse' must be a number, got 'abc'"):
        jobs.make_metric("mse", "abc")
    with pytest.raises(InvalidArgument, match="step of metric 'mse' must be an integer"):
        jobs.make_metric("mse", 1.0, step=1.5)  # type: ignore[arg-type]
    import numpy as np

    assert jobs.make_metric("mse", np.float32(2.5)).value == 2.5


def test_unknown_job_and_metric_are_named_in_the_error(workspace):
    with pytest.raises(NotFound, match="job 'nope' does not exist"):
        jobs.get_job(workspace, "nope")
    job = jobs.start_job(workspace)
    jobs.record_run_data(workspace, job.id, metrics=[jobs.make_metric("mse", 1.0)])
    with pytest.raises(NotFound, match="no metric 'rmse'; it has: mse"):
        jobs.metric_history(workspace, job.id, "rmse")


def test_search_filters_on_metrics_params_tags_and_attributes(workspace):
    created = []
    for alpha, mse, team in [(0.05, 2800.0, "a"), (0.2, 2900.0, "b"), (0.5, 3100.0, "a")]:
        job = jobs.start_job(workspace, experiment="diabetes", tags={"team": team})
        jobs.record_run_data(
            workspace, job.id, params={"alpha": str(alpha)}, metrics=[jobs.make_metric("mse", mse)]
        )
        created.append(job.id)
    other = jobs.start_job(workspace, experiment="other")
    jobs.end_job(workspace, other.id)

    found = jobs.search_jobs(workspace, "metrics.mse < 3000 and params.alpha > 0.1")
    assert [j.id for j in found] == [created[1]]
    found = jobs.search_jobs(workspace, "tags.team = 'a'", order_by=["metrics.mse DESC"])
    assert [j.id for j in found] == [created[2], created[0]]
    found = jobs.search_jobs(workspace, "attributes.status = 'Completed'")
    assert [j.id for j in found] == [other.id]
    assert len(jobs.search_jobs(workspace, experiments="diabetes")) == 3
    # Default order: newest first.
    assert [j.id for j in jobs.search_jobs(workspace, experiments=["diabetes"])] == created[::-1]


def test_free_text_search_finds_jobs_by_name_id_or_tag_value_in_any_case_taken_literally(workspace):
    ridge = jobs.start_job(workspace, experiment="text", display_name="Ridge alpha 0.1")
    lasso = jobs.start_job(workspace, experiment="text", display_name="lasso", tags={"team": "Clinic_A"})
    jobs.start_job(workspace, experiment="text", display_name="100% done")
    assert [j.id for j in jobs.search_jobs(workspace, text="RIDGE")] == [ridge.id]
    assert [j.id for j in jobs.search_jobs(workspace, text="clinic_a")] == [lasso.id]
    assert [j.id for j in jobs.search_jobs(workspace, text=lasso.id[-8:])] == [lasso.id]
    assert [j.display_name for j in jobs.search_jobs(workspace, text="0%")] == ["100% done"]
    assert jobs.search_jobs(workspace, text="clinic%a") == []  # % is a character, not a wildcard
    assert jobs.search_jobs(workspace, text="ridge", filter="attributes.display_name = 'lasso'") == []


def test_search_orders_jobs_without_the_metric_last(workspace):
    with_metric = jobs.start_job(workspace)
    jobs.record_run_data(workspace, with_metric.id, metrics=[jobs.make_metric("mse", 1.0)])
    without = jobs.start_job(workspace)
    for direction in ("ASC", "DESC"):
        ids = [j.id for j in jobs.search_jobs(workspace, order_by=f"metrics.mse {direction}")]
        assert ids == [with_metric.id, without.id]


def _job_with(workspace, experiment="sorting", params=None, metrics=None):
    job = jobs.start_job(workspace, experiment=experiment)
    points = [jobs.make_metric(key, value) for key, value in (metrics or {}).items()]
    jobs.record_run_data(workspace, job.id, params=params, metrics=points)
    return job.id


def test_numeric_looking_params_order_as_numbers_and_other_values_after_them(workspace):
    ids = {alpha: _job_with(workspace, params={"alpha": alpha}) for alpha in ("9", "100", "10", "0.05")}
    text = _job_with(workspace, params={"alpha": "auto"})
    missing = _job_with(workspace)

    def ordered(direction: str) -> list[str]:
        return [j.id for j in jobs.search_jobs(workspace, order_by=f"params.alpha {direction}")]

    by_number = [ids["0.05"], ids["9"], ids["10"], ids["100"]]
    assert ordered("ASC") == [*by_number, text, missing]
    assert ordered("DESC") == [*by_number[::-1], text, missing]
    found = jobs.search_jobs(workspace, "params.alpha > 9.5", order_by="params.alpha DESC")
    assert [j.id for j in found] == [ids["100"], ids["10"]]


def test_nan_and_infinite_metrics_are_stored_and_filter_and_order_without_crashing(workspace):
    ids = {
        name: _job_with(workspace, metrics={"loss": value})
        for name, value in [
            ("low", 0.5),
            ("nan", math.nan),
            ("high", 2.0),
            ("inf", math.inf),
            ("-inf", -math.inf),
        ]
    }
    missing = _job_with(workspace)

    def ordered(direction: str) -> list[str]:
        return [j.id for j in jobs.search_jobs(workspace, order_by=f"metrics.loss {direction}")]

    # Numbers (infinities included) in order, then NaN, then jobs without the metric, as MLflow sorts.
    assert ordered("ASC") == [ids["-inf"], ids["low"], ids["high"], ids["inf"], ids["nan"], missing]
    assert ordered("DESC") == [ids["inf"], ids["high"], ids["low"], ids["-inf"], ids["nan"], missing]
    # NaN matches no comparison; infinities compare as the numbers they are.
    found = jobs.search_jobs(workspace, "metrics.loss > 1", order_by="metrics.loss ASC")
    assert [j.id for j in found] == [ids["high"], ids["inf"]]
    found = jobs.search_jobs(workspace, "metrics.loss < 1", order_by="metrics.loss ASC")
    assert [j.id for j in found] == [ids["-inf"], ids["low"]]
    assert math.isnan(jobs.get_job(workspace, ids["nan"]).metrics["loss"])
    assert math.isnan(jobs.metric_history(workspace, ids["nan"], "loss")[0].value)


def test_search_joins_one_table_several_times_in_one_query_and_again_in_the_next(workspace):
    """Two metric filters, a param filter and orders on a metric and a param: each term joins its
    own copy of the table (the copies are made once and reused by later searches)."""
    values = {}
    for i in range(12):
        m0, m1, m2 = (i * 7 % 12) / 12, (i * 5 % 12) / 12, (i * 11 % 12) / 12
        job = jobs.start_job(workspace, experiment="joins")
        jobs.end_job(
            workspace, job.id, params={"p": str(i % 3), "q": str(i)},
            metrics=[jobs.make_metric("m0", m0), jobs.make_metric("m1", m1), jobs.make_metric("m2", m2)],
        )  # fmt: skip
        values[job.id] = (m0, m1, m2, i % 3, i)
    for _ in range(2):  # the second round reuses the table copies of the first
        found = jobs.search_jobs(
            workspace,
            "metrics.m0 < 0.8 and metrics.m1 >= 0.2 and params.q > 1",
            ["params.p DESC", "metrics.m2 ASC"],
            ["joins"],
        )
        expected = sorted(
            (job_id for job_id, (m0, m1, _, _, q) in values.items() if m0 < 0.8 and m1 >= 0.2 and q > 1),
            key=lambda job_id: (-values[job_id][3], values[job_id][2]),
        )
        assert [job.id for job in found] == expected and len(expected) > 3
        assert jobs.search_jobs(workspace, "metrics.m0 < 0.8 and metrics.m0 > 0.9", None, ["joins"]) == []


def test_pages_of_a_metric_ordered_search_cross_from_valued_jobs_to_nan_and_missing_ones(workspace):
    """A search ordered by a metric reads the jobs with a value first and the others only when a
    page reaches them: every page, at every offset, is the slice of the one full order."""
    valued = {_job_with(workspace, "pages", {"p": str(i)}, {"m0": i % 2, "m1": i / 10}): i for i in range(5)}
    nan = _job_with(workspace, "pages", {"p": "nan"}, {"m0": 0, "m1": math.nan})
    missing = [_job_with(workspace, "pages", {"p": "none"}, {"m0": 1}) for _ in range(2)]
    newest_first = [*missing[::-1]]
    for direction, reverse in (("DESC", True), ("ASC", False)):
        by_value = sorted(valued, key=valued.__getitem__, reverse=reverse)
        expected = [*by_value, nan, *newest_first]
        for size in (1, 2, 3, 8):
            for offset in range(len(expected) + 1):
                page = jobs.search_jobs(
                    workspace, None, f"metrics.m1 {direction}", ["pages"], max_results=size, offset=offset
                )
                assert [job.id for job in page] == expected[offset : offset + size], (direction, size, offset)
        filtered = jobs.search_jobs(workspace, "metrics.m0 = 0", f"metrics.m1 {direction}", ["pages"])
        assert [job.id for job in filtered] == [j for j in expected if j in valued and valued[j] % 2 == 0] + [
            nan
        ]
        assert [job.params["p"] for job in filtered][-1] == "nan"


def test_searching_an_unknown_experiment_names_it(workspace):
    _job_with(workspace, experiment="known")
    with pytest.raises(
        NotFound, match="experiment 'nosuch-exp' does not exist; list experiments with: mlyard job"
    ):
        jobs.search_jobs(workspace, experiments=["known", "nosuch-exp"])
    assert len(jobs.search_jobs(workspace, experiments="known")) == 1
    assert jobs.search_jobs(workspace, experiments="Default") == []  # Default always exists


def test_a_nested_job_without_an_experiment_joins_its_parents(workspace):
    parent = jobs.start_job(workspace, experiment="nest")
    child = jobs.start_job(workspace, parent_job_id=parent.id)
    assert child.experiment == "nest" and jobs.get_job(workspace, child.id).experiment == "nest"
    with pytest.raises(NotFound, match="parent job 'gone' does not exist"):
        jobs.start_job(workspace, parent_job_id="gone")


@pytest.mark.parametrize(
    "bad, message",
    [
        ("metrics.mse <", "invalid filter clause"),
        ("metrix.mse < 3", "unknown field kind 'metrix'"),
        ("attributes.colour = 'red'", "unknown attribute 'colour'"),
        ("metrics.mse = 'high'", "compared with a number"),
        ("tags.team = 'a", "unterminated quote|invalid filter clause"),
    ],
)
def test_bad_filters_are_explained(workspace, bad, message):
    with pytest.raises(InvalidArgument, match=message):
        jobs.search_jobs(workspace, bad)


def test_lineage_edges_and_tags_round_trip(workspace):
    job = jobs.start_job(workspace)
    jobs.record_input(workspace, job.id, DataInput(kind="data", name="diabetes", version="1"))
    jobs.record_input(workspace, job.id, DataInput(kind="data", name="diabetes", version="1"))
    jobs.set_tags(workspace, job.id, {"a": 1, "b": "x"})
    jobs.delete_tag(workspace, job.id, "a")
    loaded = jobs.get_job(workspace, job.id)
    assert loaded.inputs == [DataInput(kind="data", name="diabetes", version="1")]
    assert loaded.tags == {"b": "x"}
    with pytest.raises(NotFound, match="has no tag 'a'"):
        jobs.delete_tag(workspace, job.id, "a")


@pytest.mark.parametrize("name", ["", "-x", "a b", "x" * 300, "semi;colon"])
def test_invalid_experiment_names_are_refused(workspace, name):
    with pytest.raises(InvalidArgument, match="invalid experiment name"):
        jobs.start_job(workspace, experiment=name)
