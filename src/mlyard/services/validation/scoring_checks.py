"""Scoring validation's rules: the sample request sent, and the response shape expected back.

The request is Azure ML's `input_data` shape (`{"input_data": {"columns", "index", "data"}}`), the
one its MLflow deployments and sample-request.json files use; a request file given instead is sent
as it is (its rows counted by the scoring runtime's own parser, `serving/inputs.py`).

A response passes when it is JSON (a str that holds JSON is read) with one prediction per row:

    a list                          [p1, p2, …]
    a dict with one list            {"predictions": [...]} or {"result": [...]}
    a dict of lists                 named outputs, {"label": [...], "probability": [...]}, each
                                    with one entry per row

Problems: `response_shape` (none of those), `response_rows` (a count that is not the request's
row count), `null_prediction` (empty predictions, counted).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mlyard.entities.governance.validation import ValidationProblem

if TYPE_CHECKING:
    import pandas as pd


def sample_request(frame: pd.DataFrame) -> bytes:
    """`frame` as an Azure ML `input_data` request body (empty values as null, dates in ISO 8601)."""
    split = json.loads(frame.to_json(orient="split", date_format="iso"))
    return json.dumps({"input_data": split}).encode()


def check_response(response: Any, rows: int | None) -> list[ValidationProblem]:
    """Every problem of a (JSON-plain) response to a request of `rows` rows."""
    if isinstance(response, str):
        try:
            response = json.loads(response)
        except ValueError:
            return [_shape_problem("a text that is not JSON")]
    outputs = _prediction_lists(response)
    if outputs is None:
        return [_shape_problem(_described(response))]
    problems: list[ValidationProblem] = []
    for name, predictions in outputs.items():
        label = f"output {name!r}" if name else "the response"
        if rows is not None and len(predictions) != rows:
            problems.append(
                ValidationProblem(
                    check="response_rows",
                    column=name or None,
                    rows=rows,
                    message=f"{label} has {len(predictions)} prediction(s) for {rows} row(s)",
                )
            )
        empty = sum(1 for p in predictions if p is None)
        if empty:
            problems.append(
                ValidationProblem(
                    check="null_prediction",
                    column=name or None,
                    rows=empty,
                    message=f"{label} has {empty} empty (null) prediction(s) of {len(predictions)}",
                )
            )
    return problems


def _prediction_lists(response: Any) -> dict[str, list[Any]] | None:
    """The response's predictions by output name ("" for a bare list); None for another shape."""
    if isinstance(response, list):
        return {"": response}
    if isinstance(response, dict) and response and all(isinstance(v, list) for v in response.values()):
        if len(response) == 1:
            return {"": next(iter(response.values()))}
        return {str(k): v for k, v in response.items()}
    return None


def _shape_problem(got: str) -> ValidationProblem:
    return ValidationProblem(
        check="response_shape",
        message=f"the response is {got}, not a list with one prediction per row "
        '(or {"predictions": [...]}, or one list per named output)',
    )


def _described(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return f"an object with keys {', '.join(map(str, list(value)[:5])) or 'none'}"
    return f"a {type(value).__name__} ({str(value)[:40]!r})"
