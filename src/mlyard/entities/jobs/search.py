"""The search language of jobs, as MLflow users write it: `metrics.mse < 3000 and params.alpha > 0.1`.

One grammar for every dialect (the SDK, the CLI and the REST API; the MLflow API's runs,
experiments and registry searches):

    filter  := clause (AND clause)*                  (OR is refused: MLflow has none either)
    clause  := [kind "."] key op value
    kind    := metrics | params | tags | attributes   (singular forms too)
    key     := word | `back-quoted` | "double-quoted"
    op      := = | != | <> | < | <= | > | >= | LIKE | ILIKE | IN | NOT IN
    value   := number | 'quoted' ('' escapes ') | "quoted" | ( 'a', 'b', … ) for IN
    order   := [kind "."] key [ASC | DESC]

`parse_terms` gives the clauses as written (`Term`); what they mean is the dialect's: jobs read
them with `parse_filter` below (a clause needs its kind; params compare as numbers when both
sides look like numbers), the MLflow API maps its own attribute names in `server/mlflow/search.py`.
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
OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN")
NUMBER_OPS = ("=", "!=", "<", "<=", ">", ">=")

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
_JOINER = re.compile(r"\s+(AND|OR)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Term:
    """One clause as written: kind (None when not given), key, operator, value."""

    kind: Kind | None
    key: str
    op: str
    value: float | str | tuple[str, ...]


@dataclass(frozen=True)
class Clause:
    """One condition on jobs; a dialect may also give a time (`start_time`) or strings for IN."""

    kind: Kind
    key: str
    op: str
    value: float | str | datetime | tuple[str, ...]


@dataclass(frozen=True)
class OrderTerm:
    kind: Kind
    key: str
    ascending: bool


@dataclass(frozen=True)
class WrittenOrder:
    """One order term as written: kind (None when not given), key, direction."""

    kind: Kind | None
    key: str
    ascending: bool


def parse_terms(text: str | None) -> list[Term]:
    """The clauses of a filter, each checked for shape but not for meaning."""
    if text is None or not text.strip():
        return []
    return [_term(part) for part in _split(text)]


def parse_order_terms(terms: list[str] | str | None) -> list[WrittenOrder]:
    """Order terms as written (`metrics.mse DESC`, `start_time`); one string may hold several."""
    if not terms:
        return []
    if isinstance(terms, str):
        terms = [t for t in terms.split(",") if t.strip()]
    ordered = []
    for text in terms:
        match = _ORDER.match(text)
        if match is None:
            raise InvalidArgument(
                f"invalid order_by {text!r}: expected e.g. 'metrics.mse ASC' or 'attributes.start_time DESC'"
            )
        kind = _kind(match["kind"], text) if match["kind"] else None
        ascending = (match["dir"] or "ASC").upper() == "ASC"
        ordered.append(WrittenOrder(kind, unquote_key(match["key"]), ascending))
    return ordered


def parse_filter(text: str | None) -> list[Clause]:
    """A job filter: every clause names its kind; attributes are job fields; metrics are numbers."""
    clauses = []
    for term in parse_terms(text):
        if term.kind is None:
            raise InvalidArgument(
                f"filter clause on {term.key!r} needs its kind: metrics.{term.key}, params.{term.key}, "
                f"tags.{term.key} or attributes.{term.key}"
            )
        if term.kind == "attributes" and term.key not in ATTRIBUTES:
            raise InvalidArgument(
                f"unknown attribute {term.key!r} in filter; valid ones are: {', '.join(ATTRIBUTES)}"
            )
        if term.kind == "metrics" and (not isinstance(term.value, float) or term.op not in NUMBER_OPS):
            raise InvalidArgument(f"metric {term.key!r} is compared with a number (=, !=, <, <=, >, >=)")
        if term.op in ("LIKE", "ILIKE") and not isinstance(term.value, str):
            raise InvalidArgument(f"{term.op} needs a quoted pattern, got {term.value!r}")
        clauses.append(Clause(kind=term.kind, key=term.key, op=term.op, value=term.value))
    return clauses


def parse_order_by(terms: list[str] | str | None) -> list[OrderTerm]:
    """Job order terms: each names its kind (`metrics.mse ASC`); attributes are job fields."""
    result = []
    for written in parse_order_terms(terms):
        if written.kind is None:
            raise InvalidArgument(
                f"invalid order_by {written.key!r}: expected e.g. 'metrics.mse ASC' or "
                "'attributes.start_time DESC'"
            )
        if written.kind == "attributes" and written.key not in ATTRIBUTES:
            raise InvalidArgument(
                f"unknown attribute {written.key!r} in order_by; valid ones are: {', '.join(ATTRIBUTES)}"
            )
        result.append(OrderTerm(kind=written.kind, key=written.key, ascending=written.ascending))
    return result


def unquote_key(key: str) -> str:
    return key[1:-1] if key[:1] in '`"' and key[-1:] == key[:1] and len(key) > 1 else key


def _split(text: str) -> list[str]:
    """Split on AND outside quotes and parentheses; OR is refused."""
    parts, start, quote, depth, i = [], 0, "", 0, 0
    while i < len(text):
        ch = text[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"`":
            quote = ch
        elif ch in "()":
            depth += 1 if ch == "(" else -1
        elif depth == 0 and (match := _JOINER.match(text, i)):
            if match[1].upper() == "OR":
                raise InvalidArgument(f"filter {text!r} uses OR; join clauses with AND only")
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
            "\"params.alpha = '0.5'\" or \"attributes.status = 'Completed'\""
        )
    kind = _kind(match["kind"], part) if match["kind"] else None
    op = " ".join(match["op"].upper().split()).replace("<>", "!=")
    return Term(kind=kind, key=unquote_key(match["key"]), op=op, value=_value(match["value"], op, part))


def _kind(text: str, context: str) -> Kind:
    kind = KINDS.get(text.lower())
    if kind is None:
        hint = (
            "filtering by datasets is not supported"
            if text.lower().startswith("dataset")
            else "use metrics., params., tags. or attributes."
        )
        raise InvalidArgument(f"unknown field kind {text!r} in {context.strip()!r}: {hint}")
    return kind


def _value(raw: str, op: str, context: str) -> float | str | tuple[str, ...]:
    if not raw:
        raise InvalidArgument(
            f'invalid filter clause {context.strip()!r}: {op} needs a value, e.g. "metrics.mse < 3000"'
        )
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
