"""The sweep job spec, as Azure ML CLI v2 YAML writes it (`type: sweep`).

    $schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json
    type: sweep
    trial:
      code: src
      command: >-
        python main.py --iris-csv ${{inputs.iris_csv}}
        --learning-rate ${{search_space.learning_rate}} --boosting ${{search_space.boosting}}
      environment: azureml:AzureML-lightgbm-3.2-ubuntu18.04-py37-cpu:11
    inputs:
      iris_csv: {type: uri_file, path: https://azuremlexamples.blob.core.windows.net/datasets/iris.csv}
    sampling_algorithm: random            # or grid, bayesian, {type: random, seed: 7, rule: sobol}
    search_space:
      learning_rate: {type: uniform, min_value: 0.01, max_value: 0.9}
      boosting: {type: choice, values: [gbdt, dart]}
    objective: {goal: minimize, primary_metric: test-multi_logloss}
    limits: {max_total_trials: 20, max_concurrent_trials: 10, timeout: 7200}
    early_termination: {type: bandit, slack_factor: 0.1, evaluation_interval: 1, delay_evaluation: 5}

Parameter expressions mean what Azure ML says they mean: `loguniform` and `qloguniform` take
*exponents* (values run from exp(min_value) to exp(max_value)), `lognormal` is exp(normal(mu,
sigma)), the `q` kinds are round(x / q) * q, and `randint` runs from 0 to upper - 1.

Azure ML's rules are kept so a spec that reads here runs there too: grid sampling takes only
`choice` parameters; bayesian sampling takes only `choice`, `uniform` and `quniform` and no early
termination. A trial is an inline command (its `${{inputs.x}}` name the sweep's own inputs) or a
component reference (`./train.yml`, `azureml:train:1`) left for the submitter to resolve.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from mlyard.entities.jobs.job_spec import (
    CLOUD_ONLY_FIELDS,
    CommandJobSpec,
    JobInput,
    JobLimits,
    OutputMap,
)
from mlyard.entities.specs.command_line import bindings
from mlyard.entities.specs.spec_files import IGNORED_KEYS, load_yaml, validate_spec
from mlyard.entities.specs.spec_values import TextMap, mapping_or_value, plain_value, without
from mlyard.errors import InvalidSpec

SearchValue = str | int | float | bool
DEFAULT_MAX_TOTAL_TRIALS = 1000  # Azure ML's default for limits.max_total_trials
BAYESIAN_KINDS = ("choice", "uniform", "quniform")
_PARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")  # what ${{search_space.x}} can name
_LOG_SPREAD = 5  # sigmas either side of mu that a lognormal's exponent must keep within float range
Problem = tuple[tuple[str, ...], str, Any]  # where, what is wrong, the value given


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _snake(value: Any) -> Any:
    """`MedianStopping` → `median_stopping`; Azure ML accepts either spelling of a type."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", value).lower() if isinstance(value, str) else value


