"""The gateway's persisted minutes on SQLite and PostgreSQL: merged by addition, pruned past the
retention setting, read back as summaries and as the monitor's `endpoint_health`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mlyard.entities.endpoints.endpoint import TrafficMinute
from mlyard.entities.endpoints.endpoint_spec import endpoint_spec_from_dict
from mlyard.errors import InvalidArgument, NotFound
from mlyard.services.online import endpoint_metrics_history as history
from mlyard.services.online import endpoints
from mlyard.services.online.endpoint_health import deployment_health
from mlyard.services.online.latency_buckets import bucket, bucket_value_ms
from mlyard.services.workspaces.settings import update_settings

NOON = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _minute(
    at: datetime, deployment: str = "blue", ok: int = 0, failed: int = 0, ms: float = 20.0
) -> TrafficMinute:
    statuses = {k: v for k, v in (("200", ok), ("500", failed)) if v}
    return TrafficMinute(
        endpoint="scorer", deployment=deployment, minute=at, requests=ok + failed, errors=failed,
        status_counts=statuses, latency_buckets={bucket(ms / 1000): ok + failed},
        mirror_outcomes={"200": 1},
    )  # fmt: skip


@pytest.fixture
def scorer(workspace):  # type: ignore[no-untyped-def]
    endpoints.create_endpoint(workspace, endpoint_spec_from_dict({"name": "scorer"}, "endpoint.yml"))
    return workspace


def test_two_flushes_of_one_minute_add_up(scorer):
    history.record_minutes(scorer, [_minute(NOON, ok=10, ms=20)])
    history.record_minutes(scorer, [_minute(NOON, ok=5, failed=5, ms=400), _minute(NOON, "green", ok=2)])
    history.record_minutes(scorer, [])  # a flush with nothing to say writes nothing

    blue = history.read_minutes(scorer, "scorer", NOON, NOON + timedelta(minutes=1), "blue")
    assert len(blue) == 1
    assert (blue[0].requests, blue[0].errors, blue[0].status_counts) == (20, 5, {"200": 15, "500": 5})
    assert blue[0].latency_buckets == {bucket(0.02): 10, bucket(0.4): 10}
    assert blue[0].mirror_outcomes == {"200": 2} and blue[0].minute == NOON

    summary = history.endpoint_history(scorer, "scorer", NOON, NOON + timedelta(minutes=10))
    assert summary.total.requests == 22 and summary.deployments["green"].requests == 2
    assert summary.deployments["blue"].requests_per_second == pytest.approx(20 / 600)
    assert summary.deployments["blue"].latency_ms.p50 == round(bucket_value_ms(bucket(0.02)), 3)
    assert summary.deployments["blue"].latency_ms.p99 == round(bucket_value_ms(bucket(0.4)), 3)
    assert summary.total.mirrored == 3 and summary.total.mirror_errors == 0
    assert (summary.start, summary.end, summary.window_seconds) == (NOON, NOON + timedelta(minutes=10), 600)


def test_a_range_counts_the_minutes_that_begin_in_it(scorer):
    history.record_minutes(scorer, [_minute(NOON + timedelta(minutes=m), ok=1) for m in range(5)])
    found = history.read_minutes(scorer, "scorer", NOON + timedelta(minutes=1), NOON + timedelta(minutes=3))
    assert [m.minute for m in found] == [NOON + timedelta(minutes=1), NOON + timedelta(minutes=2)]
    only_green = history.endpoint_history(
        scorer, "scorer", NOON, NOON + timedelta(hours=1), deployment="green"
    )
    assert only_green.total.requests == 0 and only_green.deployments == {}


def test_minutes_past_the_retention_setting_are_pruned(scorer):
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    old, recent = now - timedelta(days=31), now - timedelta(days=29)
    history.record_minutes(scorer, [_minute(old, ok=1), _minute(recent, ok=1)])
    assert history.prune(scorer, now) == 1  # default: 30 days
    assert [m.minute for m in history.read_minutes(scorer, "scorer", old, now)] == [recent]

    update_settings(scorer, endpoint_metrics_retention_days=7)
    assert history.prune(scorer, now) == 1
    assert history.read_minutes(scorer, "scorer", old, now) == []
    with pytest.raises(InvalidArgument, match="endpoint_metrics_retention_days: Input should be greater"):
        update_settings(scorer, endpoint_metrics_retention_days=0)


def test_deployment_health_is_computed_from_the_persisted_minutes(scorer):
    history.record_minutes(scorer, [
        _minute(NOON, ok=90, ms=10), _minute(NOON + timedelta(minutes=1), ok=9, failed=1, ms=900),
        _minute(NOON + timedelta(minutes=1), "", failed=50),  # refused before routing: nobody's
        _minute(NOON + timedelta(minutes=2), ok=1000),  # after the range
    ])  # fmt: skip
    health = deployment_health(scorer, "scorer", "blue", NOON, NOON + timedelta(minutes=2))
    assert health.requests == 100 and health.error_rate == pytest.approx(0.01)
    assert health.latency_p50_ms == round(bucket_value_ms(bucket(0.010)), 3)
    assert health.latency_p99_ms == round(bucket_value_ms(bucket(0.900)), 3)
    assert health.requests_per_second == pytest.approx(100 / 120)

    quiet = deployment_health(scorer, "scorer", "blue", NOON - timedelta(hours=1), NOON)
    assert quiet.requests == 0 and quiet.requests_per_second == 0.0
    assert (quiet.latency_p50_ms, quiet.latency_p99_ms, quiet.error_rate) == (None, None, None)
    empty = deployment_health(scorer, "scorer", "blue", NOON, NOON)
    assert empty.requests_per_second is None


def test_since_takes_spans_and_iso_times_as_the_beginning_of_their_minute():
    now = datetime(2026, 12, 1, 12, 34, 56, tzinfo=UTC)
    assert history.parse_since("90m", now=datetime.now(UTC)).second == 0
    assert history.parse_since("2026-12-01T10:15:30", now) == datetime(2026, 12, 1, 10, 15, tzinfo=UTC)
    assert history.parse_since("2026-12-01T11:15+01:00", now) == datetime(2026, 12, 1, 10, 15, tzinfo=UTC)
    assert history.parse_since(datetime(2026, 12, 1, 9, 0, 30), now) == datetime(
        2026, 12, 1, 9, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("yesterday", r"--since 'yesterday': expected a date/time \(2026-11-30T08:00\) or 30m, 12h, 7d"),
        ("24", r"--since '24': expected"),
        ("-5m", r"--since '-5m': expected"),
        ("2999-01-01", r"--since 2999-01-01: that is in the future"),
        ("", r"--since: give a span back from now"),
    ],
)
def test_a_bad_since_is_refused_naming_the_option(text, message):
    with pytest.raises(InvalidArgument, match=message):
        history.parse_since(text)


def test_the_history_of_an_unknown_endpoint_is_not_found(workspace):
    with pytest.raises(NotFound, match="nowhere"):
        history.endpoint_history(workspace, "nowhere", NOON)
