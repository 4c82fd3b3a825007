"""What the monitor pages and the monitoring dashboard show, shaped from services/monitors: each
signal's metric history as chart data (one series per feature and metric, its threshold as a
dashed line, runs on a time axis), the reference and production histograms of the latest run as
bar heights, where each monitor stands (open alerts, signal errors) and the alert events it raised.
No rule lives here: values, thresholds and verdicts are the stored ones."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mlyard.entities.automation.event import MODEL_STALE, MONITOR_ALERT, MONITOR_RECOVERED, Event
from mlyard.entities.automation.monitor import Monitor, MonitorDetails, MonitorResult
from mlyard.services.events import outbox
from mlyard.services.monitors import alerts, monitors
from mlyard.services.workspaces.workspace import Workspace

EVENTS_SHOWN = 50
HISTORY_RUNS = 100  # runs per chart: the newest


@dataclass
class Bin:
    """One bin of a feature's histograms: its share of each side's rows (0–100) and bar heights
    scaled to the tallest bar of the pair of histograms."""

    label: str
    reference: float
    production: float
    reference_height: float = 0.0
    production_height: float = 0.0


@dataclass
class FeatureHistogram:
    signal: str
    feature: str
    metric: str
    breached: bool
    bins: list[Bin]


@dataclass
class MonitorStatus:
    """A monitor as the list shows it: its latest run, its breached signals, its signal errors."""

    monitor: Monitor
    details: MonitorDetails
    breached: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def word(self) -> str:
        if self.breached:
            return "breached"
        if self.errors:
            return "signal errors"
        return "ok" if self.details.latest_job else "never run"

    @property
    def data_assets(self) -> list[str]:
        """The data its signals read by name (`name:version`, or a path), production first."""
        found: list[str] = []
        for side in ("production_data", "reference_data"):
            for signal in self.monitor.spec.get("monitoring_signals", {}).values():
                path = ((signal.get(side) or {}).get("input_data") or {}).get("path")
                if isinstance(path, str) and path.removeprefix("azureml:") not in found:
                    found.append(path.removeprefix("azureml:"))
        return found


def status_of(
    workspace: Workspace, monitor: Monitor, runs: int = 1, states: list[alerts.AlertState] | None = None
) -> MonitorStatus:
    """`states`: the monitor's alert states when the caller read every monitor's at once."""
    details = monitors.show_monitor(workspace, monitor.name, runs=runs)
    if states is None:
        states = alerts.alert_states(workspace, monitor.name)
    breached = [s.signal for s in states if s.breached_since]
    errors = sorted({v.signal for v in details.verdicts if v.error})
    return MonitorStatus(monitor, details, breached, errors)


def statuses(workspace: Workspace) -> list[MonitorStatus]:
    """Every monitor's status, the alert states read in one query for all of them."""
    states = alerts.all_alert_states(workspace)
    return [status_of(workspace, m, states=states.get(m.name, [])) for m in monitors.list_monitors(workspace)]


def open_alerts(workspace: Workspace) -> list[alerts.AlertState]:
    """Every existing monitor's signals breached now (their alert raised and not recovered), oldest first."""
    names = {monitor.name for monitor in monitors.list_monitors(workspace)}
    found = [
        state
        for monitor, states in alerts.all_alert_states(workspace).items()
        if monitor in names
        for state in states
        if state.breached_since is not None
    ]
    return sorted(found, key=lambda state: state.breached_since or state.updated_at)


def monitor_events(workspace: Workspace, monitor: Monitor) -> list[Event]:
    """The alert, recovery and stale-model events this monitor raised, newest first."""
    subject = f"monitors/{monitor.name}/signals/*"
    found = outbox.list_events(workspace, [MONITOR_ALERT, MONITOR_RECOVERED], subject, limit=EVENTS_SHOWN)
    if monitor.model:
        stale = outbox.list_events(workspace, [MODEL_STALE], f"models/{monitor.model}", limit=EVENTS_SHOWN)
        found += [event for event in stale if event.data.get("MonitorName") == monitor.name]
    return sorted(found, key=lambda event: event.time, reverse=True)[:EVENTS_SHOWN]


