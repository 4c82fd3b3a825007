"""The job search language, as MLflow users write it: `metrics.mse < 3000 and params.alpha > 0.1`.

A filter is clauses joined by `and`; a clause is `<kind>.<key> <op> <value>` where kind is
`metrics`, `params`, `tags` or `attributes` (singular forms too), a key with unusual characters is
back-quoted (metrics.`val loss`), op is one of = != < <= > >= LIKE ILIKE, and value is a number or
a quoted string. Order terms are `<kind>.<key> [ASC|DESC]`.

Other dialects (the MLflow API's filters) are parsed elsewhere into the same `Clause`s, which may
also hold a time (for `start_time`, `end_time`, `created_at`) or a tuple of strings (for `IN`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from mlyard.errors import InvalidArgument

Kind = Literal["metrics", "params", "tags", "attributes"]
KINDS: dict[str, Kind] = {
    "metric": "metrics",
    "metrics": "metrics",
    "param": "params",
    "params": "params",
    "parameter": "params",
    "parameters": "params",
    "tag": "tags",
    "tags": "tags",
    "attribute": "attributes",
    "attributes": "attributes",
    "attr": "attributes",
}
ATTRIBUTES = (
    "id",
    "status",
    "experiment",
    "display_name",
    "type",
    "created_at",
    "start_time",
    "end_time",
    "parent_job_id",
)
OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE")

_CLAUSE = re.compile(
    r"""\s*(?P<kind>[A-Za-z_]+)\.(?:`(?P<qkey>[^`]+)`|(?P<key>[A-Za-z0-9_.\-/:]+))\s*
        (?P<op>!=|<=|>=|=|<|>|(?i:ilike)|(?i:like))\s*
        (?P<value>'(?:[^']*)'|"(?:[^"]*)"|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*""",
    re.VERBOSE,
)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Clause:
    kind: Kind
    key: str
    op: str
    value: float | str | datetime | tuple[str, ...]


@dataclass(frozen=True)
class OrderTerm:
    kind: Kind
    key: str
    ascending: bool


def parse_filter(text: str | None) -> list[Clause]:
    if text is None or not text.strip():
        return []
    clauses = []
    for part in _split_and(text):
        match = _CLAUSE.fullmatch(part)
        if match is None:
            raise InvalidArgument(
                f'invalid filter clause {part.strip()!r}: expected e.g. "metrics.mse < 3000", '
                "\"params.alpha = '0.5'\" or \"attributes.status = 'Completed'\""
            )
        kind = _kind(match["kind"], part)
        key = match["qkey"] or match["key"]
        raw = match["value"]
        value: float | str = raw[1:-1] if raw[0] in "'\"" else float(raw)
        op = match["op"].upper()
        if kind == "attributes" and key not in ATTRIBUTES:
            raise InvalidArgument(
                f"unknown attribute {key!r} in filter; valid ones are: {', '.join(ATTRIBUTES)}"
            )
        if kind == "metrics" and isinstance(value, str):
            raise InvalidArgument(f"metric {key!r} is compared with a number, got {raw}")
        if op in ("LIKE", "ILIKE") and not isinstance(value, str):
            raise InvalidArgument(f"{op} needs a quoted pattern, got {raw}")
        clauses.append(Clause(kind=kind, key=key, op=op, value=value))
    return clauses


def parse_order_by(terms: list[str] | str | None) -> list[OrderTerm]:
    if not terms:
        return []
    if isinstance(terms, str):
        terms = [t for t in terms.split(",") if t.strip()]
    result = []
    for term in terms:
        words = term.strip().split()
        direction = words[-1].upper() if len(words) > 1 else "ASC"
        if len(words) > 2 or direction not in ("ASC", "DESC") or "." not in words[0]:
            raise InvalidArgument(
                f"invalid order_by {term!r}: expected e.g. 'metrics.mse ASC' or 'attributes.start_time DESC'"
            )
        kind_text, _, key = words[0].partition(".")
        kind = _kind(kind_text, term)
        key = key.strip("`")
        if kind == "attributes" and key not in ATTRIBUTES:
            raise InvalidArgument(
                f"unknown attribute {key!r} in order_by; valid ones are: {', '.join(ATTRIBUTES)}"
            )
        result.append(OrderTerm(kind=kind, key=key, ascending=direction == "ASC"))
    return result


def _kind(text: str, context: str) -> Kind:
    kind = KINDS.get(text.lower())
    if kind is None:
        raise InvalidArgument(
            f"unknown field kind {text!r} in {context.strip()!r}; use metrics., params., tags. or attributes."
        )
    return kind


def _split_and(text: str) -> list[str]:
    """Split on `and` outside quotes and back-quotes."""
    parts, start, quote = [], 0, ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
        else:
            match = _AND.match(text, i)
            if match and i > start:
                parts.append(text[start:i])
                start = i = match.end()
                continue
        i += 1
    if quote:
        raise InvalidArgument(f"unterminated quote in filter {text!r}")
    parts.append(text[start:])
    return parts
