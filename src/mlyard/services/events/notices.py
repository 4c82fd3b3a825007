"""Email text for the events an operator acts on: a monitor's alert and recovery, a stale model.

Other events are mailed as their fields (`senders.email_message`); these say what happened, the
values against their thresholds, the run, and the commands to look further.
"""

from __future__ import annotations

from typing import Any

from mlyard.entities.automation.event import MODEL_STALE, MONITOR_ALERT, MONITOR_RECOVERED, Event


def notice(event: Event) -> tuple[str, list[str]] | None:
    """The subject and body lines of `event`'s email; None for an event with no notice of its own."""
    data = event.data
    if event.type == MONITOR_ALERT:
        features = data.get("Features") or []
        subject = (
            f"[mlyard] ALERT monitor {data.get('MonitorName')}: {data.get('SignalName')} "
            f"breached on {len(features)} metric(s)"
        )
        lines = [
            f"Monitor {data.get('MonitorName')}: signal {data.get('SignalName')} ({data.get('SignalType')}) "
            f"crossed its thresholds in monitor run {data.get('JobId')}.",
            *_model(data),
            "",
            *_table(features),
            "",
            "This is the only mail while the signal stays breached; one more comes when it recovers.",
        ]
        return subject, lines + _look(data)
    if event.type == MONITOR_RECOVERED:
        subject = f"[mlyard] recovered monitor {data.get('MonitorName')}: {data.get('SignalName')}"
        lines = [
            f"Monitor {data.get('MonitorName')}: signal {data.get('SignalName')} ({data.get('SignalType')}) "
            f"is back within its thresholds in monitor run {data.get('JobId')}.",
            f"It had been breached since {data.get('BreachedSince')} (run {data.get('BreachJobId')}).",
            *_model(data),
            "",
            *_table(data.get("Features") or []),
        ]
        return subject, lines + _look(data)
    if event.type == MODEL_STALE:
        model = f"{data.get('ModelName')}:{data.get('ModelVersion')}"
        subject = f"[mlyard] model {model} is stale: trained {_number(data.get('AgeDays'))} days ago"
        lines = [
            f"Model {model}, watched by monitor {data.get('MonitorName')}, was trained "
            f"{_number(data.get('AgeDays'))} days before the monitored window; the limit is "
            f"{_number(data.get('MaxAgeDays'))} days (signal {data.get('SignalName')}, "
            f"run {data.get('JobId')}).",
            "Retrain it, or raise max_age_days. This is the only mail while it stays stale.",
        ]
        return subject, lines + _look(data)
    return None


def _table(features: list[dict[str, Any]]) -> list[str]:
    rows = [["feature", "metric", "value", "threshold"]]
    for f in features:
        rows.append([str(f.get("feature")), str(f.get("metric")), _number(f.get("value")),
                     _number(f.get("threshold"))])  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return ["  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows]  # fmt: skip


def _model(data: dict[str, Any]) -> list[str]:
    if not data.get("ModelName"):
        return []
    return [f"Model: {data['ModelName']}:{data.get('ModelVersion') or '?'}"]


def _look(data: dict[str, Any]) -> list[str]:
    return [
        "",
        "Look further with:",
        f"  mlyard monitor show --name {data.get('MonitorName')}",
        f"  mlyard job show {data.get('JobId')}",
    ]


def _number(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
