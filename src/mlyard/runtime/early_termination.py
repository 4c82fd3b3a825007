"""Early termination of sweep trials: Azure ML's bandit, median stopping and truncation selection.

Each rule is a pure decision over what the trials have reported so far: `should_stop(trial_id,
histories)` answers None (keep going) or the reason to stop, such as
"bandit: 0.62 at interval 4 is outside slack_factor 0.1 of the best 0.81 (limit 0.736)".

Intervals are counted as Azure ML counts them: each report of the primary metric is one interval,
whatever `step` it was logged with (`mlyard.log_metric(name, value)` logs step 0 every time). A
trial is judged at its latest interval n, and only when n is a multiple of `evaluation_interval`
and at least `delay_evaluation`. Other trials are compared on what they had reported by interval
n (a trial that is further along is not favoured for having trained longer); a trial with fewer
reports takes part with what it has. Call `should_stop` each time a trial reports the metric.

Values are compared by their best so far (highest when maximizing, lowest when minimizing):
- bandit: stop when the trial's best is outside the slack of the best trial's best. With a
  slack_factor f the limit is best / (1 + f) when maximizing and best × (1 + f) when minimizing
  (Azure ML's formulas; for negative metrics the same distance, |best| f / (1 + f) or |best| f, is
  applied on the worse side); with a slack_amount a, best - a or best + a.
- median stopping: stop when the trial's best is worse than the median of every trial's running
  average (the mean of its reports up to interval n).
- truncation selection: rank the trials by their best and stop the trial when it is among the
  lowest `truncation_percentage` percent; the count is rounded down (20 % of 4 trials stops none)
  and ties go the trial's way. `exclude_finished_jobs` leaves finished trials out of the ranking.

A finished trial is never stopped; NaN reports are ignored.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, assert_never

from mlyard.entities.jobs.sweep_spec import (
    BanditPolicy,
    MedianStoppingPolicy,
    SweepJobSpec,
    TruncationSelectionPolicy,
)

Goal = Literal["minimize", "maximize"]


@dataclass(frozen=True)
class TrialHistory:
    """The primary metric one trial reported, as (step, value) pairs in the order reported."""

    points: Sequence[tuple[int, float]]
    finished: bool = False

    def values(self, upto: int | None = None) -> list[float]:
        """The reported values (NaN left out), the first `upto` of them when given."""
        values = [float(value) for _, value in self.points if not math.isnan(value)]
        return values if upto is None else values[:upto]


Histories = Mapping[str, TrialHistory]


class TerminationRule(Protocol):
    def should_stop(self, trial_id: str, histories: Histories) -> str | None:
        """The reason to stop `trial_id` now, or None to let it run on."""
        ...


@dataclass(frozen=True)
class _Schedule:
    """When a rule judges a trial, and what "best" and "worse" mean for the goal."""

    goal: Goal
    evaluation_interval: int = 1
    delay_evaluation: int = 0

    def due(self, trial_id: str, histories: Histories) -> int | None:
        """The interval to judge `trial_id` at now, or None when it is not to be judged."""
        history = histories[trial_id]
        interval = len(history.values())
        every = max(1, self.evaluation_interval)  # Azure ML's 0 means every report
        if history.finished or interval == 0 or interval % every or interval < self.delay_evaluation:
            return None
        return interval

    def best(self, values: Sequence[float]) -> float:
        return max(values) if self.goal == "maximize" else min(values)

    def worse(self, value: float, than: float) -> bool:
        return value < than if self.goal == "maximize" else value > than


@dataclass(frozen=True, kw_only=True)
class BanditRule(_Schedule):
    """Stop a trial whose best is outside `slack_factor` (a ratio) or `slack_amount` of the leader's."""

    slack_factor: float | None = None
    slack_amount: float | None = None

    def should_stop(self, trial_id: str, histories: Histories) -> str | None:
        interval = self.due(trial_id, histories)
        if interval is None:
            return None
        mine = self.best(histories[trial_id].values(interval))
        leader = self.best([self.best(v) for h in histories.values() if (v := h.values(interval))])
        limit, slack = self._limit(leader)
        if not self.worse(mine, limit):
            return None
        return (
            f"bandit: {mine:.4g} at interval {interval} is outside {slack} of the best {leader:.4g} "
            f"(limit {limit:.4g})"
        )

    def _limit(self, leader: float) -> tuple[float, str]:
        sign = 1 if self.goal == "minimize" else -1  # the worse side
        if self.slack_factor is not None:
            factor = self.slack_factor
            distance = abs(leader) * (factor if self.goal == "minimize" else factor / (1 + factor))
            return leader + sign * distance, f"slack_factor {factor:g}"
        amount = self.slack_amount or 0.0
        return leader + sign * amount, f"slack_amount {amount:g}"


@dataclass(frozen=True)
class MedianStoppingRule(_Schedule):
    """Stop a trial whose best is worse than the median of all trials' running averages."""

    def should_stop(self, trial_id: str, histories: Histories) -> str | None:
        interval = self.due(trial_id, histories)
        if interval is None:
            return None
        mine = self.best(histories[trial_id].values(interval))
        averages = [statistics.fmean(v) for h in histories.values() if (v := h.values(interval))]
        median = statistics.median(averages)
        if not self.worse(mine, median):
            return None
        return (
            f"median_stopping: best {mine:.4g} at interval {interval} is worse than the median "
            f"{median:.4g} of {len(averages)} trials' running averages"
        )


@dataclass(frozen=True, kw_only=True)
class TruncationSelectionRule(_Schedule):
    """Stop a trial ranked in the lowest `truncation_percentage` percent of the trials."""

    truncation_percentage: int
    exclude_finished_jobs: bool = False

    def should_stop(self, trial_id: str, histories: Histories) -> str | None:
        interval = self.due(trial_id, histories)
        if interval is None:
            return None
        mine = self.best(histories[trial_id].values(interval))
        others = [
            self.best(values)
            for other_id, history in histories.items()
            if other_id != trial_id and not (self.exclude_finished_jobs and history.finished)
            if (values := history.values(interval))
        ]
        ranked = len(others) + 1
        cut = ranked * self.truncation_percentage // 100
        better = sum(1 for value in others if self.worse(mine, value))
        if cut == 0 or better < ranked - cut:
            return None
        return (
            f"truncation_selection: {mine:.4g} at interval {interval} is in the lowest "
            f"{self.truncation_percentage}% ({better} of the {ranked - 1} other trials are better; "
            f"the lowest {cut} of {ranked} are cut)"
        )


def termination_rule(spec: SweepJobSpec) -> TerminationRule | None:
    """The rule for `spec.early_termination`, judging by `spec.objective.goal`; None without one."""
    policy, goal = spec.early_termination, spec.objective.goal
    if policy is None:
        return None
    interval, delay = policy.interval, policy.delay_evaluation
    if isinstance(policy, BanditPolicy):
        return BanditRule(
            goal, interval, delay, slack_factor=policy.slack_factor, slack_amount=policy.slack_amount
        )
    if isinstance(policy, MedianStoppingPolicy):
        return MedianStoppingRule(goal, interval, delay)
    if isinstance(policy, TruncationSelectionPolicy):
        return TruncationSelectionRule(
            goal,
            interval,
            delay,
            truncation_percentage=policy.truncation_percentage,
            exclude_finished_jobs=policy.exclude_finished_jobs,
        )
    assert_never(policy)
