"""One search grammar for the SDK, the CLI, the REST API and the MLflow API."""

from __future__ import annotations

import pytest

from mlyard.entities.jobs.search import Clause, OrderTerm, Term, parse_filter, parse_order_by, parse_terms
from mlyard.errors import InvalidArgument
from mlyard.server.mlflow.search import run_filter, run_order


def test_both_dialects_read_the_same_clauses_the_same_way() -> None:
    text = "metrics.mse < 3000 and params.`learning rate` = '0.5' and tags.team IN ('a', 'b''s')"
    expected = [
        Clause("metrics", "mse", "<", 3000.0),
        Clause("params", "learning rate", "=", "0.5"),
        Clause("tags", "team", "IN", ("a", "b's")),
    ]
    assert parse_filter(text) == expected
    assert run_filter(text).clauses == expected


def test_terms_keep_what_was_written() -> None:
    assert parse_terms('tags."odd key" <> "x" AND run_name NOT IN (\'a\')') == [
        Term("tags", "odd key", "!=", "x"),
        Term(None, "run_name", "NOT IN", ("a",)),
    ]


def test_the_dialects_differ_only_in_meaning() -> None:
    # A bare key is a run attribute for MLflow; a job filter asks for its kind.
    assert run_filter("run_name = 'smoke'").clauses == [Clause("attributes", "display_name", "=", "smoke")]
    with pytest.raises(InvalidArgument, match="needs its kind: metrics.run_name"):
        parse_filter("run_name = 'smoke'")
    assert run_order(["start_time DESC"]) == [OrderTerm("attributes", "start_time", False)]
    assert parse_order_by("metrics.mse, params.alpha DESC") == [
        OrderTerm("metrics", "mse", True),
        OrderTerm("params", "alpha", False),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics.mse <", "invalid filter clause 'metrics.mse <': < needs a value"),
        ("metrics.mse < 1 or metrics.mse > 5", "uses OR; join clauses with AND only"),
        ("metrics.mse = 'x'", "metric 'mse' is compared with a number"),
        ("params.a = 'x", "unterminated quote"),
        ("datasets.name = 'x'", "filtering by datasets is not supported"),
        ("tags.t IN 'a'", "IN needs a parenthesised list"),
    ],
)
def test_bad_filters_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        parse_filter(text)
