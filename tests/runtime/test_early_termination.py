"""Early termination rules on hand-made metric histories; each expected decision is worked out here."""

from __future__ import annotations

import math

import pytest

from mlyard.entities.jobs.sweep_spec import SweepJobSpec
from mlyard.runtime.early_termination import (
    BanditRule,
    MedianStoppingRule,
    TrialHistory,
    TruncationSelectionRule,
    termination_rule,
)


def reports(*values: float, finished: bool = False) -> TrialHistory:
    """A history as `mlyard.log_metric(name, value)` writes it: every report at step 0."""
    return TrialHistory([(0, value) for value in values], finished=finished)


# --- bandit ---------------------------------------------------------------------------------------


def test_bandit_stops_a_trial_outside_the_slack_factor_of_the_best():
    # maximize, slack_factor 0.1: at interval 4 the best trial is "a" with 0.81 (its best of 3
    # reports); the limit is 0.81 / 1.1 = 0.7364, and b's best 0.62 is below it.
    histories = {"a": reports(0.5, 0.7, 0.81), "b": reports(0.4, 0.5, 0.55, 0.62)}
    rule = BanditRule("maximize", slack_factor=0.1)
    assert rule.should_stop("b", histories) == (
        "bandit: 0.62 at interval 4 is outside slack_factor 0.1 of the best 0.81 (limit 0.7364)"
    )
    assert rule.should_stop("a", histories) is None  # the best trial is never outside its own slack


def test_bandit_keeps_a_trial_within_the_slack():
    # maximize, slack_factor 0.2: limit 0.81 / 1.2 = 0.675; b's best 0.7 is within it
    histories = {"a": reports(0.5, 0.7, 0.81), "b": reports(0.4, 0.5, 0.7)}
    assert BanditRule("maximize", slack_factor=0.2).should_stop("b", histories) is None


def test_bandit_with_a_slack_amount_when_minimizing():
    # minimize: the best at interval 3 is a's 0.6; slack_amount 0.1 → limit 0.7, and b's best
    # 0.75 is above it; slack_amount 0.2 → limit 0.8, and 0.75 is within it.
    histories = {"a": reports(1.0, 0.8, 0.6), "b": reports(1.2, 1.0, 0.75)}
    assert BanditRule("minimize", slack_amount=0.1).should_stop("b", histories) == (
        "bandit: 0.75 at interval 3 is outside slack_amount 0.1 of the best 0.6 (limit 0.7)"
    )
    assert BanditRule("minimize", slack_amount=0.2).should_stop("b", histories) is None


def test_bandit_with_a_slack_factor_when_minimizing():
    # minimize, slack_factor 0.2: limit 0.6 × 1.2 = 0.72 < 0.75 → stop; factor 0.25: 0.75 → keep
    histories = {"a": reports(1.0, 0.8, 0.6), "b": reports(1.2, 1.0, 0.75)}
    assert BanditRule("minimize", slack_factor=0.2).should_stop("b", histories) is not None
    assert BanditRule("minimize", slack_factor=0.25).should_stop("b", histories) is None


def test_bandit_measures_a_negative_best_by_its_size():
    # maximize with best -0.5 and slack_factor 0.25: the allowed distance is 0.5 × 0.25 / 1.25
    # = 0.1, so the limit is -0.6: -0.55 is kept and -0.65 is stopped.
    rule = BanditRule("maximize", slack_factor=0.25)
    assert rule.should_stop("b", {"a": reports(-0.5), "b": reports(-0.55)}) is None
    assert "limit -0.6" in (rule.should_stop("b", {"a": reports(-0.5), "b": reports(-0.65)}) or "")


def test_a_trial_further_along_is_compared_at_the_same_interval():
    # At interval 2, a had reported 0.1 and 0.2; its later 0.9 does not count yet, so b's 0.28
    # is the best at interval 2 and b runs on. At b's interval 4, a's 0.9 counts: 0.9 / 1.1 =
    # 0.818 > b's 0.3 → stop.
    rule = BanditRule("maximize", slack_factor=0.1)
    assert rule.should_stop("b", {"a": reports(0.1, 0.2, 0.3, 0.9), "b": reports(0.25, 0.28)}) is None
    histories = {"a": reports(0.1, 0.2, 0.3, 0.9), "b": reports(0.25, 0.28, 0.29, 0.3)}
    assert rule.should_stop("b", histories) is not None


