"""Unknown fields in a spec are reported and ignored, as Azure's CLI does — or refused when strict.

Azure's own samples carry the odd misspelt or retired setting, and `az ml` warns about such fields
and proceeds. `validate_spec` applies that one rule to every spec: an unknown field becomes a
warning (`job.yml: jobs.train.compte: unknown field, ignored (did you mean 'compute'?)`), while
wrong types and missing required fields stay errors.

Where the warnings go is the caller's choice, made once at its boundary with `checking_specs()`:
the CLI opens one per command and prints them on stderr, the server one per request and returns
them in the response. `strict` (the `--strict` option, `MLYARD_STRICT`, or the workspace setting
`strict_specs`, looked up only when there is something to report) turns them into `InvalidSpec`.
Outside any (a script calling the SDK) they are Python warnings of the class `SpecWarning`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

# How the warnings and the strict choice cross HTTP: the client asks for strict checks with the
# first header, the server answers the warnings as a JSON list of lines in the second (and adds
# them to a JSON object body as `warnings`).
STRICT_HEADER = "x-mlyard-strict-specs"
WARNINGS_HEADER = "x-mlyard-spec-warnings"


class SpecWarning(UserWarning):
    """A spec field that was ignored (unknown, or not honoured by mlyard)."""


@dataclass
class SpecChecks:
    """The warnings of one command or request, and whether they are errors instead."""

    strict: bool = False
    # Asked once, and only when an unknown field turns up: the workspace's `strict_specs` setting.
    strict_if: Callable[[], bool] | None = None
    warnings: list[str] = field(default_factory=list)

    def is_strict(self) -> bool:
        if not self.strict and self.strict_if is not None:
            ask, self.strict_if = self.strict_if, None  # cleared first: asking may check specs too
            self.strict = ask()
        return self.strict

    def add(self, message: str) -> None:
        if message not in self.warnings:  # the same spec may be checked on both sides of a request
            self.warnings.append(message)


# Set for the length of one CLI command or server request (contextvars follow a request into the
# worker thread that runs it, and keep concurrent requests apart).
_active: ContextVar[SpecChecks | None] = ContextVar("mlyard_spec_checks", default=None)


@contextmanager
def checking_specs(strict: bool = False) -> Iterator[SpecChecks]:
    """Collect spec warnings until the block ends (nested blocks share the outer collection)."""
    outer = _active.get()
    if outer is not None:
        outer.strict = outer.strict or strict
        yield outer
        return
    checks = SpecChecks(strict=strict)
    token = _active.set(checks)
    try:
        yield checks
    finally:
        _active.reset(token)


def active_checks() -> SpecChecks | None:
    """The collection of the running command or request, if one was opened."""
    return _active.get()


def specs_are_strict() -> bool:
    """Whether an unknown field is an error here (False outside any `checking_specs`)."""
    checks = _active.get()
    return checks is not None and checks.is_strict()


def warn_spec(message: str) -> None:
    """Report an ignored field: to the running command or request, else as a Python warning."""
    checks = _active.get()
    if checks is not None:
        checks.add(message)
    else:
        warnings.warn(message, SpecWarning, stacklevel=3)
