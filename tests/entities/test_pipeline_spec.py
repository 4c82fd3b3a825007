"""Pipeline job YAML as Azure ML writes it, and errors that name the file, the step and the field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mlyard.entities.assets.component_spec import CommandComponentSpec
from mlyard.entities.jobs.job_spec import JobInput, JobOutput
from mlyard.entities.jobs.pipeline_spec import load_pipeline_job
from mlyard.entities.specs.names import AssetRef
from mlyard.entities.specs.spec_warnings import checking_specs
from mlyard.errors import InvalidSpec

# azureml-examples cli/jobs/pipelines-with-components/basics/1a_e2e_local_components/pipeline.yml,
# with the settings line the registered-components variant uses
LOCAL_COMPONENTS = """
$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json
type: pipeline

display_name: 1a_e2e_local_components
description: Dummy train-score-eval pipeline with local components

inputs:
  pipeline_job_training_max_epocs: 20
  pipeline_job_training_learning_rate: 1.8
  pipeline_job_learning_rate_schedule: 'time-based'

outputs:
  pipeline_job_trained_model:
    mode: upload
  pipeline_job_evaluation_report:
    mode: upload

settings:
  default_compute: azureml:cpu-cluster

jobs:
  train_job:
    type: command
    compute: azureml:cpu-cluster
    component: ./train.yml
    inputs:
      training_data:
        type: uri_folder
        path: ./data
      max_epocs: ${{parent.inputs.pipeline_job_training_max_epocs}}
      learning_rate: ${{parent.inputs.pipeline_job_training_learning_rate}}
      learning_rate_schedule: ${{parent.inputs.pipeline_job_learning_rate_schedule}}
    outputs:
      model_output: ${{parent.outputs.pipeline_job_trained_model}}

  score_job:
    type: command
    component: ./score.yml
    compute: azureml:cpu-cluster
    inputs:
      model_input: ${{parent.jobs.train_job.outputs.model_output}}
      test_data:
        type: uri_folder
        path: ./data
    outputs:
      score_output:
        mode: upload

  evaluate_job:
    type: command
    component: ./eval.yml
    compute: azureml:cpu-cluster
    inputs:
      scoring_result: ${{parent.jobs.score_job.outputs.score_output}}
    outputs:
      eval_output: ${{parent.outputs.pipeline_job_evaluation_report}}
"""

# .../basics/hello-pipeline-abc.yml: inline command steps, no `type`, an empty output
INLINE_COMMANDS = """
$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json
type: pipeline
display_name: hello_pipeline_abc
settings:
    default_compute: azureml:cpu-cluster

inputs:
  hello_string_top_level_input: "hello world"
jobs:
  a:
    command: echo hello ${{inputs.hello_string}}
    environment: azureml://registries/azureml/environments/sklearn-1.5/labels/latest
    inputs:
      hello_string: ${{parent.inputs.hello_string_top_level_input}}
  b:
    command: echo "world" >> ${{outputs.world_output}}/world.txt
    environment: azureml://registries/azureml/environments/sklearn-1.5/labels/latest
    outputs:
      world_output:
  c:
    command: echo ${{inputs.world_input}}/world.txt
    environment: azureml://registries/azureml/environments/sklearn-1.5/labels/latest
    inputs:
      world_input: ${{parent.jobs.b.outputs.world_output}}
