"""The Python DSL: `@command_component` functions and `@pipeline` functions, submitted and run."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

from mlyard.entities.job import JobStatus
from mlyard.errors import InvalidSpec

STEPS = '''\
from __future__ import annotations

import json
from pathlib import Path

from mlyard import Input, Output, command_component, pipeline


@command_component(environment="inherit")
def make_numbers(count: int, numbers: Output(type="uri_folder")):
    """Write 1..count."""
    Path(numbers, "numbers.json").write_text(json.dumps(list(range(1, count + 1))))


@command_component
def total(numbers: Input(type="uri_folder"), scale: float = 1.0, result: Output(type="uri_folder") = None):
    import mlyard
    values = json.loads(Path(numbers, "numbers.json").read_text())
    value = sum(values) * scale
    mlyard.log_metric("total", value)
    Path(result, "total.txt").write_text(str(value))


@pipeline(experiment_name="dsl")
def sum_pipeline(count: int = 4, scale: float = 2.0):
    made = make_numbers(count=count)
    summed = total(numbers=made.outputs.numbers, scale=scale)
    return {"answer": summed.outputs.result}
'''


@pytest.fixture
def steps(tmp_path: Path):
    folder = tmp_path / "dsl_project"
    folder.mkdir()
    path = folder / "dsl_steps.py"
    path.write_text(textwrap.dedent(STEPS))
    spec = importlib.util.spec_from_file_location("dsl_steps", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["dsl_steps"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("dsl_steps", None)


def test_pipeline_built_in_python_runs_like_yaml(client, steps):
    job = client.jobs.create(steps.sum_pipeline(count=5, scale=3.0), wait=True)
    assert job.status == JobStatus.COMPLETED and job.experiment == "dsl"
    children = {child.display_name: child for child in client.jobs.children(job.id)}
    assert set(children) == {"make_numbers", "total"}
    assert children["total"].metrics == {"total": 45.0}
    [answer] = client.jobs.outputs(job.id)
    assert answer.name == "answer"


def test_a_component_called_alone_is_a_command_job(client, steps):
    job = client.jobs.create(steps.make_numbers(count=3), wait=True)
    [numbers] = client.jobs.outputs(job.id)
    assert numbers.name == "numbers"


def test_a_function_component_registers_and_runs_by_reference(client, steps, tmp_path):
    registered = client.components.create_or_update(steps.make_numbers)
    assert registered.ref == "make_numbers:1"
    assert client.components.create_or_update(steps.make_numbers).ref == "make_numbers:1"
    pipeline = tmp_path / "p.yml"
    pipeline.write_text(
        "type: pipeline\njobs:\n  make:\n    component: azureml:make_numbers:1\n    inputs: {count: 2}\n"
    )
    job = client.jobs.create(pipeline, wait=True)
    assert job.status == JobStatus.COMPLETED


def test_dsl_mistakes_are_named(steps):
    with pytest.raises(InvalidSpec, match="component total has no input 'scal'"):
        steps.total(numbers=None, scal=2)
    component = steps.total
    assert component.inputs["scale"].default == 1.0 and component.inputs["numbers"].type == "uri_folder"
