"""The graph of a pipeline: bindings followed, order found, and every problem named before a run."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mlyard.entities.assets.component_spec import CommandComponentSpec, load_component
from mlyard.entities.jobs.job_spec import JobInput, JobOutput
from mlyard.entities.jobs.pipeline_graph import (
    Binding,
    InputBinding,
    OutputBinding,
    PipelineGraph,
    binding_of,
    build_graph,
    inline_component,
)
from mlyard.entities.jobs.pipeline_spec import load_pipeline_job
from mlyard.errors import InvalidSpec

# Local components in the shape of azureml-examples' 1a_e2e_local_components (prep → train → score)
PREP = """
$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
name: prep
version: 1
type: command
inputs:
  raw_data: {type: uri_folder}
outputs:
  prepped_data: {type: mltable}
code: ./prep_src
environment: azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest
command: python prep.py --raw ${{inputs.raw_data}} --out ${{outputs.prepped_data}}
"""

TRAIN = """
$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
name: train
display_name: Train
version: 10
type: command
inputs:
  training_data: {type: uri_folder}
  max_epocs: {type: integer, min: 1}
  learning_rate: {type: number, default: 0.01}
  learning_rate_schedule: {type: string, default: time-based, enum: [step, time-based]}
  seed: {type: integer, optional: true}
outputs:
  model_output: {type: mlflow_model}
code: ./train_src
environment: azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest
command: >-
  python train.py --training_data ${{inputs.training_data}} --max_epocs ${{inputs.max_epocs}}
  --learning_rate ${{inputs.learning_rate}} --learning_rate_schedule ${{inputs.learning_rate_schedule}}
  $[[--seed ${{inputs.seed}}]] --model_output ${{outputs.model_output}}
"""

SCORE = """
$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
name: score
version: 10
type: command
is_deterministic: false
inputs:
  model_input: {type: custom_model}
  test_data: {type: uri_folder}
outputs:
  score_output: {type: uri_file}
environment: azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest
code: ./score_src
command: >-
  python score.py --model ${{inputs.model_input}} --data ${{inputs.test_data}}
  --out ${{outputs.score_output}}
"""

PIPELINE = """
$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json
type: pipeline
display_name: prep_train_score
experiment_name: diabetes

inputs:
  raw_data:
    type: uri_folder
    path: azureml:diabetes-raw@latest
  epochs: 20
  learning_rate: 1.8

outputs:
  trained_model:
    mode: upload
  scores:
    type: uri_file

settings:
  default_compute: azureml:cpu-cluster
  continue_on_step_failure: true

jobs:
  prep:
    type: command
    component: ./prep.yml
    inputs:
      raw_data: ${{parent.inputs.raw_data}}

  train:
    type: command
    component: ./train.yml
    compute: azureml:gpu-cluster
    inputs:
      training_data: ${{parent.jobs.prep.outputs.prepped_data}}
      max_epocs: ${{parent.inputs.epochs}}
      learning_rate: ${{parent.inputs.learning_rate}}
    outputs:
      model_output: ${{parent.outputs.trained_model}}

  score:
    type: command
    component: ./score.yml
    inputs:
      model_input: ${{parent.jobs.train.outputs.model_output}}
      test_data:
        type: uri_folder
        path: ./data
        mode: download
    outputs:
      score_output: ${{parent.outputs.scores}}
"""

COMPONENTS = {"prep.yml": PREP, "train.yml": TRAIN, "score.yml": SCORE}


def write(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def build(tmp_path: Path, text: str = PIPELINE, components: dict[str, str] = COMPONENTS) -> PipelineGraph:
    """What the engine does: read the pipeline, resolve component paths beside it, build the graph."""
    for name, component in components.items():
        write(tmp_path, component, name)
    path = write(tmp_path, text, "pipeline.yml")
    spec = load_pipeline_job(path)
    resolved = {
        name: load_component(tmp_path / step.component_path)
        for name, step in spec.jobs.items()
        if step.component_path is not None
    }
    return build_graph(spec, resolved, str(path))


def problems(tmp_path: Path, text: str, components: dict[str, str] = COMPONENTS) -> list[str]:
    """The error lines, with the file's folder cut off so they read as a user sees them."""
    with pytest.raises(InvalidSpec) as caught:
        build(tmp_path, text, components)
    return [line.replace(f"{tmp_path}/", "") for line in caught.value.message.splitlines()]