def _did_you_mean(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _tagged(value: Any, normalize: Any, known: tuple[str, ...]) -> str | None:
    """A union member's tag (`union[…]`, which error locations skip) from the value's `type`."""
    kind = normalize(value.get("type")) if isinstance(value, dict) else getattr(value, "type", None)
    return f"union[{kind}]" if kind in known else None


def _normalized_type(value: Any, normalize: Any, known: tuple[str, ...], what: str) -> Any:
    if not isinstance(value, dict):
        return value  # a model instance, or a wrong shape the union reports
    if "type" not in value:
        raise ValueError(f"give the {what} type: one of {', '.join(known)}")
    kind = normalize(value["type"])
    if kind not in known:
        hint = _did_you_mean(str(kind), known)
        raise ValueError(f"unknown {what} type {value['type']!r}{hint}; expected one of {', '.join(known)}")
    return {**value, "type": kind}


# --- parameter expressions -------------------------------------------------------------------------


def _choice_value(value: Any) -> SearchValue:
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        raise ValueError(
            "nested search spaces (a mapping inside choice values) are not supported; "
            "give each parameter its own search_space entry"
        )
    raise ValueError(f"expected a value (text, number, true or false), got {value!r}")


ChoiceValue = Annotated[SearchValue, PlainValidator(_choice_value)]
Number = Annotated[float, Field(allow_inf_nan=False)]


class Choice(BaseModel):
    """One of `values`, each equally likely."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["choice"] = "choice"
    values: list[ChoiceValue] = Field(min_length=1)

    @field_validator("values")
    @classmethod
    def _distinct(cls, values: list[SearchValue]) -> list[SearchValue]:
        for index, value in enumerate(values):
            # 1, 1.0 and True are equal in Python, so a sampler could not tell them apart either
            same = [earlier for earlier in values[:index] if earlier == value]
            if same:
                raise ValueError(
                    f"{value!r} repeats {same[0]!r}; list each value once (1, 1.0 and true count as one)"
                )
        return values


class Randint(BaseModel):
    """An integer from 0 to `upper` - 1."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["randint"] = "randint"
    upper: int = Field(gt=0, description="exclusive")


class Uniform(BaseModel):
    """`uniform`: min_value..max_value; `loguniform`: exp(uniform(min_value, max_value))."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["uniform", "loguniform"] = "uniform"
    min_value: Number
    max_value: Number

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.min_value >= self.max_value:
            raise ValueError(f"min_value {self.min_value} must be less than max_value {self.max_value}")
        return self

    @property
    def is_log(self) -> bool:
        return self.type.startswith(("log", "qlog"))


class QUniform(Uniform):
    """`quniform`: round(uniform / q) * q; `qloguniform`: round(exp(uniform) / q) * q."""

    type: Literal["quniform", "qloguniform"] = "quniform"  # type: ignore[assignment]
    q: Number = Field(gt=0)


class Normal(BaseModel):
    """`normal`: normal(mu, sigma); `lognormal`: exp(normal(mu, sigma))."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["normal", "lognormal"] = "normal"
    mu: Number
    sigma: Number = Field(gt=0)

    @property
    def is_log(self) -> bool:
        return self.type.startswith(("log", "qlog"))


class QNormal(Normal):
    """`qnormal`: round(normal / q) * q; `qlognormal`: round(exp(normal) / q) * q."""

    type: Literal["qnormal", "qlognormal"] = "qnormal"  # type: ignore[assignment]
    q: Number = Field(gt=0)


DISTRIBUTION_TYPES = (
    "choice", "randint", "uniform", "loguniform", "quniform", "qloguniform",
    "normal", "lognormal", "qnormal", "qlognormal",
)  # fmt: skip
_DISTRIBUTION_TAG = {
    "choice": "choice", "randint": "randint", "uniform": "uniform", "loguniform": "uniform",
    "quniform": "quniform", "qloguniform": "quniform", "normal": "normal", "lognormal": "normal",
    "qnormal": "qnormal", "qlognormal": "qnormal",
}  # fmt: skip


def _distribution_tag(value: Any) -> str | None:
    kind = _lower(value.get("type")) if isinstance(value, dict) else getattr(value, "type", None)
    return f"union[{_DISTRIBUTION_TAG[kind]}]" if kind in _DISTRIBUTION_TAG else None


Distribution = Annotated[
    Annotated[Choice, Tag("union[choice]")]
    | Annotated[Randint, Tag("union[randint]")]
    | Annotated[QUniform, Tag("union[quniform]")]
    | Annotated[Uniform, Tag("union[uniform]")]
    | Annotated[QNormal, Tag("union[qnormal]")]
    | Annotated[Normal, Tag("union[normal]")],
    Discriminator(_distribution_tag),
    BeforeValidator(
        lambda value: _normalized_type(value, _lower, DISTRIBUTION_TYPES, "parameter expression")
    ),
]


def grid_size(search_space: Mapping[str, Distribution]) -> int:
    """How many combinations a grid over `search_space` has; every parameter must be a `choice`."""
    size = 1
    for name, distribution in search_space.items():
        if not isinstance(distribution, Choice):
            raise InvalidSpec(
                f"search_space.{name}: a grid takes only choice parameters, got {distribution.type}"
            )
        size *= len(distribution.values)
    return size


# --- sampling algorithms ---------------------------------------------------------------------------


class RandomSamplingAlgorithm(BaseModel):
    """Independent random draws; `rule: sobol` draws a scrambled Sobol sequence instead."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["random"] = "random"
    seed: int | None = None
    rule: Annotated[Literal["random", "sobol"], BeforeValidator(_lower)] = "random"
    logbase: float | Literal["e"] | None = Field(
        default=None, description="base of the log kinds (loguniform…) instead of e"
    )

    @field_validator("logbase")
    @classmethod
    def _positive_base(cls, logbase: float | str | None) -> float | str | None:
        if isinstance(logbase, float) and (logbase <= 0 or logbase == 1 or not math.isfinite(logbase)):
            raise ValueError(f"expected a positive number other than 1, or e, got {logbase!r}")
        return logbase


class GridSamplingAlgorithm(BaseModel):
    """Every combination of the `choice` values, each once."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["grid"] = "grid"


class BayesianSamplingAlgorithm(BaseModel):
    """Each trial chosen from how earlier trials scored (Optuna's TPE)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["bayesian"] = "bayesian"


SAMPLING_TYPES = ("random", "grid", "bayesian")


def _sampling_mapping(value: Any) -> Any:
    if isinstance(value, str):
        value = {"type": value}  # `sampling_algorithm: random` is short for `{type: random}`
    return _normalized_type(value, _lower, SAMPLING_TYPES, "sampling algorithm")


SamplingAlgorithm = Annotated[
    Annotated[RandomSamplingAlgorithm, Tag("union[random]")]
    | Annotated[GridSamplingAlgorithm, Tag("union[grid]")]
    | Annotated[BayesianSamplingAlgorithm, Tag("union[bayesian]")],
    Discriminator(lambda value: _tagged(value, _lower, SAMPLING_TYPES)),
    BeforeValidator(_sampling_mapping),
]


# --- objective, limits, early termination ----------------------------------------------------------


class Objective(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    goal: Annotated[Literal["minimize", "maximize"], BeforeValidator(_lower)]
    primary_metric: str = Field(min_length=1)


class SweepLimits(BaseModel):
    """Budgets; unset ones take Azure ML's defaults through `SweepJobSpec.total_trials` and friends."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_total_trials: int | None = Field(default=None, ge=1)
    max_concurrent_trials: int | None = Field(default=None, ge=1)
    timeout: int | None = Field(default=None, gt=0, description="seconds for the whole sweep")
    trial_timeout: int | None = Field(default=None, gt=0, description="seconds for each trial")


class _Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Azure ML's SDK defaults evaluation_interval to 0 and its YAML reference to 1; both mean
    # "every report", so 0 is read as 1 (see `interval`).
    evaluation_interval: int = Field(default=1, ge=0)
    delay_evaluation: int = Field(default=0, ge=0)

    @property
    def interval(self) -> int:
        return max(1, self.evaluation_interval)


class BanditPolicy(_Policy):
    """Stop a trial whose best value falls outside a slack of the best trial's."""

    type: Literal["bandit"] = "bandit"
    slack_factor: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    slack_amount: float | None = Field(default=None, ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _one_slack(self) -> BanditPolicy:
        if (self.slack_factor is None) == (self.slack_amount is None):
            raise ValueError(
                "give exactly one of slack_factor (a ratio) or slack_amount (an absolute distance)"
            )
        return self


class MedianStoppingPolicy(_Policy):
    """Stop a trial whose best value is worse than the median of all trials' running averages."""

    type: Literal["median_stopping"] = "median_stopping"


class TruncationSelectionPolicy(_Policy):
    """Stop the trials in the lowest `truncation_percentage` percent at each evaluation."""

    type: Literal["truncation_selection"] = "truncation_selection"
    truncation_percentage: int = Field(ge=1, le=99)
    exclude_finished_jobs: bool = False


POLICY_TYPES = ("bandit", "median_stopping", "truncation_selection")
EarlyTermination = Annotated[
    Annotated[BanditPolicy, Tag("union[bandit]")]
    | Annotated[MedianStoppingPolicy, Tag("union[median_stopping]")]
    | Annotated[TruncationSelectionPolicy, Tag("union[truncation_selection]")],
    Discriminator(lambda value: _tagged(value, _snake, POLICY_TYPES)),
    BeforeValidator(lambda value: _normalized_type(value, _snake, POLICY_TYPES, "early termination policy")),
]


# --- the trial and the sweep -----------------------------------------------------------------------


class SweepTrial(BaseModel):
    """The command each trial runs; `${{search_space.x}}` takes the trial's sampled value.

    `distribution` and `queue_settings` are Azure ML cloud settings, accepted and ignored.
    """

    model_config = ConfigDict(extra="forbid")

    type: Literal["command"] = "command"
    command: str = Field(min_length=1)
    code: str | None = None
    environment: str | dict[str, Any] | None = None
    environment_variables: TextMap = Field(default_factory=dict)
    resources: dict[str, Any] | None = None  # as on a command job: what a Ray executor reserves

    @model_validator(mode="before")
    @classmethod
    def _drop_cloud_only_fields(cls, data: Any) -> Any:
        return without(data, CLOUD_ONLY_FIELDS)


def _component_ref(value: Any) -> str:
    if isinstance(value, str) and value.strip():
        return value
    raise ValueError(f"expected an inline command trial (a mapping) or a component reference, got {value!r}")


InputValue = Annotated[
    Annotated[JobInput, Tag("union[mapping]")]
    | Annotated[SearchValue, PlainValidator(plain_value), Tag("union[value]")],
    Discriminator(mapping_or_value),
]
Trial = Annotated[
    Annotated[SweepTrial, Tag("union[mapping]")]
    | Annotated[str, PlainValidator(_component_ref), Tag("union[value]")],
    Discriminator(mapping_or_value),
]


class SweepJobSpec(BaseModel):
    """A sweep: trials of `trial` with values sampled from `search_space`, scored by `objective`."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["sweep"] = "sweep"
    name: str | None = None
    display_name: str | None = None
    experiment_name: str | None = None
    description: str | None = None
    tags: TextMap = Field(default_factory=dict)
    properties: TextMap = Field(default_factory=dict)
    compute: str | None = None
    inputs: dict[str, InputValue] = Field(default_factory=dict)
    outputs: OutputMap = Field(default_factory=dict)
    trial: Trial
    search_space: dict[str, Distribution]
    sampling_algorithm: SamplingAlgorithm = Field(default_factory=RandomSamplingAlgorithm)
    objective: Objective
    limits: SweepLimits = Field(default_factory=SweepLimits)
    early_termination: EarlyTermination | None = None
    resources: dict[str, Any] | None = None  # each trial's, unless the trial gives its own

    @model_validator(mode="before")
    @classmethod
    def _drop_ignored_fields(cls, data: Any) -> Any:
        data = without(data, CLOUD_ONLY_FIELDS)
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if key not in IGNORED_KEYS}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> SweepJobSpec:
        problems = [
            *self._search_space_problems(),
            *self._sampling_problems(),
            *self._binding_problems(),
        ]
        if problems:
            raise ValidationError.from_exception_data(
                "SweepJobSpec",
                [
                    InitErrorDetails(
                        type=PydanticCustomError("sweep_spec", "{message}", {"message": message}),
                        loc=loc,
                        input=given,
                    )
                    for loc, message, given in problems
                ],
            )
        return self

    def _search_space_problems(self) -> Iterable[Problem]:
        if not self.search_space:
            yield ("search_space",), "give at least one parameter to sweep over", self.search_space
        for name, distribution in self.search_space.items():
            if not _PARAMETER_NAME.match(name):
                yield (
                    ("search_space", name),
                    "a parameter name starts with a letter or _ and has only letters, digits, _, - and .",
                    name,
                )
            yield from self._log_range_problems(name, distribution)

    def _log_range_problems(self, name: str, distribution: Distribution) -> Iterable[Problem]:
        """The log kinds take exponents; refuse those whose values a float cannot hold."""
        base = "e" if self.log_base == math.e else f"{self.log_base:g}"
        checks: list[tuple[str, float]] = []
        if isinstance(distribution, Uniform) and distribution.is_log:
            checks = [("min_value", distribution.min_value), ("max_value", distribution.max_value)]
            meaning = f"values run from {base}**min_value to {base}**max_value"
        elif isinstance(distribution, Normal) and distribution.is_log:
            # a tiny lognormal value rounds harmlessly to 0; only the upper tail can overflow
            checks = [("sigma", distribution.mu + _LOG_SPREAD * distribution.sigma)]
            meaning = f"values are {base}**normal(mu, sigma)"
        for field, exponent in checks:
            try:
                value = self.log_base**exponent
            except OverflowError:
                value = math.inf
            if value == 0 or not math.isfinite(value):
                yield (
                    ("search_space", name, field),
                    f"{distribution.type} takes exponents ({meaning}), "
                    f"and {base}**{exponent:g} is out of a float's range",
                    getattr(distribution, field),
                )

    def _sampling_problems(self) -> Iterable[Problem]:
        algorithm = self.sampling_algorithm.type
        for name, distribution in self.search_space.items():
            if algorithm == "grid" and not isinstance(distribution, Choice):
                yield (
                    ("search_space", name),
                    f"grid sampling takes only choice parameters (as in Azure ML), and {name!r} is "
                    f"{distribution.type}; list its values with type: choice, or use random sampling",
                    distribution.type,
                )
            if algorithm == "bayesian" and distribution.type not in BAYESIAN_KINDS:
                yield (
                    ("search_space", name),
                    f"bayesian sampling takes only choice, uniform and quniform parameters (as in Azure ML), "
                    f"and {name!r} is {distribution.type}; use random sampling for it",
                    distribution.type,
                )
        if algorithm == "bayesian" and self.early_termination is not None:
            yield (
                ("early_termination",),
                "bayesian sampling does not support early termination (as in Azure ML); "
                "remove early_termination or use random or grid sampling",
                self.early_termination.type,
            )

    def _binding_problems(self) -> Iterable[Problem]:
        if not isinstance(self.trial, SweepTrial):
            return  # a component's inputs take the search space by name once it is resolved
        command = self.trial.command
        used: set[str] = set()
        declared: dict[str, Collection[str]] = {
            "inputs": self.inputs, "outputs": self.outputs, "search_space": self.search_space,
        }  # fmt: skip
        for binding in bindings(command):
            if binding.kind == "search_space":
                used.add(binding.name)
            elif binding.optional:
                continue  # dropped when the input is not given
            names = declared[binding.kind]
            if binding.name not in names:
                hint = _did_you_mean(binding.name, names)
                if binding.kind == "inputs" and binding.name in self.search_space:
                    hint = f" (it is a search_space parameter: write ${{{{search_space.{binding.name}}}}})"
                listed = ", ".join(sorted(names)) or "none"
                message = (
                    f"uses {binding}, but {binding.kind} has no {binding.name!r}{hint} (declared: {listed})"
                )
                yield ("trial", "command"), message, command
        for name in self.search_space:
            if name not in used and _PARAMETER_NAME.match(name):
                yield (
                    ("search_space", name),
                    f"is not used: trial.command has no ${{{{search_space.{name}}}}}; "
                    "use it in the command or remove the parameter",
                    name,
                )

    @property
    def log_base(self) -> float:
        """The base of the log kinds: e, unless `sampling_algorithm.logbase` says otherwise."""
        algorithm = self.sampling_algorithm
        if isinstance(algorithm, RandomSamplingAlgorithm) and isinstance(algorithm.logbase, float):
            return algorithm.logbase
        return math.e

    @property
    def total_trials(self) -> int:
        """`limits.max_total_trials`, else Azure ML's 1000; a grid runs at most its size."""
        if self.sampling_algorithm.type == "grid":
            size = grid_size(self.search_space)
            return min(size, self.limits.max_total_trials or size)
        return self.limits.max_total_trials or DEFAULT_MAX_TOTAL_TRIALS

    @property
    def concurrent_trials(self) -> int:
        """`limits.max_concurrent_trials`, else all trials at once (Azure ML's default)."""
        return min(self.limits.max_concurrent_trials or self.total_trials, self.total_trials)

    def trial_command_job(self) -> CommandJobSpec:
        """The inline trial as a command job with the sweep's inputs, outputs and compute.

        Its command keeps `${{search_space.x}}`; the runner fills them with a trial's values.
        """
        if not isinstance(self.trial, SweepTrial):
            raise InvalidSpec(f"trial: {self.trial!r} is a component reference; resolve it first")
        timeout = self.limits.trial_timeout
        return CommandJobSpec(
            inputs=dict(self.inputs),
            outputs=dict(self.outputs),
            command=self.trial.command,
            code=self.trial.code,
            environment=self.trial.environment,
            environment_variables=dict(self.trial.environment_variables),
            compute=self.compute,
            experiment_name=self.experiment_name,
            limits=JobLimits(timeout=timeout) if timeout else None,
            resources=self.trial.resources or self.resources,
        )


def sweep_job_from_dict(data: dict[str, Any], source: str) -> SweepJobSpec:
    """Validate a sweep job mapping read from `source`; errors name the source and the field."""
    job_type = data.get("type")
    if job_type != "sweep":
        raise InvalidSpec(f"{source}: type: this reader takes sweep jobs (type: sweep), got {job_type!r}")
    return validate_spec(SweepJobSpec, data, source)


def load_sweep_job(path: Path) -> SweepJobSpec:
    """Read and validate a sweep job YAML; errors name the file and the field."""
    return sweep_job_from_dict(load_yaml(path), str(path))
