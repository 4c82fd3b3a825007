"""Sweep job YAML as Azure ML writes it, and errors that name the file and the field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mlyard.entities.jobs.job_spec import JobInput
from mlyard.entities.jobs.sweep_spec import (
    BanditPolicy,
    BayesianSamplingAlgorithm,
    Choice,
    GridSamplingAlgorithm,
    MedianStoppingPolicy,
    Normal,
    QNormal,
    QUniform,
    Randint,
    RandomSamplingAlgorithm,
    SweepJobSpec,
    SweepTrial,
    TruncationSelectionPolicy,
    Uniform,
    grid_size,
    load_sweep_job,
)
from mlyard.entities.specs.spec_warnings import checking_specs
from mlyard.errors import InvalidSpec, NotFound

# cli/jobs/single-step/lightgbm/iris/job-sweep.yml from azureml-examples, unchanged
LIGHTGBM_SWEEP = """
$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json
type: sweep
trial:
  code: src
  command: >-
    python main.py
    --iris-csv ${{inputs.iris_csv}}
    --learning-rate ${{search_space.learning_rate}}
    --boosting ${{search_space.boosting}}
  environment: azureml:AzureML-lightgbm-3.2-ubuntu18.04-py37-cpu:11
inputs:
  iris_csv:
    type: uri_file
    path: https://azuremlexamples.blob.core.windows.net/datasets/iris.csv
compute: azureml:cpu-cluster
sampling_algorithm: random
search_space:
  learning_rate:
    type: uniform
    min_value: 0.01
    max_value: 0.9
  boosting:
    type: choice
    values: ["gbdt", "dart"]
objective:
  goal: minimize
  primary_metric: test-multi_logloss
limits:
  max_total_trials: 20
  max_concurrent_trials: 10
  timeout: 7200
display_name: lightgbm-iris-sweep-example
experiment_name: lightgbm-iris-sweep-example
description: Run a hyperparameter sweep job for LightGBM on Iris dataset.
"""

# cli/jobs/basics/hello-sweep.yml from azureml-examples, unchanged
HELLO_SWEEP = """
$schema: https://azuremlschemas.azureedge.net/latest/sweepJob.schema.json
type: sweep
trial:
  command: >-
    python hello-sweep.py
    --A ${{inputs.A}}
    --B ${{search_space.B}}
    --C ${{search_space.C}}
  code: src
  environment: azureml:sklearn-1.0@latest
inputs:
  A: 0.5
sampling_algorithm: random
search_space:
  B:
    type: choice
    values: ["hello", "world", "hello_world"]
  C:
    type: uniform
    min_value: 0.1
    max_value: 1.0
objective:
  goal: minimize
  primary_metric: random_metric
limits:
  max_total_trials: 4
  max_concurrent_trials: 2
  timeout: 3600
display_name: hello-sweep-example
experiment_name: hello-sweep-example
description: Hello sweep job example.
"""

# A small sweep each test varies: `{space}`, `{uses}` and `{extra}` are filled in per test.
TEMPLATE = """
type: sweep
trial:
  command: python train.py --data ${{{{inputs.data}}}} {uses}
  environment: azureml:sklearn-1.0@latest
inputs:
  data: {{type: uri_folder, path: ./data}}
