"""A sweep job's trials for the studio: each trial's sampled values and its value of the sweep's
objective, in trial order, for the trials table, the parallel-coordinates chart and the
objective-vs-trial chart."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from mlyard.entities.jobs.job import Job


@dataclass
class SweepTrials:
    """What the sweep page shows. `metric` and `goal` are None for a sweep without a spec (a run
    logged as a sweep by a client): its trials are listed, but nothing ranks them."""

    metric: str | None
    goal: str | None
    params: list[str]
    trials: list[Job]
    best: str | None = None
    chart: dict[str, Any] = field(default_factory=dict)

    def value(self, trial: Job) -> float | None:
        """The trial's objective: its latest value of the primary metric (None when not logged)."""
        return trial.metrics.get(self.metric) if self.metric else None


def sweep_trials(sweep: Job, spec: dict[str, Any] | None, children: list[Job]) -> SweepTrials:
    """The trials of `sweep` (its children, oldest first) scored by the objective of its `spec`."""
    objective = (spec or {}).get("objective") or {}
    metric = objective.get("primary_metric") if isinstance(objective, dict) else None
    goal = str(objective.get("goal", "minimize")).lower() if metric else None
    trials = sorted(children, key=lambda job: (job.created_at, job.id))
    declared = list(((spec or {}).get("search_space") or {}).keys())
    sampled = sorted({key for trial in trials for key in trial.params} - set(declared))
    # The searched params first, in the spec's order; then inputs and whatever else trials logged.
    params = declared + sampled if declared else sampled
    view = SweepTrials(metric, goal, params, trials)
    view.best = sweep.tags.get("best_child_run_id") or _best(view)
    view.chart = {
        "metric": metric,
        "goal": goal,
        "params": declared or sampled,
        "trials": [
            {
                "number": number,
                "id": trial.id,
                "status": trial.status.value,
                "params": {key: trial.params.get(key) for key in declared or sampled},
                "value": _finite(view.value(trial)),
            }
            for number, trial in enumerate(trials)
        ],
    }
    return view


def _finite(value: float | None) -> float | None:
    """JSON has no NaN: a diverged trial has no value to draw."""
    return value if value is not None and math.isfinite(value) else None


def _best(view: SweepTrials) -> str | None:
    """The best trial so far of a sweep still running (a finished one names it in a tag)."""
    scored = [(value, trial.id) for trial in view.trials if (value := _finite(view.value(trial))) is not None]
    if not scored:
        return None
    return (max(scored) if view.goal == "maximize" else min(scored))[1]
