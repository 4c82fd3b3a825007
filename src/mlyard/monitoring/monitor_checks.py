"""The statistics layer's check of a monitor's signals at create time, passed by the CLI, server
and SDK to services/monitors (which may not import this layer): the same `plan_signals` the
monitor job runs, so an unknown metric or kind, or a threshold of the wrong type, is refused with
its did-you-mean before anything is stored."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlyard.monitoring.signals import plan_signals


def check_signals(signals: Mapping[str, Any]) -> None:
    """Raise `InvalidArgument` naming `monitoring_signals.<name>.<field>` for the first problem."""
    if signals:
        plan_signals(signals)