search_space:
{space}
objective: {{goal: maximize, primary_metric: accuracy}}
{extra}
"""


def write(tmp_path: Path, text: str, name: str = "sweep.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def sweep(tmp_path: Path, space: dict[str, str], extra: str = "", uses: str | None = None) -> Path:
    """A sweep YAML whose search space is `space` (name → flow mapping) and whose command uses it."""
    lines = "\n".join(f"  {name}: {expression}" for name, expression in space.items())
    if uses is None:
        uses = " ".join(f"--{name} ${{{{search_space.{name}}}}}" for name in space)
    return write(tmp_path, TEMPLATE.format(space=lines, extra=textwrap.dedent(extra), uses=uses))


def test_the_azureml_examples_lightgbm_sweep_reads_unchanged(tmp_path):
    spec = load_sweep_job(write(tmp_path, LIGHTGBM_SWEEP))
    assert isinstance(spec.trial, SweepTrial)
    assert spec.trial.code == "src" and "--boosting ${{search_space.boosting}}" in spec.trial.command
    assert spec.inputs["iris_csv"] == JobInput(
        type="uri_file", path="https://azuremlexamples.blob.core.windows.net/datasets/iris.csv"
    )
    assert spec.search_space == {
        "learning_rate": Uniform(type="uniform", min_value=0.01, max_value=0.9),
        "boosting": Choice(values=["gbdt", "dart"]),
    }
    assert spec.sampling_algorithm == RandomSamplingAlgorithm()
    assert (spec.objective.goal, spec.objective.primary_metric) == ("minimize", "test-multi_logloss")
    assert (spec.total_trials, spec.concurrent_trials, spec.limits.timeout) == (20, 10, 7200)
    assert spec.early_termination is None and spec.compute == "azureml:cpu-cluster"
    assert spec.experiment_name == "lightgbm-iris-sweep-example"


def test_the_azureml_examples_hello_sweep_reads_unchanged(tmp_path):
    spec = load_sweep_job(write(tmp_path, HELLO_SWEEP))
    assert spec.inputs == {"A": 0.5}
    assert spec.search_space["B"] == Choice(values=["hello", "world", "hello_world"])
    assert (spec.total_trials, spec.concurrent_trials) == (4, 2)


def test_the_trial_becomes_a_command_job_with_the_sweeps_inputs_and_trial_timeout(tmp_path):
    extra = "limits: {trial_timeout: 600}\ncompute: local\n"
    spec = load_sweep_job(sweep(tmp_path, {"C": "{type: uniform, min_value: 0, max_value: 1}"}, extra))
    job = spec.trial_command_job()
    assert job.command == "python train.py --data ${{inputs.data}} --C ${{search_space.C}}"
    assert job.inputs == {"data": JobInput(type="uri_folder", path="./data")}
    assert (job.compute, job.timeout_seconds, job.environment) == ("local", 600, "azureml:sklearn-1.0@latest")


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("{type: choice, values: [16, 32.5, text, true]}", Choice(values=[16, 32.5, "text", True])),
        ("{type: randint, upper: 5}", Randint(upper=5)),
        ("{type: uniform, min_value: 0.05, max_value: 0.1}", Uniform(min_value=0.05, max_value=0.1)),
        (
            "{type: loguniform, min_value: -6, max_value: -1}",
            Uniform(type="loguniform", min_value=-6, max_value=-1),
        ),
        ("{type: quniform, min_value: 8, max_value: 256, q: 8}", QUniform(min_value=8, max_value=256, q=8)),
        (
            "{type: qloguniform, min_value: 0, max_value: 5, q: 0.5}",
            QUniform(type="qloguniform", min_value=0, max_value=5, q=0.5),
        ),
        ("{type: normal, mu: 10, sigma: 3}", Normal(mu=10, sigma=3)),
        ("{type: lognormal, mu: 0, sigma: 1}", Normal(type="lognormal", mu=0, sigma=1)),
        ("{type: qnormal, mu: 64, sigma: 16, q: 4}", QNormal(mu=64, sigma=16, q=4)),
        ("{type: qlognormal, mu: 2, sigma: 0.5, q: 1}", QNormal(type="qlognormal", mu=2, sigma=0.5, q=1)),
        (
            "{type: Uniform, min_value: 0, max_value: 1}",
            Uniform(min_value=0, max_value=1),
        ),  # Azure ML's casing
    ],
)
def test_every_parameter_expression_reads(tmp_path, expression, expected):
    spec = load_sweep_job(sweep(tmp_path, {"p": expression}))
    assert spec.search_space["p"] == expected


def test_choice_values_keep_their_types(tmp_path):
    spec = load_sweep_job(sweep(tmp_path, {"p": "{type: choice, values: [1, '1.5', 2.5, false]}"}))
    values = spec.search_space["p"].values  # type: ignore[union-attr]
    assert [type(value) for value in values] == [int, str, float, bool]


@pytest.mark.parametrize(
    "given, expected",
    [
        ("", RandomSamplingAlgorithm()),  # Azure ML's SDK default
        ("sampling_algorithm: random", RandomSamplingAlgorithm()),
        ("sampling_algorithm: grid", GridSamplingAlgorithm()),
        ("sampling_algorithm: Bayesian", BayesianSamplingAlgorithm()),
        (
            "sampling_algorithm: {type: random, seed: 7, rule: sobol}",
            RandomSamplingAlgorithm(seed=7, rule="sobol"),
        ),
        ("sampling_algorithm: {type: Random, rule: Random}", RandomSamplingAlgorithm()),
        ("sampling_algorithm: {type: grid}", GridSamplingAlgorithm()),
        ("sampling_algorithm: {type: bayesian}", BayesianSamplingAlgorithm()),
        ("sampling_algorithm: {type: random, logbase: 10}", RandomSamplingAlgorithm(logbase=10)),
    ],
)
def test_every_sampling_algorithm_shape_reads(tmp_path, given, expected):
    spec = load_sweep_job(sweep(tmp_path, {"p": "{type: choice, values: [1, 2]}"}, given))
    assert spec.sampling_algorithm == expected


def test_logbase_sets_the_base_of_the_log_kinds(tmp_path):
    space = {"p": "{type: loguniform, min_value: -3, max_value: -1}"}
    assert (
        load_sweep_job(sweep(tmp_path, space, "sampling_algorithm: {type: random, logbase: 10}")).log_base
        == 10
    )
    assert load_sweep_job(
        sweep(tmp_path, space, "sampling_algorithm: {type: random, logbase: e}")
    ).log_base == (pytest.approx(2.718281828))


@pytest.mark.parametrize(
    "given, expected",
    [
        (
            "{type: bandit, slack_factor: 0.1, delay_evaluation: 5}",
            BanditPolicy(slack_factor=0.1, delay_evaluation=5),
        ),
        (
            "{type: bandit, slack_amount: 0.2, evaluation_interval: 2}",
            BanditPolicy(slack_amount=0.2, evaluation_interval=2),
        ),
        (
            "{type: median_stopping, evaluation_interval: 1, delay_evaluation: 5}",
            MedianStoppingPolicy(delay_evaluation=5),
        ),
        ("{type: MedianStopping}", MedianStoppingPolicy()),  # Azure ML's REST casing
        (
            "{type: truncation_selection, truncation_percentage: 20, exclude_finished_jobs: true}",
            TruncationSelectionPolicy(truncation_percentage=20, exclude_finished_jobs=True),
        ),
    ],
)
def test_every_early_termination_policy_reads(tmp_path, given, expected):
    spec = load_sweep_job(sweep(tmp_path, {"p": "{type: randint, upper: 3}"}, f"early_termination: {given}"))
    assert spec.early_termination == expected


def test_an_evaluation_interval_of_zero_means_every_report(tmp_path):
    extra = "early_termination: {type: bandit, slack_factor: 0.1, evaluation_interval: 0}"
    spec = load_sweep_job(sweep(tmp_path, {"p": "{type: randint, upper: 3}"}, extra))
    assert spec.early_termination is not None and spec.early_termination.interval == 1


def test_the_goal_is_read_in_any_case(tmp_path):
    text = TEMPLATE.format(
        space="  p: {type: randint, upper: 3}", uses="${{search_space.p}}", extra=""
    ).replace("goal: maximize", "goal: Maximize")
    assert load_sweep_job(write(tmp_path, text)).objective.goal == "maximize"


def test_limits_default_as_in_azure_ml_and_a_grid_runs_each_combination_once(tmp_path):
    space = {"a": "{type: choice, values: [1, 2, 3]}", "b": "{type: choice, values: [x, y]}"}
    assert (load_sweep_job(sweep(tmp_path, space)).total_trials, grid_size({})) == (1000, 1)
    assert load_sweep_job(sweep(tmp_path, space)).concurrent_trials == 1000
    grid = load_sweep_job(sweep(tmp_path, space, "sampling_algorithm: grid"))
    assert (grid_size(grid.search_space), grid.total_trials) == (6, 6)
    capped = load_sweep_job(sweep(tmp_path, space, "sampling_algorithm: grid\nlimits: {max_total_trials: 4}"))
    assert capped.total_trials == 4
    larger = "sampling_algorithm: grid\nlimits: {max_total_trials: 50, max_concurrent_trials: 80}"
    assert (load_sweep_job(sweep(tmp_path, space, larger)).total_trials, 6) == (6, 6)
    assert load_sweep_job(sweep(tmp_path, space, larger)).concurrent_trials == 6


def test_a_component_trial_is_left_unresolved(tmp_path):
    text = """
    type: sweep
    trial: ./train.yml
    search_space: {lr: {type: uniform, min_value: 0, max_value: 1}}
    objective: {goal: maximize, primary_metric: accuracy}
    """
    spec = load_sweep_job(write(tmp_path, text))
    assert spec.trial == "./train.yml"  # its inputs take the search space by name once resolved
    with pytest.raises(InvalidSpec, match="trial: './train.yml' is a component reference; resolve it first"):
        spec.trial_command_job()


def test_azure_cloud_only_fields_are_accepted_and_resources_reach_the_trial(tmp_path):
    text = LIGHTGBM_SWEEP.replace(
        "  code: src\n", "  code: src\n  resources: {instance_count: 2}\n  distribution: {type: mpi}\n"
    )
    spec = load_sweep_job(
        write(tmp_path, text + "identity: {type: user_identity}\nqueue_settings: {job_tier: Spot}\n")
    )
    assert isinstance(spec.trial, SweepTrial) and spec.trial.code == "src"
    assert spec.trial_command_job().resources == {"instance_count": 2}  # a Ray executor reads cpu/gpu


def test_a_spec_survives_a_round_trip_through_json(tmp_path):
    extra = "early_termination: {type: truncation_selection, truncation_percentage: 10}\noutputs: {model: }\n"
    spec = load_sweep_job(sweep(tmp_path, {"p": "{type: qnormal, mu: 3, sigma: 1, q: 1}"}, extra))
    assert SweepJobSpec.model_validate_json(spec.model_dump_json()) == spec
    assert spec.outputs["model"].type == "uri_folder"


UNIFORM = "{type: uniform, min_value: 0, max_value: 1}"
NOT_POSITIVE = r"greater than 0"


@pytest.mark.parametrize(
    "expression, message",
    [
        ("{type: uniform, min_value: 2, max_value: 1}", r"p: min_value 2.0 must be less than max_value 1.0"),
        ("{type: uniform, min_value: low, max_value: 1}", r"p.min_value: expected number, got 'low'"),
        (
            "{type: uniform, min_value: 0, max_val: 1}",
            r"p.max_val: unknown field 'max_val' \(did you mean 'max_value'",
        ),
        ("{type: normal, mu: 1, sigma: 0}", rf"p.sigma: .*{NOT_POSITIVE}"),
        ("{type: qnormal, mu: 1, sigma: 1, q: -1}", rf"p.q: .*{NOT_POSITIVE}"),
        ("{type: randint, upper: 0}", rf"p.upper: .*{NOT_POSITIVE}"),
        ("{type: randint}", r"p.upper: required field is missing"),
        ("{type: unifrom}", r"p: unknown parameter expression type 'unifrom' \(did you mean 'uniform'\?\)"),
        ("{min_value: 0, max_value: 1}", r"p: give the parameter expression type: one of choice, randint"),
        ("{type: choice, values: []}", r"p.values: .*at least 1 item"),
        (
            "{type: choice, values: [1, {q: {type: choice}}]}",
            r"p.values\[1\]: nested search spaces .* not supported",
        ),
        ("{type: choice, values: [1, true]}", r"p.values: True repeats 1; list each value once"),
        (
            "{type: loguniform, min_value: 1, max_value: 800}",
            r"p.max_value: loguniform takes exponents .*e\*\*800",
        ),
        ("{type: lognormal, mu: 700, sigma: 10}", r"p.sigma: lognormal takes exponents"),
    ],
)
def test_bad_parameter_expressions_name_the_parameter(tmp_path, expression, message):
    with pytest.raises(InvalidSpec, match=f"sweep.yml: search_space.{message}"):
        load_sweep_job(sweep(tmp_path, {"p": expression}))


@pytest.mark.parametrize(
    "space, uses, message",
    [
        (
            {"p": UNIFORM, "q": UNIFORM},
            "${{search_space.p}}",
            r"search_space.q: is not used: trial.command has no",
        ),
        (
            {"lr": UNIFORM},
            "${{search_space.lr}} ${{search_space.l_r}}",
            r"trial.command: uses \$\{\{search_space.l_r\}\}, but search_space has no 'l_r' "
            r"\(did you mean 'lr'\?\) \(declared: lr\)",
        ),
        (
            {"lr": UNIFORM},
            "${{inputs.lr}} ${{search_space.lr}}",
            r"trial.command: uses \$\{\{inputs.lr\}\}, but inputs has no 'lr' "
            r"\(it is a search_space parameter: write \$\{\{search_space.lr\}\}\)",
        ),
        (
            {"lr": UNIFORM},
            "${{search_space.lr}} --out ${{outputs.model}}",
            r"trial.command: uses \$\{\{outputs.model\}\}, but outputs has no 'model' \(declared: none\)",
        ),
        ({"a b": UNIFORM}, "${{search_space.a}}", r"search_space.a b: a parameter name starts with a letter"),
    ],
)
def test_bindings_between_the_command_and_the_search_space_are_checked(tmp_path, space, uses, message):
    with pytest.raises(InvalidSpec, match=f"sweep.yml: {message}"):
        load_sweep_job(sweep(tmp_path, space, uses=uses))


BANDIT = "early_termination: {type: bandit, slack_factor: 0.1}"


@pytest.mark.parametrize(
    "extra, message",
    [
        (
            "sampling_algorithm: grid",
            r"search_space.lr: grid sampling takes only choice parameters \(as in Azure ML",
        ),
        (
            f"sampling_algorithm: bayesian\n{BANDIT}",
            r"early_termination: bayesian sampling does not support early",
        ),
        (
            "sampling_algorithm: randum",
            r"sampling_algorithm: unknown sampling algorithm type 'randum' \(did you",
        ),
        (
            "sampling_algorithm: {type: random, rule: halton}",
            r"sampling_algorithm.rule: expected 'random' or 'sobol'",
        ),
        (
            "sampling_algorithm: {type: random, logbase: -2}",
            r"sampling_algorithm.logbase: expected a positive number",
        ),
        (
            "early_termination: {type: bandit, slack_factor: 0.1, slack_amount: 0.2}",
            r"early_termination: give exactly",
        ),
        ("early_termination: {type: bandit}", r"early_termination: give exactly one of slack_factor"),
        ("early_termination: {type: hyperband}", r"early_termination: unknown early termination policy type"),
        (
            "early_termination: {type: truncation_selection, truncation_percentage: 100}",
            r"early_termination.truncation_percentage: .*less than or equal to 99",
        ),
        (
            "early_termination: {type: truncation_selection}",
            r"early_termination.truncation_percentage: required field is missing",
        ),
        (
            "early_termination: {type: median_stopping, delay_evaluation: -1}",
            r"early_termination.delay_evaluation: .*greater than or equal to 0",
        ),
        (
            "limits: {max_total_trials: 0, timeout: soon}",
            r"limits.max_total_trials: .*greater than or equal to 1\n"
            r".*sweep.yml: limits.timeout: expected integer, got 'soon'",
        ),
        ("comput: local", r"comput: unknown field 'comput' \(did you mean 'compute'"),
    ],
)
def test_bad_settings_name_the_file_and_field(tmp_path, extra, message):
    with checking_specs(strict=True), pytest.raises(InvalidSpec, match=f"sweep.yml: {message}"):
        load_sweep_job(sweep(tmp_path, {"lr": UNIFORM}, extra))


@pytest.mark.parametrize(
    "text, message",
    [
        (
            HELLO_SWEEP.replace("type: sweep", "type: command"),
            r"sweep.yml: type: this reader takes sweep jobs",
        ),
        (
            HELLO_SWEEP.replace("  goal: minimize\n", "  goal: up\n"),
            r"objective.goal: expected 'minimize' or 'maximize'",
        ),
        (
            HELLO_SWEEP.replace("  goal: minimize\n", ""),
            r"sweep.yml: objective.goal: required field is missing",
        ),
        (
            HELLO_SWEEP.replace("objective:\n  goal: minimize\n  primary_metric: random_metric\n", ""),
            r"sweep.yml: objective: required field is missing",
        ),
        (
            HELLO_SWEEP.replace("  code: src\n", "  code: src\n  comand: x\n"),
            r"sweep.yml: trial.comand: unknown field 'comand' \(did you mean 'command'\?\)",
        ),
        (
            HELLO_SWEEP.replace("inputs:\n  A: 0.5\n", "inputs:\n  A: {type: uri_file}\n"),
            r"sweep.yml: inputs.A: an input of type uri_file needs a path",
        ),
        (
            HELLO_SWEEP.replace("search_space:\n", "search_space: {}\nx:\n"),
            r"(?s)sweep.yml: x: unknown field",
        ),
        (
            "type: sweep\ntrial: ''\n",
            r"sweep.yml: trial: expected an inline command trial \(a mapping\) or a component",
        ),
    ],
)
def test_bad_sweep_files_name_the_file_and_field(tmp_path, text, message):
    with checking_specs(strict=True), pytest.raises(InvalidSpec, match=message):
        load_sweep_job(write(tmp_path, text))


def test_an_empty_search_space_is_refused(tmp_path):
    text = (
        HELLO_SWEEP.split("search_space:")[0]
        + "search_space: {}\nobjective: {goal: minimize, primary_metric: m}\n"
    )
    with pytest.raises(
        InvalidSpec, match="sweep.yml: search_space: give at least one parameter to sweep over"
    ):
        load_sweep_job(write(tmp_path, text))


def test_a_missing_file_is_not_found(tmp_path):
    with pytest.raises(NotFound, match="spec file .*nope.yml does not exist"):
        load_sweep_job(tmp_path / "nope.yml")
