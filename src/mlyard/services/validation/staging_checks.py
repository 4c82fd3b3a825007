"""Staging checks' verdicts: what a smoke test, a load test and a data-quality check found, as reports.

The measuring is done by whoever can reach the endpoint (`client/staging_checks.py` sends the
requests); the rules live here, once, for the CLI and the built-in components alike:

    smoke          status 200, a JSON answer with one prediction per request row
                   (`scoring_checks.check_response`, as `mlyard validate --scoring` holds a
                   scoring script to), and the keys the caller expects in it
    performance    P50/P95/P99 latency and the error rate of a bounded load, against
                   `p99_ms` and `max_error_rate`
    data_quality   `mlyard validate`'s data rule (`data_checks`), reported as a check

Load limits are bounded here too: a check must not become a denial of service of staging.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mlyard.entities.governance.validation import CheckReport, ValidationProblem, ValidationReport
from mlyard.errors import InvalidArgument
from mlyard.services.validation.scoring_checks import check_response

MAX_REQUESTS = 5000
MAX_CONCURRENCY = 32
MAX_SECONDS = 600.0
DEFAULT_P99_MS = 1000.0
DEFAULT_MAX_ERROR_RATE = 0.01
ERROR_EXAMPLES = 3


@dataclass(frozen=True)
class LoadPlan:
    """A bounded load: at most `requests` requests, `concurrency` at a time, for at most `seconds`."""

    requests: int = 200
    concurrency: int = 4
    seconds: float = 60.0

    def checked(self) -> LoadPlan:
        for option, value, top in (
            ("--requests", self.requests, MAX_REQUESTS),
            ("--concurrency", self.concurrency, MAX_CONCURRENCY),
            ("--seconds", self.seconds, MAX_SECONDS),
        ):
            if not 0 < value <= top:
                raise InvalidArgument(f"{option} must be above 0 and at most {top:g}, not {value:g}")
        return self


def smoke_report(
    target: str,
    status: int,
    body: str,
    rows: int | None,
    expect_keys: Sequence[str] = (),
    seconds: float | None = None,
) -> CheckReport:
    """The verdict on one answer of the endpoint to a sample request of `rows` rows."""
    report = CheckReport(kind="smoke", target=target)
    report.metrics = {"status": status, "request_rows": rows}
    if seconds is not None:
        report.metrics["latency_ms"] = round(seconds * 1000, 2)
    if status != 200:
        report.problems.append(
            ValidationProblem(
                check="status", message=f"the endpoint answered {status}, not 200: {body[:300]}"
            )
        )
        return report
    try:
        response = json.loads(body)
    except ValueError:
        response = body
    report.problems += check_response(response, rows)
    report.problems += _missing_keys(response, expect_keys)
    report.details["response_preview"] = response[:5] if isinstance(response, list) else response
    return report


def _missing_keys(response: Any, keys: Sequence[str]) -> list[ValidationProblem]:
    """Expected keys absent from the answer: from its top level when it is an object, from each
    row when it is a list of objects."""
    if not keys:
        return []
    if isinstance(response, dict):
        missing = [key for key in keys if key not in response]
        where, rows = "the response", None
    elif isinstance(response, list) and response and all(isinstance(r, dict) for r in response):
        missing = [key for key in keys if any(key not in r for r in response)]
        where, rows = "some response rows", sum(1 for r in response if any(k not in r for k in keys))
    else:
        missing, where, rows = list(keys), "the response (it holds no objects)", None
    return [
        ValidationProblem(check="response_keys", column=key, rows=rows, message=f"{where} lacks key {key!r}")
        for key in missing
    ]


def performance_report(
    target: str,
    latencies_ms: Sequence[float],
    failures: Sequence[str],
    elapsed_seconds: float,
    plan: LoadPlan,
    p99_ms: float = DEFAULT_P99_MS,
    max_error_rate: float = DEFAULT_MAX_ERROR_RATE,
) -> CheckReport:
    """The verdict on a load: `latencies_ms` of every request sent (answered or not), `failures`
    one description per request that did not get a 200."""
    import numpy as np

    if p99_ms <= 0:
        raise InvalidArgument(f"--p99-ms must be above 0, not {p99_ms:g}")
    if not 0 <= max_error_rate <= 1:
        raise InvalidArgument(f"--max-error-rate must be between 0 and 1, not {max_error_rate:g}")
    sent = len(latencies_ms)
    report = CheckReport(kind="performance", target=target)
    report.thresholds = {"p99_ms": p99_ms, "error_rate": max_error_rate}
    if sent == 0:
        report.problems.append(ValidationProblem(check="load", message="no request was sent"))
        return report
    p50, p95, p99 = (float(v) for v in np.percentile(np.asarray(latencies_ms, dtype=float), [50, 95, 99]))
    error_rate = len(failures) / sent
    report.metrics = {
        "requests": sent, "errors": len(failures), "error_rate": round(error_rate, 5),
        "p50_ms": round(p50, 2), "p95_ms": round(p95, 2), "p99_ms": round(p99, 2),
        "requests_per_second": round(sent / elapsed_seconds, 1) if elapsed_seconds > 0 else None,
    }  # fmt: skip
    report.details = {
        "plan": {"requests": plan.requests, "concurrency": plan.concurrency, "seconds": plan.seconds}
    }
    if sent < plan.requests:
        report.details["stopped"] = f"the {plan.seconds:g} s limit ended the load after {sent} request(s)"
    if p99 > p99_ms:
        report.problems.append(
            ValidationProblem(check="p99_latency", message=f"P99 latency {p99:.1f} ms is above {p99_ms:g} ms")
        )
    if error_rate > max_error_rate:
        examples = "; ".join(list(dict.fromkeys(failures))[:ERROR_EXAMPLES])  # distinct ones
        report.problems.append(
            ValidationProblem(
                check="error_rate",
                rows=len(failures),
                message=f"{len(failures)} of {sent} requests failed ({error_rate:.1%}, at most "
                f"{max_error_rate:.1%} allowed), e.g. {examples}",
            )
        )
    return report


def data_quality_report(validation: ValidationReport, model: str | None = None) -> CheckReport:
    """`mlyard validate`'s data report as a staging check of a scoring input."""
    report = CheckReport(kind="data_quality", target=validation.target, model=model)
    report.metrics = {"rows": validation.checked_rows, "problems": len(validation.errors)}
    report.problems = list(validation.problems)
    report.details = dict(validation.details)
    return report


def checked_deployment(endpoint: str, traffic: dict[str, int], deployment: str | None) -> str:
    """The deployment an endpoint check measures, so its report is recorded against that
    deployment's model: `deployment` when given, else the one taking the endpoint's traffic.
    InvalidArgument when none does, or when traffic is split (the answers could come from either)."""
    if deployment is not None:
        return deployment
    serving = sorted((name for name, share in traffic.items() if share > 0), key=lambda n: -traffic[n])
    if len(serving) == 1:
        return serving[0]
    if not serving:
        raise InvalidArgument(
            f"online endpoint {endpoint!r} sends no traffic to any deployment; name the one to check "
            "with --deployment NAME, or give --model NAME:VERSION"
        )
    split = ", ".join(f"{name} ({traffic[name]}%)" for name in serving)
    raise InvalidArgument(
        f"online endpoint {endpoint!r} splits its traffic between {split}; name the deployment "
        "to check with --deployment NAME (its model is the one recorded)"
    )