def edit(old: str, new: str, text: str = PIPELINE) -> str:
    assert old in text
    return text.replace(old, new)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("${{parent.inputs.epochs}}", Binding("parent_input", name="epochs")),
        (
            "${{ parent.jobs.train-job.outputs.model }}",
            Binding("step_output", name="model", step="train-job"),
        ),
        ("${{parent.outputs.scores}}", Binding("parent_output", name="scores")),
        ("time-based", Binding("literal", value="time-based")),
        ("prefix ${{parent.inputs.x}}", Binding("literal", value="prefix ${{parent.inputs.x}}")),
        (3, Binding("literal", value=3)),
        (True, Binding("literal", value=True)),
    ],
)
def test_binding_of_reads_exactly_one_binding(value, expected):
    assert binding_of(value) == expected


def test_bindings_print_as_written():
    assert str(Binding("step_output", name="m", step="train")) == "${{parent.jobs.train.outputs.m}}"


@pytest.mark.parametrize(
    "value, hint",
    [
        ("${{inputs.epochs}}", r"did you mean \$\{\{parent.inputs.epochs\}\}\?"),
        ("${{jobs.a.outputs.b}}", r"did you mean \$\{\{parent.jobs.a.outputs.b\}\}\?"),
        ("${{parent.input.epochs}}", r"write \$\{\{parent.inputs.<name>\}\}"),
    ],
)
def test_a_malformed_binding_is_refused_with_the_likely_spelling(value, hint):
    with pytest.raises(InvalidSpec, match=rf"is not a binding a pipeline step can use: .*{hint}"):
        binding_of(value)


def test_a_prep_train_score_pipeline_builds_in_order(tmp_path):
    graph = build(tmp_path)
    assert graph.topological_order() == ["prep", "train", "score"]
    assert graph.dependencies("prep") == set() and graph.dependencies("score") == {"train"}
    assert graph.dependents("prep") == {"train"} and graph.downstream("prep") == {"train", "score"}
    assert graph.parent_output_sources() == {
        "trained_model": ("train", "model_output"),
        "scores": ("score", "score_output"),
    }
    prep, train, score = graph.steps["prep"], graph.steps["train"], graph.steps["score"]
    assert prep.inputs["raw_data"] == InputBinding(
        "uri_folder",
        "parent_input",
        asset=JobInput(path="azureml:diabetes-raw@latest"),
        parent_input="raw_data",
    )
    assert train.inputs == {
        "training_data": InputBinding("uri_folder", "step_output", step="prep", output="prepped_data"),
        "max_epocs": InputBinding("integer", "parent_input", value=20, parent_input="epochs"),
        "learning_rate": InputBinding("number", "parent_input", value=1.8, parent_input="learning_rate"),
        "learning_rate_schedule": InputBinding("string", "default", value="time-based"),
        "seed": InputBinding("integer", "not_given"),
    }
    assert train.outputs == {"model_output": OutputBinding("mlflow_model", parent_output="trained_model")}
    assert score.inputs["test_data"].source == "asset" and score.inputs["test_data"].mode == "download"
    assert prep.outputs == {"prepped_data": OutputBinding("mltable")}
    assert (prep.compute, train.compute, score.compute) == (
        "azureml:cpu-cluster", "azureml:gpu-cluster", "azureml:cpu-cluster",
    )  # fmt: skip
    assert train.is_deterministic and not score.is_deterministic
    assert graph.spec.settings.continue_on_step_failure


def test_step_settings_override_the_component(tmp_path):
    text = edit(
        "    component: ./prep.yml\n",
        "    component: ./prep.yml\n    is_deterministic: false\n    environment: azureml:custom:2\n"
        "    environment_variables: {MODE: fast}\n    outputs:\n      prepped_data: {mode: upload}\n",
    )
    prep = build(tmp_path, text).steps["prep"]
    assert not prep.is_deterministic and prep.environment == "azureml:custom:2"
    assert prep.environment_variables == {"MODE": "fast"}
    assert prep.outputs["prepped_data"] == OutputBinding("mltable", settings=JobOutput(mode="upload"))


def test_independent_steps_keep_the_yaml_order(tmp_path):
    text = """
    type: pipeline
    jobs:
      report:
        command: cat ${{inputs.a}} ${{inputs.b}}
        inputs:
          a: ${{parent.jobs.left.outputs.out}}
          b: ${{parent.jobs.right.outputs.out}}
      right:
        command: echo r > ${{outputs.out}}
        outputs: {out: }
      left:
        command: echo l > ${{outputs.out}}
        outputs: {out: }
    """
    graph = build(tmp_path, text, {})
    assert graph.topological_order() == ["right", "left", "report"]
    assert graph.dependencies("report") == {"left", "right"}


