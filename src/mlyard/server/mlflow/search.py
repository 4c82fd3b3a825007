"""MLflow's search language read with mlyard's meanings, and MLflow's page tokens.

    metrics.mse < 3000 and params.alpha = '0.5' and tags.`team name` LIKE 'clin%'
    attributes.status IN ('FINISHED', 'FAILED') and run_name != 'smoke' and start_time > 1735689600000

The grammar is mlyard's one (`entities/jobs/search.py`); what differs is the meaning: a clause
without a kind is a run attribute, attributes have MLflow's names (`run_name`, `user_id`,
`lifecycle_stage`, times in epoch milliseconds), statuses MLflow's (`FINISHED`), and params and
tags compare as text.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass

from mlyard.entities.jobs.search import (
    NUMBER_OPS,
    Clause,
    Kind,
    OrderTerm,
    Term,
    parse_order_terms,
    parse_terms,
)
from mlyard.errors import InvalidArgument
from mlyard.server.mlflow.convert import MLFLOW_TO_STATUSES, USER_TAG, from_millis

# Run attributes as MLflow names them → ours (None: answered below, not a column).
_RUN_ATTRIBUTES = {
    "run_id": "id",
    "run_name": "display_name",
    "status": "status",
    "start_time": "start_time",
    "end_time": "end_time",
    "created": "start_time",
    "user_id": None,
    "lifecycle_stage": None,
}
_TIME_ATTRIBUTES = ("start_time", "end_time")
_TEXT_OPS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")


@dataclass(frozen=True)
class RunFilter:
    clauses: list[Clause]
    matches_nothing: bool = False  # e.g. lifecycle_stage = 'deleted': mlyard deletes no runs


def run_filter(text: str | None) -> RunFilter:
    """An MLflow runs filter as mlyard clauses over jobs."""
    clauses: list[Clause] = []
    nothing = False
    for term in parse_terms(text):
        kind = term.kind or "attributes"
        if kind == "attributes":
            clause, excluded = _run_attribute(term)
            nothing = nothing or excluded
            if clause is not None:
                clauses.append(clause)
            continue
        _check_op(term, kind)
        clauses.append(Clause(kind=kind, key=term.key, op=term.op, value=term.value))
    return RunFilter(clauses, nothing)


def run_order(terms: list[str]) -> list[OrderTerm]:
    """MLflow's order_by (`metrics.mse DESC`, `start_time`) as mlyard order terms."""
    ordered = []
    for written in parse_order_terms(terms):
        kind, key = written.kind or "attributes", written.key
        if kind == "attributes":
            if key == "user_id":
                kind, key = "tags", USER_TAG
            elif _RUN_ATTRIBUTES.get(key) is None:
                raise InvalidArgument(
                    f"cannot order runs by attribute {key!r}; use one of: start_time, end_time, run_name, "
                    "run_id, status, user_id, or a metrics., params. or tags. key"
                )
            else:
                key = str(_RUN_ATTRIBUTES[key])
        ordered.append(OrderTerm(kind=kind, key=key, ascending=written.ascending))
    return ordered


def one_more(max_results: int, cap: int) -> int:
    """How many results to ask for: one beyond the page tells whether another page follows."""
    return min(max_results + 1, cap)


def next_token(found: int, max_results: int, offset: int, cap: int) -> str | None:
    """The next page's token when `found` results (asked for with `one_more`) leave some over."""
    more = found > max_results or found == max_results == cap
    return page_token(offset + max_results) if more else None


def page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def page_offset(token: str | None) -> int:
    """The offset a page token stands for (0 without one)."""
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, KeyError, TypeError):
        raise InvalidArgument(
            f"invalid page_token {token[:40]!r}: pass the next_page_token of the previous page"
        ) from None
    if not isinstance(offset, int) or offset < 0:
        raise InvalidArgument(
            f"invalid page_token {token[:40]!r}: pass the next_page_token of the previous page"
        )
    return offset


def like(pattern: str, text: str, case_insensitive: bool = False) -> bool:
    """SQL LIKE (`%` any run, `_` one character) on one value."""
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, text, re.IGNORECASE | re.DOTALL if case_insensitive else re.DOTALL) is not None


def matches(term: Term, value: str | None) -> bool:
    """Whether one text value satisfies an =, !=, LIKE, ILIKE, IN or NOT IN term (for small lists)."""
    if value is None:
        return term.op in ("!=", "NOT IN")
    if term.op in ("IN", "NOT IN"):
        return (value in term.value) == (term.op == "IN")  # type: ignore[operator]
    wanted = str(term.value)
    results = {
        "=": value == wanted,
        "!=": value != wanted,
        "LIKE": like(wanted, value),
        "ILIKE": like(wanted, value, case_insensitive=True),
    }
    if term.op not in results:
        raise InvalidArgument(f"operator {term.op} cannot compare {term.key!r} here; use =, != or LIKE")
    return results[term.op]


# --- helpers -----------------------------------------------------------------------------------


def _check_op(term: Term, kind: Kind) -> None:
    if kind == "metrics":
        if not isinstance(term.value, float) or term.op not in NUMBER_OPS:
            raise InvalidArgument(f"metric {term.key!r} is compared with a number (=, !=, <, <=, >, >=)")
    elif isinstance(term.value, float) or term.op not in _TEXT_OPS:
        raise InvalidArgument(
            f"{kind.rstrip('s')} {term.key!r} is text: compare it with a quoted value using =, !=, LIKE, "
            "ILIKE, IN or NOT IN"
        )


def _run_attribute(term: Term) -> tuple[Clause | None, bool]:
    """One attribute clause as a clause over jobs, or (None, matches nothing?) when it needs none."""
    if term.key not in _RUN_ATTRIBUTES:
        raise InvalidArgument(
            f"unknown run attribute {term.key!r} in filter; valid ones are: {', '.join(_RUN_ATTRIBUTES)}"
        )
    if term.key == "lifecycle_stage":
        return None, not matches(term, "active")
    if term.key == "user_id":
        _check_op(term, "tags")
        return Clause(kind="tags", key=USER_TAG, op=term.op, value=term.value), False
    column = str(_RUN_ATTRIBUTES[term.key])
    if column in _TIME_ATTRIBUTES:
        if not isinstance(term.value, float) or term.op not in NUMBER_OPS:
            raise InvalidArgument(
                f"{term.key} is compared with milliseconds since the epoch, e.g. > 1735689600000"
            )
        return Clause("attributes", column, term.op, from_millis(int(term.value))), False
    _check_op(term, "tags")
    if column == "status":
        return _status_clause(term), False
    return Clause("attributes", column, term.op, term.value), False


def _status_clause(term: Term) -> Clause:
    names = term.value if isinstance(term.value, tuple) else (str(term.value),)
    if term.op not in ("=", "!=", "IN", "NOT IN"):
        raise InvalidArgument("status is compared with =, != or IN ('FINISHED', 'FAILED', …)")
    statuses: list[str] = []
    for name in names:
        if name.upper() not in MLFLOW_TO_STATUSES:
            raise InvalidArgument(
                f"unknown run status {name!r}; statuses are: {', '.join(MLFLOW_TO_STATUSES)}"
            )
        statuses.extend(status.value for status in MLFLOW_TO_STATUSES[name.upper()])
    negated = term.op in ("!=", "NOT IN")
    return Clause("attributes", "status", "NOT IN" if negated else "IN", tuple(statuses))
