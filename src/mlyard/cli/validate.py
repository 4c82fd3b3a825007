"""`mlyard validate`: data, training and scoring validation for CI, with an exit code of its own.

Each of `--against`, `--training` and `--scoring` asks for one validation; together they run in
that order on the same `--data` sample and all run even when one fails, so one CI step reports
everything. The result is `{"passed": …, "reports": [...]}`; any error-level problem makes the
command exit 11 (`ValidationFailed`), after printing the reports.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlyard.cli.context import client_of
from mlyard.cli.output import for_people, parse_pairs, print_table, printed_for_scripts, say

if TYPE_CHECKING:
    from mlyard.entities.governance.validation import ValidationReport


def validate(
    ctx: typer.Context,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="the sample: a .csv/.tsv/.parquet/.jsonl file (or a folder of them)"),
    ] = None,
    against: Annotated[
        str | None,
        typer.Option(
            "--against", help="data validation: the data asset whose profile --data must fit, NAME@VERSION"
        ),
    ] = None,
    training: Annotated[
        Path | None,
        typer.Option(
            "--training", help="training validation: a job or pipeline YAML, run locally (on --data)"
        ),
    ] = None,
    scoring: Annotated[
        str | None,
        typer.Option(
            "--scoring",
            help="scoring validation: a score.py, a model folder or a registered model (NAME@VERSION), "
            "scoring --data rows",
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", help="with a score.py: the model, a folder or NAME@VERSION (AZUREML_MODEL_DIR)"
        ),
    ] = None,
    request: Annotated[
        Path | None,
        typer.Option("--request", help="with --scoring: a request file sent as it is, instead of --data"),
    ] = None,
    rows: Annotated[
        int | None, typer.Option("--rows", help="with --scoring: how many --data rows to score (default 5)")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="with --training: override a field of the YAML (repeatable)"),
    ] = None,
) -> None:
    """Validate a data sample, a training job and scoring code locally; exit 11 when anything fails."""
    from mlyard.errors import InvalidArgument, ValidationFailed

    if against is None and training is None and scoring is None:
        raise InvalidArgument(
            "say what to validate: --against NAME@VERSION (with --data), --training JOB.yml, "
            "--scoring score.py|MODEL_FOLDER (one or more)"
        )
    if against is not None and data is None:
        raise InvalidArgument("--against needs the data file to check: give --data FILE")
    for option, value in (("--model", model), ("--request", request), ("--rows", rows is not None)):
        if value and scoring is None:
            raise InvalidArgument(f"{option} goes with --scoring")
    if set_ and training is None:
        raise InvalidArgument("--set goes with --training")
    reports = _run(ctx, data, against, training, scoring, model, request, rows, parse_pairs(set_, "--set"))
    passed = all(report.passed for report in reports)
    if not printed_for_scripts({"passed": passed, "reports": [r.summary() for r in reports]}):
        for report in reports:
            _print_report(report)
    if not passed:
        failed = [f"{len(r.errors)} in {r.kind}" for r in reports if not r.passed]
        raise ValidationFailed(f"validation failed: {', '.join(failed)} (problems listed above)")


def _run(
    ctx: typer.Context,
    data: Path | None,
    against: str | None,
    training: Path | None,
    scoring: str | None,
    model: str | None,
    request: Path | None,
    rows: int | None,
    overrides: dict[str, str],
) -> list[ValidationReport]:
    from mlyard.client import validation

    reports = []
    if against is not None:
        assert data is not None
        reports.append(validation.validate_data(client_of(ctx), data, against))
    if training is not None:
        if for_people():  # a job may take a while: say what is going on
            say(f"running {training} locally{f' on {data}' if data else ''} …")
        reports.append(validation.validate_training(training, data, overrides))
    if scoring is not None:
        sample = None if request is not None else data
        reports.append(_scoring_report(ctx, scoring, model, sample, request, rows))
    return reports


def _scoring_report(
    ctx: typer.Context,
    scoring: str,
    model: str | None,
    data: Path | None,
    request: Path | None,
    rows: int | None,
) -> ValidationReport:
    """Scoring validation of a script or model folder, or of a registered model from the workspace."""
    from mlyard.client import validation

    if validation.is_registered_model(scoring):
        return validation.validate_registered_scoring(client_of(ctx), scoring, None, data, request, rows)
    if model is not None and validation.is_registered_model(model):
        return validation.validate_registered_scoring(
            client_of(ctx), model, Path(scoring), data, request, rows
        )
    return validation.validate_scoring(Path(scoring), data, request, Path(model) if model else None, rows)


def _print_report(report: ValidationReport) -> None:
    verdict = "passed" if report.passed else "FAILED"
    rows = f", {report.checked_rows} row(s)" if report.checked_rows is not None else ""
    against = f" against {report.details['against']}" if "against" in report.details else ""
    say(f"{report.kind} validation of {report.target}{against}{rows}: {verdict}")
    if report.problems:
        print_table(
            None,
            ["severity", "check", "column", "rows", "problem"],
            [[p.severity, p.check, p.column, p.rows, p.message] for p in report.problems],
        )
