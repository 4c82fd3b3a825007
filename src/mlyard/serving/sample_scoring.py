"""Scoring validation: a scoring script or a model folder scores sample rows in this process.

`validate_scoring` loads a `score.py` (Azure ML's `init()`/`run(raw_data)`, `serving/score_script`)
or a model folder (by its flavor, `serving/scorers`), sends it one request — the first rows of a
data file in Azure's `input_data` shape, or a request file as it is — and checks the response with
`services/validation/scoring_checks`. What the user's code raises (in init(), loading, run() or
predict) becomes a problem in the report, not a traceback: the report is what CI reads.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlyard.entities.governance.validation import ValidationProblem, ValidationReport
from mlyard.entities.registry.data import DataType
from mlyard.errors import InvalidArgument, MlyardError, NotFound
from mlyard.services.data_assets.tabular import read_table
from mlyard.services.validation.scoring_checks import check_response, sample_request

if TYPE_CHECKING:
    import pandas as pd

    from mlyard.serving.schema import InputSchema

DEFAULT_SAMPLE_ROWS = 5
PREVIEW = 5


def validate_scoring(
    target: Path,
    data: Path | None = None,
    request: Path | None = None,
    model_dir: Path | None = None,
    rows: int | None = None,
) -> ValidationReport:
    """Score a sample with `target` (a .py scoring script, or a model folder) and check the answer;
    `rows` is how many rows of `data` to send (default DEFAULT_SAMPLE_ROWS)."""
    sample = _sample(data, request, DEFAULT_SAMPLE_ROWS if rows is None else rows)
    report = ValidationReport(kind="scoring", target=str(target))
    cwd, path = Path.cwd(), list(sys.path)
    started = time.perf_counter()
    # A scoring script moves to its folder and extends sys.path, as Azure's runtime does; what it
    # prints goes to stderr, so stdout stays the report a script reads (`-o json`).
    try:
        with contextlib.redirect_stdout(sys.stderr):
            response, request_rows = _score(target, model_dir, sample, report)
    finally:
        os.chdir(cwd)
        sys.path[:] = path
    report.checked_rows = request_rows
    report.details["seconds"] = round(time.perf_counter() - started, 3)
    if response is not _FAILED:
        plain = _plain(response, report)
        if plain is not _FAILED:
            report.problems += check_response(plain, request_rows)
            report.details["response_preview"] = plain[:PREVIEW] if isinstance(plain, list) else plain
    return report


_FAILED: Any = object()  # the user's code raised; the report already says how


def _sample(data: Path | None, request: Path | None, rows: int) -> bytes | pd.DataFrame:
    """What to score: a request file's bytes as they are, or the first `rows` rows of `data`."""
    if (data is None) == (request is None):
        raise InvalidArgument(
            "scoring validation needs sample rows: give --data FILE or --request FILE (one of them)"
        )
    if request is not None:
        if not request.is_file():
            raise NotFound(f"request file {request} does not exist")
        return request.read_bytes()
    assert data is not None
    if not data.exists():
        raise NotFound(f"data file {data} does not exist")
    if rows < 1:
        raise InvalidArgument(f"--rows must be at least 1, not {rows}")
    frame = read_table(data, DataType.URI_FOLDER if data.is_dir() else DataType.URI_FILE)
    if frame is None:
        raise InvalidArgument(f"data file {data} is not a table: give a .csv, .tsv, .parquet or .jsonl file")
    return frame.head(rows)


def _score(
    target: Path, model_dir: Path | None, sample: bytes | pd.DataFrame, report: ValidationReport
) -> tuple[Any, int | None]:
    """The response to `body`, and the request's row count; (_FAILED, rows) when the user's code raised."""
    from mlyard.serving.inputs import parse_scoring_request

    if target.is_file():
        body = sample if isinstance(sample, bytes) else sample_request(sample)
        return _score_with_script(target, model_dir, body, report)
    if not target.is_dir():
        raise NotFound(f"scoring script or model folder {target} does not exist")
    from mlyard.serving.scorers import load_scorer, model_flavor

    model_flavor(target)  # a folder that is no model at all is the command's error (exit 3)
    scorer = _guarded(report, "load", lambda: load_scorer(target.resolve()))
    if scorer is _FAILED:
        return _FAILED, None
    body = sample if isinstance(sample, bytes) else sample_request(_model_columns(sample, scorer.schema))
    batch = _guarded(report, "input", lambda: parse_scoring_request(body, scorer.schema))
    if batch is _FAILED:  # the sample does not fit the model's signature
        return _FAILED, None
    return _guarded(report, "run", lambda: scorer.predict(batch)), batch.rows


def _model_columns(frame: pd.DataFrame, schema: InputSchema | None) -> pd.DataFrame:
    """The sample's columns the model's signature names (a sample holds the target and ids too);
    all of them when the signature names none. A column the sample lacks stays missing, for the
    runtime to name."""
    if schema is None or not schema.names:
        return frame
    return frame[[name for name in schema.names if name in frame.columns]]


def _score_with_script(
    script: Path, model_dir: Path | None, body: bytes, report: ValidationReport
) -> tuple[Any, int | None]:
    from mlyard.serving.inputs import parse_scoring_request
    from mlyard.serving.score_script import ScoringScript

    if script.suffix != ".py":
        raise InvalidArgument(f"scoring script {script} is not a .py file (or give a model folder)")
    try:  # a score.py reads any body; the count is known when it is a shape the runtime knows
        request_rows: int | None = parse_scoring_request(body, None).rows
    except MlyardError:
        request_rows = None
    folder = (model_dir or script.parent).resolve()
    if model_dir is not None and not folder.is_dir():
        raise NotFound(f"model folder {model_dir} does not exist")
    loaded = ScoringScript(script.resolve(), folder)
    if _guarded(report, "init", loaded.load) is _FAILED:
        return _FAILED, request_rows
    headers = {"Content-Type": "application/json"}
    return _guarded(report, "run", lambda: loaded.run(body, headers)), request_rows


def _guarded(report: ValidationReport, step: str, call: Any) -> Any:
    """`call()`, or _FAILED with a problem naming the step and the exception's last frame."""
    try:
        return call()
    except MlyardError as exc:  # e.g. a script without run(), a batch the model refuses
        report.problems.append(ValidationProblem(check=step, message=exc.message))
        return _FAILED
    except Exception as exc:  # noqa: BLE001 - the user's code may raise anything; the report says what
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        where = f" ({Path(frame.filename).name}, line {frame.lineno})"
        report.problems.append(
            ValidationProblem(check=step, message=f"{step} raised {type(exc).__name__}: {exc}{where}")
        )
        return _FAILED


def _plain(response: Any, report: ValidationReport) -> Any:
    """The response as JSON values, as an endpoint would send it; _FAILED when it has no JSON form."""
    import orjson

    from mlyard.serving.outputs import to_json

    try:
        return orjson.loads(to_json(response))
    except TypeError as exc:
        report.problems.append(
            ValidationProblem(check="response_shape", message=f"the response cannot be sent as JSON: {exc}")
        )
        return _FAILED