"""


def write(tmp_path: Path, text: str, name: str = "pipeline.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def pipeline(jobs: str, head: str = "") -> str:
    """A pipeline YAML with `head` (top-level fields) and `jobs` (the indented steps)."""
    return f"type: pipeline\n{textwrap.dedent(head)}jobs:\n{textwrap.indent(textwrap.dedent(jobs), '  ')}"


def test_an_azureml_examples_pipeline_with_local_components_reads_unchanged(tmp_path):
    spec = load_pipeline_job(write(tmp_path, LOCAL_COMPONENTS))
    assert list(spec.jobs) == ["train_job", "score_job", "evaluate_job"]
    assert spec.inputs["pipeline_job_training_max_epocs"] == 20
    assert spec.outputs["pipeline_job_trained_model"] == JobOutput(mode="upload")
    assert spec.settings.default_compute == "azureml:cpu-cluster"
    assert not spec.settings.continue_on_step_failure and not spec.settings.force_rerun
    train = spec.jobs["train_job"]
    assert train.component == "./train.yml" and train.component_path == "./train.yml"
    assert train.component_ref is None and not train.is_inline
    assert train.inputs["training_data"] == JobInput(type="uri_folder", path="./data")
    assert train.inputs["max_epocs"] == "${{parent.inputs.pipeline_job_training_max_epocs}}"
    assert train.outputs["model_output"] == "${{parent.outputs.pipeline_job_trained_model}}"
    assert spec.jobs["score_job"].outputs["score_output"] == JobOutput(mode="upload")
    assert train.retry == 0 and train.timeout_seconds is None and train.is_deterministic is None


def test_inline_command_steps_default_to_type_command(tmp_path):
    spec = load_pipeline_job(write(tmp_path, INLINE_COMMANDS))
    assert all(step.type == "command" and step.is_inline for step in spec.jobs.values())
    assert spec.jobs["b"].outputs == {"world_output": None}
    assert spec.step_compute("c") == "azureml:cpu-cluster"


@pytest.mark.parametrize(
    "component, path, ref",
    [
        ("azureml:my_train@latest", None, AssetRef("my_train", alias="latest")),
        ("azureml:train:10", None, AssetRef("train", version="10")),
        ("train@production", None, AssetRef("train", alias="production")),
        ("file:./componentA.yml", "./componentA.yml", None),
        ("../shared/train.yaml", "../shared/train.yaml", None),
        ("train.yml", "train.yml", None),
    ],
)
def test_components_are_referenced_by_path_or_by_name(tmp_path, component, path, ref):
    spec = load_pipeline_job(write(tmp_path, pipeline(f"train:\n  component: {component}\n")))
    assert spec.jobs["train"].component_path == path and spec.jobs["train"].component_ref == ref


def test_a_component_can_be_written_inline(tmp_path):
    text = pipeline(
        """
        train-job:
          type: command
          component:
            $schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
            name: Train
            version: 10
            type: command
            inputs:
              max_epocs: {type: integer}
            outputs:
              model_output: {type: uri_folder}
            environment: azureml:AzureML-sklearn-0.24-ubuntu18.04-py37-cpu:5
            command: python train.py --max_epocs ${{inputs.max_epocs}} --out ${{outputs.model_output}}
          inputs:
            max_epocs: 3
        """
    )
    step = load_pipeline_job(write(tmp_path, text)).jobs["train-job"]
    assert isinstance(step.component, CommandComponentSpec) and step.component.version == "10"
    assert step.component_path is None and step.component_ref is None


def test_settings_and_per_step_controls(tmp_path):
    text = pipeline(
        """
        train:
          component: ./train.yml
          retry: 2
          limits: {timeout: 600}
          is_deterministic: false
          environment_variables: {WORKERS: 4}
          resources: {instance_count: 2}
          identity: {type: managed}
        score:
          command: echo hi
          timeout: 30
        """,
        head="""
        compute: azureml:gpu-cluster
        settings:
          default_datastore: azureml:workspaceblobstore
          continue_on_step_failure: true
          force_rerun: true
          max_concurrency: 2
          on_init: train
        tags: {owner: ml, run: 1}
        """,
    )
    spec = load_pipeline_job(write(tmp_path, text))
    assert spec.settings.continue_on_step_failure and spec.settings.force_rerun
    assert spec.settings.max_concurrency == 2 and spec.settings.default_compute is None
    assert spec.step_compute("score") == "azureml:gpu-cluster" and spec.tags == {"owner": "ml", "run": "1"}
    train, score = spec.jobs["train"], spec.jobs["score"]
    assert train.retry == 2 and train.timeout_seconds == 600 and train.is_deterministic is False
    assert train.environment_variables == {"WORKERS": "4"} and train.resources == {"instance_count": 2}
    assert score.timeout_seconds == 30


@pytest.mark.parametrize(
    "text, message",
    [
        (
            pipeline("tune:\n  type: sweep\n  trial: ./train.yml\n"),
            r"pipeline.yml: jobs.tune: type: sweep steps are not supported inside pipelines yet",
        ),
        (
            pipeline("score:\n  type: parallel\n  component: ./score.yml\n"),
            r"pipeline.yml: jobs.score: component: a parallel step takes its task inline .*"
            r"parallel components are not supported yet",
        ),
        (
            pipeline("score:\n  type: sweep\n  component: ./score.yml\n"),
            r"pipeline.yml: jobs.score: type: sweep steps are not supported inside pipelines yet",
        ),
        (
            pipeline("train:\n  componet: ./train.yml\n"),
            r"(?s)pipeline.yml: jobs.train.componet: unknown field 'componet' \(did you mean 'component'\?\)",
        ),
        (
            pipeline("train:\n  compute: local\n"),
            r"pipeline.yml: jobs.train: give either component \(a YAML path, name:version or a mapping\) "
            r"or command",
        ),
        (
            pipeline("train:\n  component: ./train.yml\n  command: echo hi\n"),
            r"pipeline.yml: jobs.train: give either component or command and code, not both",
        ),
        (
            pipeline("train:\n  component: 'azureml:bad name:1'\n"),
            r"pipeline.yml: jobs.train.component: invalid name 'bad name'.*a component is a YAML path",
        ),
        (
            pipeline("hello:\n  command: echo ${{inputs.greeting}}\n  inputs: {greting: hi}\n"),
            r"pipeline.yml: jobs.hello.command: uses \$\{\{inputs.greeting\}\}, but this step's inputs have "
            r"no 'greeting' \(did you mean 'greting'\?\) \(declared: greting\)",
        ),
        (
            pipeline("hello:\n  command: echo hi\n  inputs: {data: {type: uri_folder, pth: ./d}}\n"),
            r"^\S*pipeline.yml: jobs.hello.inputs.data.pth: unknown field 'pth' \(did you mean 'path'\?\)$",
        ),
        (
            pipeline("hello:\n  command: echo hi\n  inputs: {data: [1, 2]}\n"),
            r"pipeline.yml: jobs.hello.inputs.data: expected a value \(text, number, true or false\) or a "
            r"mapping, got \[1, 2\]",
        ),
        (
            pipeline("hello:\n  command: echo hi\n  outputs: {o: {type: folder}}\n"),
            r"pipeline.yml: jobs.hello.outputs.o.type: expected 'uri_file', 'uri_folder', ",
        ),
        (pipeline("hello:\n  command: echo hi\n  retry: -1\n"), r"pipeline.yml: jobs.hello.retry: "),
        (pipeline("hello:\n  command: echo hi\n  timeout: 0\n"), r"pipeline.yml: jobs.hello.timeout: "),
        (
            pipeline("hello:\n  command: echo hi\n", head="settings: {force_re_run: true}\n"),
            r"pipeline.yml: settings.force_re_run: unknown field 'force_re_run' "
            r"\(did you mean 'force_rerun'\?\)",
        ),
        (
            pipeline("hello:\n  command: echo hi\n", head="settings: {max_concurrency: 0}\n"),
            r"pipeline.yml: settings.max_concurrency: ",
        ),
        (
            pipeline("hello world:\n  command: echo hi\n"),
            r"pipeline.yml: jobs: step name 'hello world': start with a letter or '_'",
        ),
        ("type: pipeline\njobs: {}\n", r"pipeline.yml: jobs: "),
        ("type: pipeline\n", r"pipeline.yml: jobs: required field is missing"),
        ("type: command\ncommand: echo hi\n", r"pipeline.yml: type: this reader takes pipeline jobs"),
        ("jobs: {a: {command: echo}}\n", r"pipeline.yml: type: this reader takes pipeline jobs"),
        (
            "type: pipeline\njobs:\n  a:\n    command: echo\n   bad: indent\n",
            r"pipeline.yml \(line 5, column 4\): not valid YAML",
        ),
    ],
)
def test_bad_pipelines_name_the_file_step_and_field(tmp_path, text, message):
    with checking_specs(strict=True), pytest.raises(InvalidSpec, match=message):
        load_pipeline_job(write(tmp_path, text))


def test_a_wrong_step_input_is_not_also_a_missing_command_binding(tmp_path):
    path = write(tmp_path, pipeline("hello:\n  command: echo ${{inputs.n}}\n  inputs: {n: [1, 2]}\n"))
    with pytest.raises(InvalidSpec) as caught:
        load_pipeline_job(path)
    [line] = caught.value.message.splitlines()
    assert line.startswith(f"{path}: jobs.hello.inputs.n: expected a value")
