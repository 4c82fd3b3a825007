"""Monitors (issue 14): what one monitor run concluded, metric by metric."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    """One metric of one feature of one signal of a monitor run."""
    signal: str
    signal_type: str
    feature: str
    metric: str
    value: float | None
    threshold: float | None
    breached: bool
    error: str | None = None
