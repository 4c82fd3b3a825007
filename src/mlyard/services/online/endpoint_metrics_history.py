"""The gateway's counts that outlive the server: per-minute records, their retention, and the
summaries `online-endpoint metrics --since` and the monitor's `endpoint_health` read.

The gateway counts in memory (serving/gateway_metrics); a background task of the server hands
the finished seconds to `record_minutes` every few seconds, as per-minute deltas — never a write
per request. A minute's record is merged by addition (store/endpoint_metrics), so two flushes of
the same minute, and the flushes of several server processes serving one workspace, add up to
the minute's traffic. Latencies keep the live window's log buckets (services/online/
latency_buckets), so a percentile over persisted minutes equals the live window's over the same
requests. Ranges are whole minutes: a range starts at the beginning of the minute it names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from mlyard.entities.endpoints.endpoint import EndpointMetrics, TrafficMinute, TrafficSummary, added_counts
from mlyard.errors import InvalidArgument
from mlyard.services.online import endpoints
from mlyard.services.online.latency_buckets import percentiles
from mlyard.services.workspaces.settings import get_settings
from mlyard.services.workspaces.workspace import Workspace
from mlyard.store import endpoint_metrics as rows


def record_minutes(workspace: Workspace, minutes: Sequence[TrafficMinute]) -> None:
    """Add these per-minute deltas to the persisted minutes, in one transaction (all or nothing, so a
    flush that fails can be retried whole without counting anything twice)."""
    if minutes:
        workspace.database.write(lambda session: rows.merge_minutes(session, minutes))


def prune(workspace: Workspace, now: datetime | None = None) -> int:
    """Remove minutes older than the workspace's `endpoint_metrics_retention_days`; how many went."""
    days = get_settings(workspace).endpoint_metrics_retention_days
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    return workspace.database.write(lambda session: rows.purge_before(session, cutoff))


def read_minutes(
    workspace: Workspace, endpoint: str, start: datetime, end: datetime, deployment: str | None = None
) -> list[TrafficMinute]:
    """The persisted minutes of `endpoint` (one deployment's, if named) that begin in [start, end)."""
    with workspace.database.read() as session:
        return rows.read_minutes(session, endpoint, start, end, deployment)


def parse_since(text: str | datetime, now: datetime | None = None) -> datetime:
    """`--since`: a span back from now (`90m`, `24h`, `7d`) or an ISO date/time (UTC if no zone),
    as the beginning of its minute; refused, naming the option, when unreadable or not in the past."""
    from mlyard.entities.governance.access import parse_since as parse

    now = now or datetime.now(UTC)
    if isinstance(text, datetime):
        since = text if text.tzinfo else text.replace(tzinfo=UTC)
    else:
        try:
            parsed = parse(text.strip())
        except InvalidArgument as exc:
            raise InvalidArgument(f"--{exc.message} (UTC unless it names its zone)") from None
        if parsed is None:
            raise InvalidArgument("--since: give a span back from now (90m, 24h, 7d) or an ISO date/time")
        since = parsed
    since = minute_of(since)
    if since > now:
        raise InvalidArgument(f"--since {text!s}: that is in the future (now is {now:%Y-%m-%dT%H:%M:%S}Z)")
    return since


def minute_of(moment: datetime) -> datetime:
    """The beginning of the minute `moment` falls in, in UTC."""
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def endpoint_history(
    workspace: Workspace,
    endpoint: str,
    start: datetime,
    end: datetime | None = None,
    deployment: str | None = None,
    live: Iterable[TrafficMinute] = (),
) -> EndpointMetrics:
    """Requests/s, errors, statuses, P50/P95/P99 and mirror copies per deployment of `endpoint` from
    `start` to `end` (now): its persisted minutes, plus `live` ones the server has not flushed yet."""
    endpoints.get_endpoint(workspace, endpoint)  # NotFound for an unknown name
    end = end or datetime.now(UTC)
    found = read_minutes(workspace, endpoint, start, end, deployment)
    found += [m for m in live if start <= m.minute < end and deployment in (None, m.deployment)]
    seconds = max(1.0, (end - start).total_seconds())
    per_deployment: dict[str, list[TrafficMinute]] = {}
    for minute in found:
        per_deployment.setdefault(minute.deployment, []).append(minute)
    return EndpointMetrics(
        endpoint=endpoint,
        window_seconds=round(seconds),
        total=traffic_summary(found, seconds),
        deployments={name: traffic_summary(m, seconds) for name, m in sorted(per_deployment.items()) if name},
        start=start,
        end=end,
    )


def traffic_summary(minutes: Iterable[TrafficMinute], seconds: float) -> TrafficSummary:
    """What these records add up to, as rates over `seconds`."""
    requests = errors = 0
    statuses: dict[str, int] = {}
    histogram: dict[int, int] = {}
    mirrors: dict[str, int] = {}
    for minute in minutes:
        requests += minute.requests
        errors += minute.errors
        statuses = added_counts(statuses, minute.status_counts)
        histogram = added_counts(histogram, minute.latency_buckets)
        mirrors = added_counts(mirrors, minute.mirror_outcomes)
    mirrored = sum(mirrors.values())
    return TrafficSummary(
        requests=requests,
        requests_per_second=requests / seconds if seconds > 0 else 0.0,
        errors=errors,
        error_rate=errors / requests if requests else 0.0,
        status_counts=dict(sorted(statuses.items())),
        latency_ms=percentiles(histogram),
        mirrored=mirrored,
        mirror_errors=mirrored - mirrors.get("200", 0),
        mirror_outcomes=dict(sorted(mirrors.items())),
    )
