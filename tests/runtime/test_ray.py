"""Ray compute: steps, trials and partitions run as Ray tasks on a local Ray instance, same results."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mlyard.entities.jobs.job import JobStatus
from mlyard.errors import InvalidArgument
from mlyard.runtime.launch import run_job
from mlyard.services.assets.computes import create_compute, list_computes
from mlyard.services.execution import job_runs
from mlyard.services.submission.dispatch import submit_job_file
from mlyard.services.tracking.jobs import get_job

pytestmark = pytest.mark.slow

PIPELINE = """\
type: pipeline
settings: {{default_compute: {compute}}}
inputs:
  n: 5
jobs:
  make:
    command: >-
      python -c "import sys, pathlib; pathlib.Path(sys.argv[2], 'n.txt').write_text(sys.argv[1])"
      ${{{{inputs.n}}}} ${{{{outputs.out}}}}
    inputs: {{n: "${{{{parent.inputs.n}}}}"}}
    outputs: {{out: {{type: uri_folder}}}}
  square:
    command: >-
      python -c "import sys, pathlib, mlyard; n = int(pathlib.Path(sys.argv[1], 'n.txt').read_text());
      mlyard.log_metric('square', n * n)" ${{{{inputs.made}}}}
    inputs: {{made: "${{{{parent.jobs.make.outputs.out}}}}"}}
"""


@pytest.fixture(scope="module")
def ray_instance():
    import ray

    yield
    if ray.is_initialized():
        ray.shutdown()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_same_pipeline_gives_the_same_results_locally_and_on_ray(workspace, tmp_path, ray_instance):
    results = {}
    for compute in ("local", "ray"):
        path = tmp_path / f"{compute}.yml"
        path.write_text(textwrap.dedent(PIPELINE.format(compute=compute)))
        job = submit_job_file(workspace, path, overrides={"settings.force_rerun": "true"})
        result = run_job(workspace, job.id)
        assert result.status == JobStatus.COMPLETED, result.error
        steps = {name: get_job(workspace, child) for child, _, name in job_runs.children(workspace, job.id)}
        results[compute] = steps["square"].metrics
    assert results["local"] == results["ray"] == {"square": 25.0}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_named_ray_compute_and_unknown_computes(workspace, tmp_path, ray_instance):
    create_compute(workspace, "gpu-cluster", "ray")
    assert [c.name for c in list_computes(workspace)] == ["local", "ray", "gpu-cluster"]
    path = tmp_path / "job.yml"
    path.write_text(
        "command: python -c \"import mlyard; mlyard.log_metric('x', 1)\"\ncompute: azureml:gpu-cluster\n"
    )
    job = submit_job_file(workspace, path)
    assert run_job(workspace, job.id).status == JobStatus.COMPLETED
    assert get_job(workspace, job.id).metrics == {"x": 1.0}
    path.write_text("command: echo hi\ncompute: azureml:cpu-cluster\n")
    with pytest.raises(InvalidArgument, match="mlyard compute create --name cpu-cluster"):
        submit_job_file(workspace, path)
    assert Path(path).exists()