def test_inline_steps_take_the_types_of_what_they_are_bound_to(tmp_path):
    # azureml-examples basics/hello-pipeline-abc.yml and hello-pipeline-customize-output-file.yml
    text = """
    $schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json
    type: pipeline
    settings:
      default_compute: azureml:cpu-cluster
    inputs:
      hello_string_top_level_input: "hello world"
    outputs:
      output:
        type: uri_file
        path: azureml://datastores/workspaceblobstore/paths/${{name}}/hello_world.txt
        mode: rw_mount
    jobs:
      a:
        command: echo hello ${{inputs.hello_string}} $[[--tag ${{inputs.tag}}]]
        environment: azureml://registries/azureml/environments/sklearn-1.5/labels/latest
        inputs:
          hello_string: ${{parent.inputs.hello_string_top_level_input}}
          times: 3
      b:
        command: echo "world" >> ${{outputs.world_output}}/world.txt
        outputs:
          world_output:
      c:
        command: cat ${{inputs.world_input}}/world.txt > ${{outputs.output}}
        inputs:
          world_input: ${{parent.jobs.b.outputs.world_output}}
        outputs:
          output: ${{parent.outputs.output}}
    """
    graph = build(tmp_path, text, {})
    a, c = graph.steps["a"], graph.steps["c"]
    assert {name: port.type for name, port in a.component.inputs.items()} == {
        "hello_string": "string", "times": "integer", "tag": "string",
    }  # fmt: skip
    assert a.component.inputs["tag"].optional and a.inputs["tag"].source == "not_given"
    assert a.inputs["hello_string"].value == "hello world" and a.inputs["times"].value == 3
    assert c.component.inputs["world_input"].type == "uri_folder"
    assert c.outputs["output"] == OutputBinding("uri_file", parent_output="output")
    assert graph.topological_order() == ["a", "b", "c"] and a.compute == "azureml:cpu-cluster"


def test_inline_component_builds_an_anonymous_component(tmp_path):
    text = """
    type: pipeline
    jobs:
      hello:
        command: ls ${{inputs.sampledata}} ${{inputs.other}} > ${{outputs.listing}}
        code: src
        environment: {image: python}
        inputs:
          sampledata: {type: mlflow_model, path: azureml:local-mlflow-example@latest, mode: ro_mount}
          other: ${{parent.jobs.x.outputs.y}}
        outputs:
          listing: {type: uri_file}
    """
    step = load_pipeline_job(write(tmp_path, text, "pipeline.yml")).jobs["hello"]
    component = inline_component(step, {"other": "mltable"})
    assert isinstance(component, CommandComponentSpec) and component.name is None
    assert component.code == "src" and component.environment == {"image": "python"}
    assert component.inputs["sampledata"].type == "mlflow_model"
    assert component.inputs["sampledata"].mode == "ro_mount"
    assert component.inputs["other"].type == "mltable" and component.outputs["listing"].type == "uri_file"
    assert inline_component(step).inputs["other"].type == "uri_folder"


def test_a_component_written_inline_needs_no_resolving(tmp_path):
    text = """
    type: pipeline
    jobs:
      train-job:
        type: command
        component:
          name: Train
          version: 10
          type: command
          inputs:
            max_epocs: {type: integer}
          outputs:
            model_output: {type: uri_folder}
          command: python train.py --max_epocs ${{inputs.max_epocs}} --out ${{outputs.model_output}}
        inputs:
          max_epocs: "5"
    """
    step = build(tmp_path, text, {}).steps["train-job"]
    assert step.component.reference == "Train:10" and step.inputs["max_epocs"].value == 5


def test_every_problem_is_reported_together(tmp_path):
    text = edit("${{parent.inputs.epochs}}", "abc")
    text = edit(
        "${{parent.jobs.train.outputs.model_output}}", "${{parent.jobs.trian.outputs.model_output}}", text
    )
    assert problems(tmp_path, text) == [
        "pipeline.yml: jobs.train.inputs.max_epocs: expected integer, got 'abc'",
        "pipeline.yml: jobs.score.inputs.model_input: ${{parent.jobs.trian.outputs.model_output}}: "
        "there is no step 'trian' (did you mean 'train'?) (steps: prep, train, score)",
    ]