def signal_charts(
    workspace: Workspace, name: str, verdicts: Iterable[MonitorResult], types: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """Per signal of the latest run (of `types`, if given): its history as uPlot data — x the ends
    of the runs' windows (epoch seconds), a series per feature and metric, a threshold series per
    metric."""
    wanted = set(types) if types is not None else None
    lines: dict[str, list[tuple[str, str]]] = {}
    kinds: dict[str, str] = {}
    for verdict in verdicts:
        if verdict.error or (wanted is not None and verdict.signal_type not in wanted):
            continue
        kinds[verdict.signal] = verdict.signal_type
        pair = (verdict.feature, verdict.metric)
        if pair not in lines.setdefault(verdict.signal, []):
            lines[verdict.signal].append(pair)
    charts = []
    for signal, pairs in lines.items():
        recorded = monitors.signal_histories(workspace, name, signal, limit=HISTORY_RUNS)
        histories = {pair: recorded.get(pair, []) for pair in pairs}
        charts.append(_chart(name, signal, kinds[signal], histories))
    return charts


def _chart(
    monitor: str, signal: str, kind: str, histories: dict[tuple[str, str], list[MonitorResult]]
) -> dict[str, Any]:
    # A run is placed at the end of the window it read (a retried or late run charts where its data
    # belongs), or when it ran if it read no window.
    times = {r.job_id: (r.window_end or r.created_at).timestamp() for rs in histories.values() for r in rs}
    jobs = sorted(times, key=lambda job: times[job])
    position = {job: index for index, job in enumerate(jobs)}
    metrics = sorted({metric for _, metric in histories})
    series: list[dict[str, Any]] = []
    thresholds: dict[str, list[float | None]] = {metric: [None] * len(jobs) for metric in metrics}
    for (feature, metric), rows in histories.items():
        values: list[float | None] = [None] * len(jobs)
        for row in rows:
            values[position[row.job_id]] = row.value
            if row.threshold is not None:
                thresholds[metric][position[row.job_id]] = row.threshold
        label = feature if len(metrics) == 1 else f"{feature} · {metric}"
        series.append({"label": label, "values": values, "threshold": False})
    for metric, values in thresholds.items():
        if any(value is not None for value in values):
            label = "threshold" if len(metrics) == 1 else f"threshold · {metric}"
            series.append({"label": label, "values": values, "threshold": True})
    return {"monitor": monitor, "signal": signal, "type": kind, "x": [times[job] for job in jobs],
            "jobs": jobs, "series": series}  # fmt: skip


def histograms(verdicts: Iterable[MonitorResult]) -> list[FeatureHistogram]:
    """Per signal and feature of the latest run, its compared histograms (the first metric's: every
    metric of a feature compares the same bins)."""
    shown: dict[tuple[str, str], FeatureHistogram] = {}
    for verdict in verdicts:
        key = (verdict.signal, verdict.feature)
        if verdict.reference_histogram is None or verdict.production_histogram is None:
            continue
        if key in shown:
            shown[key].breached = shown[key].breached or verdict.breached
            continue
        bins = _bins(verdict.reference_histogram, verdict.production_histogram)
        if bins:
            shown[key] = FeatureHistogram(
                verdict.signal, verdict.feature, verdict.metric, verdict.breached, bins
            )
    return list(shown.values())


def _bins(reference: dict[str, Any], production: dict[str, Any]) -> list[Bin]:
    labels = [str(label) for label in reference.get("bins") or []]
    ref_counts = _counts(reference, len(labels))
    prod_counts = _counts(production, len(labels))
    if not labels or ref_counts is None or prod_counts is None:
        return []  # not the shape the monitor run stores: nothing to draw
    ref_total, prod_total = sum(ref_counts) or 1, sum(prod_counts) or 1
    bins = [
        Bin(label, 100.0 * r / ref_total, 100.0 * p / prod_total)
        for label, r, p in zip(labels, ref_counts, prod_counts, strict=True)
    ]
    tallest = max((max(b.reference, b.production) for b in bins), default=0.0) or 1.0
    for b in bins:
        b.reference_height = round(100.0 * b.reference / tallest, 1)
        b.production_height = round(100.0 * b.production / tallest, 1)
    return bins


def _counts(histogram: dict[str, Any], size: int) -> list[float] | None:
    counts = histogram.get("counts")
    if not isinstance(counts, list) or len(counts) != size:
        return None
    try:
        return [max(0.0, float(count)) for count in counts]
    except (TypeError, ValueError):
        return None
