"""`mlyard check smoke|performance|data-quality|responsible-ai`: staging checks for CI, exit 11 on a fail.

Each check prints its report (or, with `-o json`, `{"passed": …, "kind": …, "metrics": …,
"problems": […]}`), writes it with `--report FILE` (FILE.json and a FILE.txt summary, or
report.json and summary.txt in a folder), and records it against `--model NAME:VERSION` so that
a workspace requiring passing checks (`require_passing_checks`) can approve that version.
A check that fails exits 11 (`ValidationFailed`) after all that; a check that cannot run exits
with the error's own code (2 bad option, 3 endpoint, model or file not found, 10 not served).
The built-in components (`azureml://registries/mlyard/components/<kind>/labels/latest`) run these
commands inside pipeline steps.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlyard.cli.context import client_of
from mlyard.cli.output import print_table, printed_for_scripts, say

if TYPE_CHECKING:
    from mlyard.entities.governance.validation import CheckReport

app = typer.Typer(
    help="Staging checks of a release candidate: smoke, performance, data quality, responsible AI.",
    no_args_is_help=True,
)

Endpoint = Annotated[str | None, typer.Option("--endpoint", help="the online endpoint, by name")]
Url = Annotated[str | None, typer.Option("--url", help="or its scoring URL")]
Key = Annotated[
    str | None, typer.Option("--key", help="the endpoint key for --url (default: $MLYARD_ENDPOINT_KEY)")
]
Deployment = Annotated[
    str | None, typer.Option("--deployment", help="send to this deployment (azureml-model-deployment)")
]
Request = Annotated[Path | None, typer.Option("--request", help="a request file, sent as it is")]
Data = Annotated[Path | None, typer.Option("--data", help="or sample rows: a .csv/.parquet/.jsonl file")]
Model = Annotated[
    str | None,
    typer.Option(
        "--model",
        help="the model version checked (NAME:VERSION), recorded with the report; default for --endpoint: "
        "the model of the deployment checked (--deployment, else the one taking the traffic)",
    ),
]
Report = Annotated[
    Path | None, typer.Option("--report", help="write the report: FILE.json (+ FILE.txt) or a folder")
]


@app.command("smoke")
def smoke(
    ctx: typer.Context,
    endpoint: Endpoint = None,
    url: Url = None,
    key: Key = None,
    deployment: Deployment = None,
    request: Request = None,
    data: Data = None,
    rows: Annotated[int, typer.Option("--rows", help="how many --data rows to send")] = 5,
    expect_keys: Annotated[
        str | None, typer.Option("--expect-keys", help="keys the answer must hold, comma-separated")
    ] = None,
    model: Model = None,
    report: Report = None,
) -> None:
    """One sample request (a file, data rows, or rows from --model's signature): status 200 and one
    prediction per row expected back."""
    from mlyard.client import staging_checks

    keys = [k.strip() for k in (expect_keys or "").split(",") if k.strip()]
    found = staging_checks.smoke(
        client_of(ctx), endpoint=endpoint, url=url, key=key, request=request, data=data, rows=rows,
        model=model, expect_keys=keys, deployment=deployment,
    )  # fmt: skip
    _finish(ctx, found, report)


@app.command("performance")
def performance(
    ctx: typer.Context,
    endpoint: Endpoint = None,
    url: Url = None,
    key: Key = None,
    deployment: Deployment = None,
    request: Request = None,
    data: Data = None,
    rows: Annotated[int, typer.Option("--rows", help="--data rows per request")] = 1,
    requests: Annotated[int, typer.Option("--requests", help="requests to send (at most 5000)")] = 200,
    concurrency: Annotated[int, typer.Option("--concurrency", help="at a time (at most 32)")] = 4,
    seconds: Annotated[float, typer.Option("--seconds", help="stop after this long (at most 600)")] = 60.0,
    p99_ms: Annotated[float, typer.Option("--p99-ms", help="P99 latency allowed, in ms")] = 1000.0,
    max_error_rate: Annotated[
        float, typer.Option("--max-error-rate", help="share of failed requests allowed (0-1)")
    ] = 0.01,
    model: Model = None,
    report: Report = None,
) -> None:
    """A bounded load on the endpoint: P50/P95/P99 latency and error rate against thresholds."""
    from mlyard.client import staging_checks

    found = staging_checks.performance(
        client_of(ctx), endpoint=endpoint, url=url, key=key, request=request, data=data, rows=rows,
        model=model, plan=staging_checks.LoadPlan(requests, concurrency, seconds), p99_ms=p99_ms,
        max_error_rate=max_error_rate, deployment=deployment,
    )  # fmt: skip
    _finish(ctx, found, report)


@app.command("data-quality")
def data_quality(
    ctx: typer.Context,
    data: Annotated[Path, typer.Option("--data", help="the scoring input: a table file or folder")],
    against: Annotated[str, typer.Option("--against", help="the data asset whose profile it must fit")],
    model: Model = None,
    report: Report = None,
) -> None:
    """A scoring input against a data asset's profile: columns, types, ranges, null rates."""
    from mlyard.client import staging_checks

    _finish(ctx, staging_checks.data_quality(client_of(ctx), data, against, model), report)


@app.command("responsible-ai")
def responsible_ai(
    ctx: typer.Context,
    model: Annotated[str, typer.Option("--model", help="the registered model version, NAME:VERSION")],
    data: Annotated[Path, typer.Option("--data", help="a labelled test set: a table file")],
    label: Annotated[str, typer.Option("--label", help="the label column of --data")],
    sensitive_feature: Annotated[
        str, typer.Option("--sensitive-feature", help="the column whose groups are compared")
    ],
    task: Annotated[
        str | None, typer.Option("--task", help="classification or regression (default: from the labels)")
    ] = None,
    max_demographic_parity: Annotated[
        float, typer.Option("--max-demographic-parity", help="demographic parity difference allowed")
    ] = 0.1,
    max_equalized_odds: Annotated[
        float, typer.Option("--max-equalized-odds", help="equalized odds difference allowed")
    ] = 0.1,
    max_rmse_difference: Annotated[
        float | None,
        typer.Option("--max-rmse-difference", help="regression: RMSE gap between groups allowed"),
    ] = None,
    report: Report = None,
) -> None:
    """Fairness across a sensitive feature (Fairlearn): demographic parity and equalized odds
    differences against thresholds, error rate (or RMSE) by group."""
    from mlyard.client import staging_checks
    from mlyard.errors import InvalidArgument

    if task not in (None, "classification", "regression"):
        raise InvalidArgument(f"--task must be classification or regression, not {task!r}")
    found = staging_checks.responsible_ai(
        client_of(ctx), model, data, label, sensitive_feature, task,  # type: ignore[arg-type]
        max_demographic_parity, max_equalized_odds, max_rmse_difference,
    )  # fmt: skip
    _finish(ctx, found, report)


@app.command("list")
def list_reports(
    ctx: typer.Context,
    model: Annotated[str, typer.Option("--model", help="NAME or NAME:VERSION")],
    kind: Annotated[str | None, typer.Option("--kind", help="smoke, performance, data_quality, …")] = None,
) -> None:
    """Check reports recorded against a model (one version), newest first."""
    name, _, version = model.removeprefix("azureml:").partition(":")
    records = client_of(ctx).models.check_reports(name, version or None, kind)
    if printed_for_scripts([r.model_dump(mode="json", exclude={"report"}) for r in records]):
        return
    print_table(
        None,
        ["id", "kind", "version", "passed", "created", "job", "location"],
        [[r.id, r.kind, r.model_version, r.passed, r.created_at, r.job_id, r.location] for r in records],
    )


def _finish(ctx: typer.Context, report: CheckReport, path: Path | None) -> None:
    """Write, record and print the report, then fail (exit 11) when the check did."""
    from mlyard.client import staging_checks
    from mlyard.errors import ValidationFailed

    location = None
    if path is not None:
        written = staging_checks.write_report(report, path).resolve()
        location = str(written)
    job_id = os.environ.get("MLYARD_JOB_ID")
    if job_id and path is not None:  # a built-in component's step: its `report` output (or artifact)
        location = staging_checks.job_report_location(client_of(ctx), report, written, job_id)
    recorded = staging_checks.record(client_of(ctx), report, location, job_id)
    result = report.summary() | {"record": recorded.id if recorded else None}
    if not printed_for_scripts(result):
        say(report.text().rstrip("\n"))
        if recorded is not None:
            say(f"recorded against model {report.model} as report {recorded.id}")
    if not report.passed:
        failed = ", ".join(sorted({p.check for p in report.problems if p.severity == "error"}))
        raise ValidationFailed(f"the {report.kind} check failed ({failed})")