@pytest.mark.parametrize(
    "old, new, expected",
    [
        (
            "${{parent.jobs.train.outputs.model_output}}",
            "${{parent.jobs.train.outputs.model}}",
            "pipeline.yml: jobs.score.inputs.model_input: ${{parent.jobs.train.outputs.model}}: step "
            "'train' has no output 'model' (did you mean 'model_output'?) (declared: model_output)",
        ),
        (
            "${{parent.inputs.epochs}}",
            "${{parent.inputs.epoch}}",
            "pipeline.yml: jobs.train.inputs.max_epocs: ${{parent.inputs.epoch}}: the pipeline has no input "
            "'epoch' (did you mean 'epochs'?) (declared: epochs, learning_rate, raw_data)",
        ),
        (
            "${{parent.outputs.scores}}",
            "${{parent.outputs.score}}",
            "pipeline.yml: jobs.score.outputs.score_output: ${{parent.outputs.score}}: the pipeline has no "
            "output 'score' (did you mean 'scores'?) (declared: scores, trained_model)",
        ),
        (
            "      max_epocs: ${{parent.inputs.epochs}}\n",
            "      max_epocs: ${{parent.inputs.epochs}}\n      learning_rte: 0.1\n",
            "pipeline.yml: jobs.train.inputs.learning_rte: component train:10 has no input 'learning_rte' "
            "(did you mean 'learning_rate'?) (declared: learning_rate, learning_rate_schedule, max_epocs, "
            "seed, training_data)",
        ),
        (
            "      model_output: ${{parent.outputs.trained_model}}\n",
            "      model_output: ${{parent.outputs.trained_model}}\n      model: {mode: upload}\n",
            "pipeline.yml: jobs.train.outputs.model: component train:10 has no output 'model' "
            "(did you mean 'model_output'?) (declared: model_output)",
        ),
        (
            "      max_epocs: ${{parent.inputs.epochs}}\n",
            "",
            "pipeline.yml: jobs.train.inputs.max_epocs: required input of component train:10 is missing "
            "(integer)",
        ),
        (
            "epochs: 20",
            "epochs: twenty",
            "pipeline.yml: jobs.train.inputs.max_epocs: ${{parent.inputs.epochs}} is 'twenty', but this "
            "input takes integer: expected integer, got 'twenty'",
        ),
        (
            "epochs: 20",
            "epochs: 0",
            "pipeline.yml: jobs.train.inputs.max_epocs: ${{parent.inputs.epochs}} is 0, but this input "
            "takes integer: expected at least 1, got 0",
        ),
        (
            "      learning_rate: ${{parent.inputs.learning_rate}}\n",
            "      learning_rate_schedule: linear\n",
            "pipeline.yml: jobs.train.inputs.learning_rate_schedule: expected one of 'step', 'time-based', "
            "got 'linear'",
        ),
        (
            "max_epocs: ${{parent.inputs.epochs}}",
            "max_epocs: ${{parent.jobs.prep.outputs.prepped_data}}",
            "pipeline.yml: jobs.train.inputs.max_epocs: ${{parent.jobs.prep.outputs.prepped_data}} is a "
            "mltable, but this input takes integer: a step output is a file or folder, not a value",
        ),
        (
            "training_data: ${{parent.jobs.prep.outputs.prepped_data}}",
            "training_data: {type: uri_file, path: ./train.csv}",
            "pipeline.yml: jobs.train.inputs.training_data: got a uri_file, but this input takes uri_folder",
        ),
        (
            "training_data: ${{parent.jobs.prep.outputs.prepped_data}}",
            "training_data: ./data",
            "pipeline.yml: jobs.train.inputs.training_data: this input takes uri_folder: give "
            "{type: uri_folder, path: …} or a binding, not the value './data'",
        ),
        (
            "max_epocs: ${{parent.inputs.epochs}}",
            "max_epocs: ${{parent.inputs.raw_data}}",
            "pipeline.yml: jobs.train.inputs.max_epocs: ${{parent.inputs.raw_data}} is a uri_folder, but "
            "this input takes integer",
        ),
        (
            "raw_data: ${{parent.inputs.raw_data}}",
            "raw_data: ${{parent.inputs.epochs}}",
            "pipeline.yml: jobs.prep.inputs.raw_data: ${{parent.inputs.epochs}} is the value 20, but this "
            "input takes uri_folder",
        ),
        (
            "model_input: ${{parent.jobs.train.outputs.model_output}}",
            "model_input: ${{parent.jobs.prep.outputs.prepped_data}}",
            "pipeline.yml: jobs.score.inputs.model_input: ${{parent.jobs.prep.outputs.prepped_data}} is a "
            "mltable, but this input takes custom_model",
        ),
        (
            "test_data:\n        type: uri_folder\n        path: ./data\n        mode: download",
            "test_data: ${{parent.outputs.scores}}",
            "pipeline.yml: jobs.score.inputs.test_data: a step input cannot read ${{parent.outputs.scores}}: "
            "bind the step output that writes it, ${{parent.jobs.<step>.outputs.<name>}}",
        ),
        (
            "score_output: ${{parent.outputs.scores}}",
            "score_output: ${{parent.inputs.epochs}}",
            "pipeline.yml: jobs.score.outputs.score_output: an output takes ${{parent.outputs.<name>}} or a "
            "mapping such as {mode: upload}, not '${{parent.inputs.epochs}}'",
        ),
        (
            "score_output: ${{parent.outputs.scores}}",
            "score_output: ${{parent.outputs.trained_model}}",
            "pipeline.yml: jobs.score.outputs.score_output: ${{parent.outputs.trained_model}} is already "
            "written by jobs.train.outputs.model_output; a pipeline output takes one step output",
        ),
        (
            "  scores:\n    type: uri_file\n",
            "  scores:\n    type: uri_folder\n",
            "pipeline.yml: jobs.score.outputs.score_output: ${{parent.outputs.scores}} is a uri_folder, but "
            "this step output is a uri_file",
        ),
        (
            "raw_data: ${{parent.inputs.raw_data}}",
            "raw_data: ${{inputs.raw_data}}",
            "pipeline.yml: jobs.prep.inputs.raw_data: '${{inputs.raw_data}}' is not a binding a pipeline "
            "step can use: write ${{parent.inputs.<name>}}, ${{parent.jobs.<step>.outputs.<name>}} or "
            "${{parent.outputs.<name>}}; did you mean ${{parent.inputs.raw_data}}?",
        ),
    ],
)
def test_each_problem_names_the_file_step_and_field(tmp_path, old, new, expected):
    assert problems(tmp_path, edit(old, new)) == [expected]


