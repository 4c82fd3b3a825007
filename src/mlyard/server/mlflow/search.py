"""MLflow's search language, turned into mlyard's `Clause` and `OrderTerm`, and its page tokens.

    metrics.mse < 3000 and params.alpha = '0.5' and tags.`team name` LIKE 'clin%'
    attributes.status IN ('FINISHED', 'FAILED') and run_name != 'smoke' and start_time > 1735689600000

A clause is `[kind.]key op value`: kind metrics, params, tags or attributes (the default); keys
with unusual characters in back-quotes or double quotes; values are 'quoted', numbers, or for
IN / NOT IN a parenthesised list. Clauses are joined by AND (MLflow has no OR).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass

from mlyard.entities.search import KINDS, Clause, Kind, OrderTerm
from mlyard.errors import InvalidArgument
from mlyard.server.mlflow.convert import MLFLOW_TO_STATUSES, USER_TAG, from_millis

_CLAUSE = re.compile(
    r"""\s*(?:(?P<kind>[A-Za-z_]+)\.)?(?P<key>`[^`]+`|"[^"]+"|[A-Za-z0-9_.\-/:]+?)\s*
        (?P<op>!=|<>|<=|>=|=|<|>|I?LIKE\b|(?:NOT\s+)?IN\b)\s*(?P<value>.*?)\s*$""",
    re.VERBOSE | re.IGNORECASE | re.DOTALL,
)
_NUMBER = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")
_STRING = re.compile(r"""^'((?:[^']|'')*)'$|^"([^"]*)"$""")
_ORDER = re.compile(
    r"""^\s*(?:(?P<kind>[A-Za-z_]+)\.)?(?P<key>`[^`]+`|"[^"]+"|[^\s`"]+)(?:\s+(?P<dir>ASC|DESC))?\s*$""",
    re.IGNORECASE,
)
_WORD = re.compile(r"\s+(AND|OR)\s+", re.IGNORECASE)

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
_NUMBER_OPS = ("=", "!=", "<", "<=", ">", ">=")
_TEXT_OPS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")


@dataclass(frozen=True)
class Term:
    """One clause as written: kind (None when not given), key, operator, value."""

    kind: Kind | None
    key: str
    op: str
    value: float | str | tuple[str, ...]


@dataclass(frozen=True)
class RunFilter:
    clauses: list[Clause]
    matches_nothing: bool = False  # e.g. lifecycle_stage = 'deleted': mlyard deletes no runs


def parse_terms(text: str | None) -> list[Term]:
    """The clauses of an MLflow filter, each checked for shape but not for meaning."""
    if text is None or not text.strip():
        return []
    return [_term(part) for part in _split(text)]


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
    for text in terms:
        match = _ORDER.match(text)
        if match is None:
            raise InvalidArgument(
                f"invalid order_by {text!r}: expected e.g. 'metrics.mse DESC' or 'start_time'"
            )
        kind = _kind(match["kind"], text) if match["kind"] else "attributes"
        key = _unquote_key(match["key"])
        ascending = (match["dir"] or "ASC").upper() == "ASC"
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
        ordered.append(OrderTerm(kind=kind, key=key, ascending=ascending))
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


def _split(text: str) -> list[str]:
    """Split on AND outside quotes and parentheses; OR is refused (MLflow has none either)."""
    parts, start, quote, depth, i = [], 0, "", 0, 0
    while i < len(text):
        ch = text[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"`":
            quote = ch
        elif ch in "()":
            depth += 1 if ch == "(" else -1
        elif depth == 0 and (match := _WORD.match(text, i)):
            if match[1].upper() == "OR":
                raise InvalidArgument(f"filter {text!r} uses OR; MLflow filters join clauses with AND only")
            parts.append(text[start:i])
            start = i = match.end()
            continue
        i += 1
    if quote:
        raise InvalidArgument(f"unterminated quote in filter {text!r}")
    parts.append(text[start:])
    return parts


def _term(part: str) -> Term:
    match = _CLAUSE.fullmatch(part)
    if match is None:
        raise InvalidArgument(
            f'invalid filter clause {part.strip()!r}: expected e.g. "metrics.mse < 3000", '
            "\"params.alpha = '0.5'\" or \"attributes.status = 'FINISHED'\""
        )
    kind = _kind(match["kind"], part) if match["kind"] else None
    op = " ".join(match["op"].upper().split()).replace("<>", "!=")
    return Term(kind=kind, key=_unquote_key(match["key"]), op=op, value=_value(match["value"], op, part))


def _kind(text: str, context: str) -> Kind:
    kind = KINDS.get(text.lower())
    if kind is None:
        hint = (
            "filtering by datasets is not supported"
            if text.lower().startswith("dataset")
            else ("use metrics., params., tags. or attributes.")
        )
        raise InvalidArgument(f"unknown field kind {text!r} in {context.strip()!r}: {hint}")
    return kind


def _unquote_key(key: str) -> str:
    return key[1:-1] if key[:1] in '`"' and key[-1:] == key[:1] and len(key) > 1 else key


def _value(raw: str, op: str, context: str) -> float | str | tuple[str, ...]:
    if op in ("IN", "NOT IN"):
        if not (raw.startswith("(") and raw.endswith(")")):
            raise InvalidArgument(f"{op} needs a parenthesised list of quoted values in {context.strip()!r}")
        items = [item.strip() for item in raw[1:-1].split(",") if item.strip()]
        strings = [_STRING.match(item) for item in items]
        if not items or not all(strings):
            raise InvalidArgument(f"{op} takes quoted values, e.g. ('a', 'b'), in {context.strip()!r}")
        return tuple(_string(found) for found in strings if found)
    found = _STRING.match(raw)
    if found:
        return _string(found)
    if _NUMBER.match(raw):
        return float(raw)
    raise InvalidArgument(f"invalid value {raw!r} in {context.strip()!r}: quote strings ('0.5'), not numbers")


def _string(match: re.Match[str]) -> str:
    return match[1].replace("''", "'") if match[1] is not None else match[2]


def _check_op(term: Term, kind: Kind) -> None:
    if kind == "metrics":
        if not isinstance(term.value, float) or term.op not in _NUMBER_OPS:
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
        if not isinstance(term.value, float) or term.op not in _NUMBER_OPS:
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
