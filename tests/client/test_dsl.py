"""The Python DSL: `@command_component` functions and `@pipeline` functions, submitted and run."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mlyard.entities.jobs.job import JobStatus
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


# The README's DSL example, as a new user saves it: the submit at the top level of the script.
README_DSL_MODULE_LEVEL_SUBMIT = """\
from mlyard import Input, MLClient, Output, command_component, pipeline

@command_component(environment="inherit")
def prep(raw: Input(type="uri_file"), clean: Output(type="uri_folder"), rows: int = 100): ...

@command_component
def train(data: Input(type="uri_folder"), model: Output(type="uri_folder"), alpha: float = 0.5): ...

@pipeline(experiment_name="taxi")
def taxi(raw: Input(type="uri_file"), alpha: float = 0.5):
    return {"model": train(data=prep(raw=raw).outputs.clean, alpha=alpha).outputs.model}

job = MLClient().jobs.create(taxi(raw=Input(type="uri_file", path="data/raw.csv")), wait=True)
"""

README_DSL_GUARDED_SUBMIT = README_DSL_MODULE_LEVEL_SUBMIT.replace(
    "job = MLClient()", 'if __name__ == "__main__":\n    job = MLClient()'
)


def run_script(folder: Path, script: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`python dsl.py` in `folder` (workspace ./.mlyard), killed with everything it started on timeout."""
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "raw.csv").write_text("a,b\n1,2\n")
    (folder / "dsl.py").write_text(script)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLYARD_")}
    process = subprocess.Popen(
        [sys.executable, "dsl.py"], cwd=folder, env=env, text=True, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"python dsl.py still submitting after {timeout} s")
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_the_readme_dsl_script_with_a_module_level_submit_stops_with_the_cause_and_the_fix(tmp_path):
    done = run_script(tmp_path / "project", README_DSL_MODULE_LEVEL_SUBMIT)
    assert done.returncode != 0
    assert "dsl.py submits a job while mlyard imports it to run the component prep" in done.stderr
    assert 'Put it under `if __name__ == "__main__":` in dsl.py' in done.stderr
    import mlyard

    jobs = mlyard.MLClient(workspace=tmp_path / "project" / ".mlyard").jobs.list()
    assert [job.type for job in jobs if job.parent_job_id is None] == ["pipeline"]  # only the one run
    assert len(jobs) <= 3 and all(job.status.is_terminal for job in jobs)


def test_the_readme_dsl_script_with_its_submit_under_main_runs(tmp_path):
    done = run_script(tmp_path / "project", README_DSL_GUARDED_SUBMIT)
    assert done.returncode == 0, done.stderr
    import mlyard

    jobs = mlyard.MLClient(workspace=tmp_path / "project" / ".mlyard").jobs.list()
    assert sorted(job.display_name or "" for job in jobs) == ["prep", "taxi", "train"]
    assert all(job.status == JobStatus.COMPLETED for job in jobs)
