"""Event types as users name them: full names, or the short form without the prefix."""

from __future__ import annotations

from mlyard.entities.automation.event import EVENT_TYPES, short_name
from mlyard.entities.specs.spec_files import did_you_mean
from mlyard.errors import InvalidArgument

_BY_SHORT = {short_name(name): name for name in EVENT_TYPES}


def resolve_type(name: str, where: str = "event type") -> str:
    """The full name of an event type (`ModelRegistered` → `Microsoft.MachineLearningServices.
    ModelRegistered`); `InvalidArgument` naming `where` for a type mlyard never emits."""
    if name in EVENT_TYPES:
        return name
    found = _BY_SHORT.get(name)
    if found is not None:
        return found
    hint = did_you_mean(short_name(name), _BY_SHORT)
    raise InvalidArgument(
        f"{where}: unknown event type {name!r}{hint}; known types: {', '.join(sorted(_BY_SHORT))}"
    )


def resolve_types(names: list[str], where: str = "types") -> list[str]:
    return list(dict.fromkeys(resolve_type(name, where) for name in names))


def data_fields(event_type: str) -> tuple[str, ...]:
    return EVENT_TYPES.get(event_type, ())
