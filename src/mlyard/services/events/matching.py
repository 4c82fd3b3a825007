"""Does an event match a filter? One rule for subscriptions and event triggers.

A filter maps `subject` or a field of the event's `data` to a value or a glob (`diabetes*`,
`models/*:3`); every entry must match. Data fields are found case-insensitively, so
`modelName` finds Azure's `ModelName`; a mapping field (tags) matches `field.key`.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from mlyard.entities.automation.event import short_name
from mlyard.entities.specs.spec_files import did_you_mean
from mlyard.errors import InvalidArgument
from mlyard.services.events.catalog import data_fields

SUBJECT = "subject"


def field_value(data: dict[str, Any], field: str) -> Any:
    """`data[field]`, found case-insensitively; `a.b` looks into a mapping field; None if absent."""
    head, _, rest = field.partition(".")
    value = data.get(head)
    if value is None:
        lowered = head.lower()
        value = next((v for k, v in data.items() if k.lower() == lowered), None)
    if rest:
        return field_value(value, rest) if isinstance(value, dict) else None
    return value


def matches(filter: dict[str, str], subject: str | None, data: dict[str, Any]) -> bool:
    for field, pattern in filter.items():
        value = subject if field == SUBJECT else field_value(data, field)
        if value is None or not fnmatchcase(_text(value), pattern):
            return False
    return True


def check_filter(filter: dict[str, str], types: list[str], where: str) -> dict[str, str]:
    """Refuse a filter naming a field none of `types` has (a typo would match nothing, silently)."""
    known = {SUBJECT}
    for event_type in types:
        known.update(data_fields(event_type))
    if not types:
        return dict(filter)
    lowered = {name.lower() for name in known}
    for field in filter:
        if field.partition(".")[0].lower() not in lowered:
            raise InvalidArgument(
                f"{where}: {field!r} is not a field of {', '.join(short_name(t) for t in types)} events"
                f"{did_you_mean(field, known)}; fields: {', '.join(sorted(known))}"
            )
    return dict(filter)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return value if isinstance(value, str) else str(value)