def test_compatible_asset_types_bind(tmp_path):
    # mltable → uri_folder (training_data), mlflow_model → custom_model (model_input): both allowed
    graph = build(tmp_path)
    assert graph.steps["train"].inputs["training_data"].type == "uri_folder"
    assert graph.steps["score"].inputs["model_input"].type == "custom_model"


@pytest.mark.parametrize(
    "reads, cycle",
    [
        ({"a": "b", "b": "a"}, "jobs.a.inputs.data: the steps feed each other in a cycle: a → b → a"),
        (
            {"a": "c", "b": "a", "c": "b"},
            "jobs.a.inputs.data: the steps feed each other in a cycle: a → b → c → a",
        ),
        ({"a": "a", "b": "a"}, "jobs.a.inputs.data: the steps feed each other in a cycle: a → a"),
        (
            {"x": None, "a": "b", "b": "a"},
            "jobs.a.inputs.data: the steps feed each other in a cycle: a → b → a",
        ),
    ],
)
def test_a_cycle_names_its_steps_in_order(tmp_path, reads, cycle):
    steps = "".join(
        f"  {name}:\n    command: cp -r ${{{{inputs.data}}}} ${{{{outputs.out}}}}\n"
        + (f"    inputs: {{data: '${{{{parent.jobs.{writer}.outputs.out}}}}'}}\n" if writer else "")
        + "    outputs: {out: }\n"
        if writer
        else f"  {name}:\n    command: echo > ${{{{outputs.out}}}}\n    outputs: {{out: }}\n"
        for name, writer in reads.items()
    )
    assert problems(tmp_path, f"type: pipeline\njobs:\n{steps}", {}) == [f"pipeline.yml: {cycle}"]


def test_an_optional_input_the_command_needs_must_be_given(tmp_path):
    component = """
    name: opt
    type: command
    inputs: {note: {type: string, optional: true}}
    command: echo ${{inputs.note}}
    """
    text = "type: pipeline\njobs:\n  hello:\n    component: ./opt.yml\n"
    assert problems(tmp_path, text, {"opt.yml": component}) == [
        "pipeline.yml: jobs.hello.inputs.note: optional input of component opt is not given, but its "
        "command uses ${{inputs.note}} outside $[[ … ]]; give a value"
    ]


def test_an_unresolved_component_is_named(tmp_path):
    spec = load_pipeline_job(
        write(tmp_path, "type: pipeline\njobs:\n  t:\n    component: azureml:train:1\n", "p.yml")
    )
    with pytest.raises(
        InvalidSpec, match=r"^p.yml: jobs.t.component: component 'azureml:train:1' was not resolved$"
    ):
        build_graph(spec, {}, "p.yml")
