"""The studio's batched monitor reads give what the one-at-a-time reads give: every monitor's alert
states in one query, and every feature's and metric's history of a signal in one query."""

from __future__ import annotations

from mlyard.services.monitors import monitors
from mlyard.services.monitors.alerts import alert_states, all_alert_states
from mlyard.services.tracking import jobs
from tests.services.test_monitor_alerts import drift, quality, run


def _result(feature: str, metric: str, value: float, signal: str = "drift") -> dict[str, object]:
    return {
        "signal": signal, "signal_type": "data_drift", "feature": feature, "metric": metric, "value": value,
        "threshold": 0.1, "breached": value > 0.1, "error": None, "reference_histogram": None,
        "production_histogram": None, "window_start": None, "window_end": None, "reference": None,
    }  # fmt: skip


def test_every_monitors_alert_states_at_once_equal_each_monitors_own(workspace):  # type: ignore[no-untyped-def]
    run(workspace, [drift(0.5), quality(0.0)], monitor="first")
    run(workspace, [drift(0.05)], monitor="second")
    run(workspace, [drift(0.5, feature="bmi")], monitor="second")

    found = all_alert_states(workspace)

    assert set(found) == {"first", "second"}
    for name in found:
        assert found[name] == alert_states(workspace, name)
    assert [s.signal for s in found["first"] if s.breached_since] == ["drift"]
    assert all_alert_states(workspace).get("never-run") is None


def test_a_signals_histories_at_once_equal_each_feature_and_metrics_own(workspace):  # type: ignore[no-untyped-def]
    job_ids = []
    for day in range(3):
        job = jobs.start_job(workspace, experiment="monitor-runs")
        monitors.record_results(workspace, "watch", job.id, [
            _result("age", "wasserstein", 0.01 * day), _result("bmi", "wasserstein", 0.2 * day),
            _result("sex", "jensen_shannon", 0.03), _result("x", "null_rate", 0.0, signal="quality"),
        ])  # fmt: skip
        job_ids.append(job.id)

    found = monitors.signal_histories(workspace, "watch", "drift", limit=2)

    assert set(found) == {("age", "wasserstein"), ("bmi", "wasserstein"), ("sex", "jensen_shannon")}
    for (feature, metric), results in found.items():
        assert results == monitors.monitor_history(workspace, "watch", "drift", feature, metric, limit=2)
        assert [r.job_id for r in results] == job_ids[1:]  # the newest two runs, oldest first
    assert [r.value for r in found[("bmi", "wasserstein")]] == [0.2, 0.4]
    assert monitors.signal_histories(workspace, "watch", "no-such-signal") == {}
