"""Sampling a sweep's search space with Optuna, with Azure ML's meaning of every expression.

`make_sampler` picks the Optuna sampler for `sampling_algorithm`; `suggest` asks an Optuna trial
for one value of each parameter. Optuna sees each parameter as a *coordinate* it can sample and
model, and `suggest` turns the coordinate into the value Azure ML would give:

    expression              coordinate Optuna samples            value
    choice{values}          categorical over values              the choice
    randint{upper}          integer 0..upper-1                   the integer
    uniform{min, max}       float min..max                       the float
    loguniform{min, max}    float e**min..e**max, log scale      the float (log of it uniform)
    quniform / qloguniform  as uniform / loguniform              round(x / q) * q
    normal{mu, sigma}       quantile p in [1e-6, 1 - 1e-6]       NormalDist(mu, sigma).inv_cdf(p)
    lognormal               as normal                            e ** normal
    qnormal / qlognormal    as normal / lognormal                round(x / q) * q

Normal kinds go through the quantile so every sampler (grid aside) sees a bounded space: a uniform
quantile transformed by the inverse CDF is exactly normal, and Sobol points stay evenly spread in
it. The cost is that draws beyond ±4.75 sigma (two in a million) are clipped there.

A `q` kind with a whole-number q gives integers (`--batch-size 32`, not `32.0`). As in Azure ML
(and hyperopt), rounding may step past a bound that is no multiple of q: quniform 1..100 with q 5
gives 0, 5, …, 100. Optuna's own params hold the coordinates: map them back, for example
`study.best_params`, with `values_from_params`. `log_base` (e unless `sampling_algorithm.logbase`
says otherwise) replaces e in the log kinds.

Optuna is imported inside the functions (start-up time; see CONVENTIONS.md).
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Mapping, Sequence
from decimal import Decimal
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

from mlyard.entities.jobs.sweep_spec import (
    BayesianSamplingAlgorithm,
    Choice,
    Distribution,
    GridSamplingAlgorithm,
    Normal,
    QNormal,
    QUniform,
    Randint,
    SearchValue,
    SweepJobSpec,
    Uniform,
    grid_size,
)

if TYPE_CHECKING:
    import optuna

__all__ = ["QUANTILE_EPSILON", "grid_size", "make_sampler", "suggest", "values_from_params"]

QUANTILE_EPSILON = 1e-6  # normal kinds sample quantiles in [ε, 1 - ε]: about ±4.75 sigma


def make_sampler(spec: SweepJobSpec, *, seed: int | None = None) -> optuna.samplers.BaseSampler:
    """The Optuna sampler for `spec.sampling_algorithm`.

    random → RandomSampler; random with `rule: sobol` → QMCSampler (scrambled Sobol); grid →
    GridSampler over the choice values (the first grid-size trials take each combination once,
    in a shuffled order, even when asked for before earlier ones are told); bayesian →
    TPESampler. The spec's `seed` wins; `seed` here seeds the algorithms that have none in YAML.
    """
    import optuna

    algorithm = spec.sampling_algorithm
    if isinstance(algorithm, GridSamplingAlgorithm):
        grid_size(spec.search_space)  # refuses anything but choice parameters
        choices = {name: list(d.values) for name, d in spec.search_space.items() if isinstance(d, Choice)}
        return _ask_tell_grid_sampler()(choices, seed=seed)
    if isinstance(algorithm, BayesianSamplingAlgorithm):
        return optuna.samplers.TPESampler(seed=seed)
    seed = algorithm.seed if algorithm.seed is not None else seed
    if algorithm.rule == "sobol":
        with warnings.catch_warnings():
            # QMCSampler has carried Optuna's "experimental" mark since 3.0; we rely only on its
            # documented constructor, so the warning says nothing a user of mlyard can act on.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            # Scrambled, so a seed gives a reproducible yet not corner-first sequence. Optuna
            # samples the study's very first trial with its independent RandomSampler(seed).
            return optuna.samplers.QMCSampler(
                qmc_type="sobol", scramble=True, seed=seed, warn_asynchronous_seeding=False
            )
    return optuna.samplers.RandomSampler(seed=seed)


@functools.cache
def _ask_tell_grid_sampler() -> type[optuna.samplers.GridSampler]:
    import optuna

    class AskTellGridSampler(optuna.samplers.GridSampler):
        """Optuna's GridSampler, minus the `study.stop()` it calls once the last grid point is told.

        Outside `study.optimize` that call raises RuntimeError (optuna#4121, optuna#5141), which
        would fail the `tell` of a sweep's last trial; the sweep stops at `total_trials` instead.
        """

        def after_trial(
            self,
            study: optuna.Study,
            trial: optuna.trial.FrozenTrial,
            state: optuna.trial.TrialState,
            values: Sequence[float] | None,
        ) -> None:
            return None

    return AskTellGridSampler


def suggest(
    trial: optuna.Trial, search_space: Mapping[str, Distribution], *, log_base: float = math.e
) -> dict[str, SearchValue]:
    """One value per parameter, drawn through `trial`; `log_base` is `SweepJobSpec.log_base`."""
    params = {name: _suggest_coordinate(trial, name, d, log_base) for name, d in search_space.items()}
    return values_from_params(params, search_space, log_base=log_base)


def values_from_params(
    params: Mapping[str, Any], search_space: Mapping[str, Distribution], *, log_base: float = math.e
) -> dict[str, SearchValue]:
    """The parameter values behind Optuna's `trial.params` (for example `study.best_params`)."""
    return {name: _value(d, params[name], log_base) for name, d in search_space.items()}


def _suggest_coordinate(trial: optuna.Trial, name: str, distribution: Distribution, log_base: float) -> Any:
    if isinstance(distribution, Choice):
        return trial.suggest_categorical(name, distribution.values)
    if isinstance(distribution, Randint):
        return trial.suggest_int(name, 0, distribution.upper - 1)
    if isinstance(distribution, Uniform):  # QUniform too
        if distribution.is_log:
            low, high = log_base**distribution.min_value, log_base**distribution.max_value
            return trial.suggest_float(name, low, high, log=True)
        return trial.suggest_float(name, distribution.min_value, distribution.max_value)
    return trial.suggest_float(name, QUANTILE_EPSILON, 1 - QUANTILE_EPSILON)  # Normal, QNormal


def _value(distribution: Distribution, coordinate: Any, log_base: float) -> SearchValue:
    if isinstance(distribution, Choice | Randint):
        return coordinate  # type: ignore[no-any-return]
    value = float(coordinate)
    if isinstance(distribution, Normal):  # QNormal too: the coordinate is a quantile
        value = NormalDist(distribution.mu, distribution.sigma).inv_cdf(value)
        value = float(log_base**value) if distribution.is_log else value
    if isinstance(distribution, QUniform | QNormal):
        return _quantize(value, distribution.q)
    return value


def _quantize(value: float, q: float) -> int | float:
    """round(value / q) * q: an int when q is whole, else an exact decimal multiple of q.

    Multiplying by q's decimal text gives 0.35 for 7 × 0.05, not 0.35000000000000003.
    """
    steps = round(value / q)
    if q.is_integer():
        return steps * int(q)
    return float(steps * Decimal(repr(q)))