def test_the_rules_apply_only_at_evaluation_intervals_after_the_delay():
    # evaluation_interval 2, delay_evaluation 3: judged at reports 4, 6, 8…; not at 1, 2, 3 or 5
    losing = [0.1, 0.1, 0.1, 0.1, 0.1, 0.1]
    rule = BanditRule("maximize", evaluation_interval=2, delay_evaluation=3, slack_factor=0.1)
    decided = {
        count: rule.should_stop(
            "b", {"a": reports(0.9, 0.9, 0.9, 0.9, 0.9, 0.9), "b": reports(*losing[:count])}
        )
        for count in range(1, 7)
    }
    assert [count for count, reason in decided.items() if reason] == [4, 6]


def test_an_evaluation_interval_of_zero_means_every_report():
    rule = BanditRule("maximize", evaluation_interval=0, slack_factor=0.1)
    assert rule.should_stop("b", {"a": reports(0.9), "b": reports(0.1)}) is not None


def test_a_finished_trial_or_one_without_reports_is_never_stopped():
    rule = BanditRule("maximize", slack_factor=0.1)
    assert rule.should_stop("b", {"a": reports(0.9), "b": reports(0.1, finished=True)}) is None
    assert rule.should_stop("b", {"a": reports(0.9), "b": reports()}) is None
    assert rule.should_stop("b", {"a": reports(0.9), "b": reports(math.nan)}) is None  # NaN is no report


def test_intervals_count_reports_not_steps():
    # Steps 10 and 20 are the trial's 1st and 2nd reports: with evaluation_interval 2, it is judged
    histories = {"a": TrialHistory([(10, 0.9), (20, 0.9)]), "b": TrialHistory([(10, 0.1), (20, 0.1)])}
    assert BanditRule("maximize", evaluation_interval=2, slack_factor=0.1).should_stop("b", histories) == (
        "bandit: 0.1 at interval 2 is outside slack_factor 0.1 of the best 0.9 (limit 0.8182)"
    )


# --- median stopping ------------------------------------------------------------------------------


def test_median_stopping_stops_a_trial_worse_than_the_median_running_average():
    # maximize at interval 3: running averages a 0.6, b 0.85, c 0.35 → median 0.6.
    # c's best 0.4 < 0.6 → stop; a's best 0.7 ≥ 0.6 → keep.
    histories = {"a": reports(0.5, 0.6, 0.7), "b": reports(0.8, 0.85, 0.9), "c": reports(0.3, 0.35, 0.4)}
    rule = MedianStoppingRule("maximize")
    assert rule.should_stop("c", histories) == (
        "median_stopping: best 0.4 at interval 3 is worse than the median 0.6 of 3 trials' running averages"
    )
    assert rule.should_stop("a", histories) is None


def test_median_stopping_averages_only_the_reports_up_to_the_interval():
    # t at interval 2: best 0.55, average 0.525. The others' averages over their first 2 reports
    # are 0.45 and 0.65, so the median is 0.525 and t runs on. Averaging all their reports
    # (1.725 and 1.825) would have put the median at 1.725 and stopped t.
    histories = {"t": reports(0.5, 0.55), "p": reports(0.4, 0.5, 3, 3), "q": reports(0.6, 0.7, 3, 3)}
    assert MedianStoppingRule("maximize").should_stop("t", histories) is None


def test_median_stopping_when_minimizing():
    # minimize at interval 2: averages t 0.85, p 0.45, q 0.55 → median 0.55; t's best 0.8 > 0.55
    histories = {"t": reports(0.9, 0.8), "p": reports(0.5, 0.4), "q": reports(0.6, 0.5)}
    assert MedianStoppingRule("minimize").should_stop("t", histories) is not None
    assert MedianStoppingRule("minimize").should_stop("p", histories) is None


def test_median_stopping_waits_for_its_delay():
    histories = {"a": reports(0.9, 0.9), "c": reports(0.1, 0.1)}
    assert MedianStoppingRule("maximize", delay_evaluation=3).should_stop("c", histories) is None
    histories = {"a": reports(0.9, 0.9, 0.9), "c": reports(0.1, 0.1, 0.1)}
    assert MedianStoppingRule("maximize", delay_evaluation=3).should_stop("c", histories) is not None


