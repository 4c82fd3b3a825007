"""A deployment's serving health over a time range, from the gateway's persisted minutes: what the
monitor's `endpoint_health` signal (`latency_p50_ms`, `latency_p99_ms`, `error_rate`,
`requests_per_second`) compares with its thresholds."""

from __future__ import annotations

from datetime import datetime

from mlyard.entities.endpoints.endpoint import EndpointHealth
from mlyard.services.online.endpoint_metrics_history import read_minutes, traffic_summary
from mlyard.services.workspaces.workspace import Workspace


def deployment_health(
    workspace: Workspace, endpoint: str, deployment: str, start: datetime, end: datetime
) -> EndpointHealth:
    """Requests, P50/P99 latency, error rate (answers ≥ 400) and requests/s of `deployment` over the
    minutes that begin in [start, end). Requests the endpoint refused before choosing a deployment
    (a bad key) are not the deployment's. Minutes not flushed yet (the last few seconds) are not
    counted: a monitor looks at finished windows."""
    seconds = (end - start).total_seconds()
    if seconds <= 0:
        return EndpointHealth(
            requests=0, latency_p50_ms=None, latency_p99_ms=None, error_rate=None, requests_per_second=None
        )
    summary = traffic_summary(read_minutes(workspace, endpoint, start, end, deployment), seconds)
    answered = summary.requests > 0
    return EndpointHealth(
        requests=summary.requests,
        latency_p50_ms=summary.latency_ms.p50,
        latency_p99_ms=summary.latency_ms.p99,
        error_rate=summary.error_rate if answered else None,
        requests_per_second=summary.requests_per_second,
    )