# --- truncation selection -------------------------------------------------------------------------

FOUR = {"t": reports(0.1, 0.2), "p1": reports(0.3, 0.4), "p2": reports(0.5, 0.6), "p3": reports(0.7, 0.8)}


def test_truncation_selection_stops_the_lowest_percentage():
    # 4 trials, 25 % → 4 × 25 // 100 = 1 cut. t (0.2) has 3 better: it is the lowest → stop.
    # p1 (0.4) has 2 better → keep.
    rule = TruncationSelectionRule("maximize", truncation_percentage=25)
    assert rule.should_stop("t", FOUR) == (
        "truncation_selection: 0.2 at interval 2 is in the lowest 25% "
        "(3 of the 3 other trials are better; the lowest 1 of 4 are cut)"
    )
    assert rule.should_stop("p1", FOUR) is None


def test_truncation_selection_rounds_the_cut_down():
    # 4 trials, 20 % → 4 × 20 // 100 = 0: nobody is cut
    assert TruncationSelectionRule("maximize", truncation_percentage=20).should_stop("t", FOUR) is None


def test_truncation_selection_gives_ties_to_the_trial():
    # t ties with p1 at 0.4, so only p2 and p3 are strictly better: not in the lowest 1 of 4
    tied = {**FOUR, "t": reports(0.3, 0.4)}
    assert TruncationSelectionRule("maximize", truncation_percentage=25).should_stop("t", tied) is None


def test_truncation_selection_can_leave_finished_trials_out():
    # p3 finished. 50 % of all 4 → 2 cut: p1 (2 better) is stopped.
    # Without p3: 50 % of 3 → 1 cut, and p1 (1 better) runs on; t (2 better) is still stopped.
    histories = {**FOUR, "p3": reports(0.7, 0.8, finished=True)}
    keep_all = TruncationSelectionRule("maximize", truncation_percentage=50)
    exclude = TruncationSelectionRule("maximize", truncation_percentage=50, exclude_finished_jobs=True)
    assert keep_all.should_stop("p1", histories) is not None
    assert exclude.should_stop("p1", histories) is None
    assert exclude.should_stop("t", histories) is not None


def test_truncation_selection_when_minimizing():
    # minimize: the lowest performers have the highest values; p3 (0.8) has 3 better → stop
    rule = TruncationSelectionRule("minimize", truncation_percentage=25)
    assert rule.should_stop("p3", FOUR) is not None
    assert rule.should_stop("t", FOUR) is None


# --- from the spec --------------------------------------------------------------------------------


def spec_with(early_termination: dict[str, object], goal: str = "Maximize") -> SweepJobSpec:
    return SweepJobSpec.model_validate(
        {
            "type": "sweep",
            "trial": {"command": "train --lr ${{search_space.lr}}"},
            "search_space": {"lr": {"type": "uniform", "min_value": 0, "max_value": 1}},
            "objective": {"goal": goal, "primary_metric": "accuracy"},
            "early_termination": early_termination,
        }
    )


@pytest.mark.parametrize(
    "policy, expected",
    [
        (
            {"type": "bandit", "slack_amount": 0.2, "evaluation_interval": 0, "delay_evaluation": 5},
            BanditRule("maximize", 1, 5, slack_amount=0.2),
        ),
        ({"type": "median_stopping", "evaluation_interval": 2}, MedianStoppingRule("maximize", 2, 0)),
        (
            {"type": "truncation_selection", "truncation_percentage": 20, "exclude_finished_jobs": True},
            TruncationSelectionRule("maximize", 1, 0, truncation_percentage=20, exclude_finished_jobs=True),
        ),
    ],
)
def test_the_spec_picks_the_rule_and_its_settings(policy, expected):
    assert termination_rule(spec_with(policy)) == expected


def test_a_sweep_without_early_termination_has_no_rule():
    spec = spec_with({"type": "bandit", "slack_factor": 0.1}).model_copy(update={"early_termination": None})
    assert termination_rule(spec) is None
