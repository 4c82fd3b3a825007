"""Parallel jobs: one child per partition of a table, or per mini-batch of files, run concurrently."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mlyard.entities.jobs.job import JobStatus
from mlyard.errors import InvalidSpec, NotFound
from mlyard.runtime.launch import run_job
from mlyard.runtime.streaming import read_log
from mlyard.services.execution import job_runs
from mlyard.services.submission.dispatch import submit_job_file
from mlyard.services.tracking.jobs import get_job


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


TRAIN_PARTITION = """\
import argparse, json, os, pathlib

import mlyard

args = None


def init():
    global args
    parser = argparse.ArgumentParser()
    parser.add_argument("--models")
    parser.add_argument("--fail_region", default="")
    args = parser.parse_args()


def run(mini_batch):
    partition = json.loads(os.environ["MLYARD_PARTITION"])
    if partition["region"] == args.fail_region:
        raise RuntimeError(f"cannot train {partition}")
    mean = float(mini_batch["sales"].mean())
    mlyard.log_metric("mean_sales", mean)
    name = f"{partition['region']}_{partition['store_format']}.json"
    pathlib.Path(args.models, name).write_text(json.dumps({"mean": mean, **partition}))
    return [f"{partition['region']},{partition['store_format']},{len(mini_batch)},{mean}"]
"""

PARALLEL_JOB = """\
$schema: https://azuremlschemas.azureedge.net/latest/parallelJob.schema.json
type: parallel
display_name: many-models
experiment_name: many-models
compute: local
inputs:
  sales: {{type: uri_file, path: ./sales.csv}}
  fail_region: "{fail}"
outputs:
  models: {{type: uri_folder}}
  scores: {{type: uri_folder}}
input_data: ${{{{inputs.sales}}}}
partition_keys: [region, store_format]
resources: {{instance_count: 2}}
max_concurrency_per_instance: 2
error_threshold: {threshold}
retry_settings: {{max_retries: {retries}, timeout: 60}}
logging_level: DEBUG
task:
  type: run_function
  code: ./src
  entry_script: train_partition.py
  environment: inherit
  program_arguments: --models ${{{{outputs.models}}}} $[[--fail_region ${{{{inputs.fail_region}}}}]]
  append_row_to: ${{{{outputs.scores}}}}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "many"
    lines = ["region,store_format,sales"]
    for region in ("north", "south", "east"):
        for store in ("large", "small"):
            lines += [f"{region},{store},{v}" for v in (10, 20, 30)]
    write(root / "sales.csv", "\n".join(lines) + "\n")
    write(root / "src" / "train_partition.py", TRAIN_PARTITION)
    return root


def job_file(project: Path, fail: str = "", threshold: int = -1, retries: int = 0) -> Path:
    return write(project / "job.yml", PARALLEL_JOB.format(fail=fail, threshold=threshold, retries=retries))


def test_one_child_per_partition_with_merged_outputs(workspace, project):
    job = submit_job_file(workspace, job_file(project))
    result = run_job(workspace, job.id)
    assert result.status == JobStatus.COMPLETED, result.error
    children = job_runs.children(workspace, job.id)
    assert len(children) == 6 and all(status == JobStatus.COMPLETED for _, status, _ in children)
    names = sorted(name for _, _, name in children)
    assert names[0] == "region=east store_format=large"
    child = get_job(workspace, children[0][0])
    assert set(child.tags) == {"region", "store_format"} and child.metrics == {"mean_sales": 20.0}
    outputs = {o.name: o for o in job_runs.job_outputs(workspace, job.id)}
    models = workspace.artifacts.list(outputs["models"].artifact_path)
    assert len(models) == 6
    rows = workspace.artifacts.get_bytes(f"{outputs['scores'].artifact_path}/parallel_run_step.txt").decode()
    assert sorted(rows.split()) == sorted(
        f"{r},{s},3,20.0" for r in ("north", "south", "east") for s in ("large", "small")
    )
    assert "6 of 6 mini-batches completed" in read_log(workspace, job.id).decode()


def test_failures_within_the_threshold_complete_beyond_it_fail(workspace, project):
    tolerated = submit_job_file(workspace, job_file(project, fail="north", threshold=2))
    assert run_job(workspace, tolerated.id).status == JobStatus.COMPLETED
    failed = [n for _, s, n in job_runs.children(workspace, tolerated.id) if s == JobStatus.FAILED]
    assert sorted(failed) == ["region=north store_format=large", "region=north store_format=small"]
    strict = submit_job_file(workspace, job_file(project, fail="north", threshold=0, retries=1))
    result = run_job(workspace, strict.id)
    assert result.status == JobStatus.FAILED and "error threshold of 0" in result.error
    assert "cannot train" in result.error
    retried = [n for _, _, n in job_runs.children(workspace, strict.id) if "(retry 1)" in n]
    assert retried  # the failed partition was tried again before counting as failed


def test_files_split_into_mini_batches(workspace, tmp_path):
    for i in range(7):
        write(tmp_path / "images" / f"img{i}.txt", f"{i}\n")
    write(
        tmp_path / "src" / "count.py",
        """\
        def run(mini_batch):
            return [f"{len(mini_batch)} files"]
        """,
    )
    path = write(
        tmp_path / "files.yml",
        """\
        type: parallel
        inputs:
          images: {type: uri_folder, path: ./images}
        outputs:
          out: {type: uri_folder}
        input_data: ${{inputs.images}}
        mini_batch_size: "3"
        task:
          code: ./src
          entry_script: count.py
          append_row_to: ${{outputs.out}}
        """,
    )
    job = submit_job_file(workspace, path)
    assert run_job(workspace, job.id).status == JobStatus.COMPLETED
    [out] = job_runs.job_outputs(workspace, job.id)
    rows = workspace.artifacts.get_bytes(f"{out.artifact_path}/parallel_run_step.txt").decode().split("\n")
    assert rows[:3] == ["3 files", "3 files", "1 files"]


def test_bad_parallel_specs(workspace, project):
    text = job_file(project).read_text()
    cases = {
        text.replace("input_data: ${{inputs.sales}}", "input_data: ${{inputs.nope}}"): (
            InvalidSpec,
            "input_data: ${{inputs.nope}} names no declared input",
        ),
        text.replace("entry_script: train_partition.py", "entry_script: missing.py"): (
            NotFound,
            "task.entry_script: missing.py does not exist",
        ),
        text.replace("mini_batch_error", "x").replace("logging_level: DEBUG", "mini_batch_size: lots"): (
            InvalidSpec,
            "mini_batch_size: expected a number of files or rows, or a size like 10kb",
        ),
    }
    for body, (error, message) in cases.items():
        path = write(project / "bad.yml", body)
        with pytest.raises(error, match=None) as caught:
            submit_job_file(workspace, path)
        assert message in str(caught.value)
    bad_keys = write(project / "keys.yml", text.replace("[region, store_format]", "[regoin]"))
    job = submit_job_file(workspace, bad_keys)
    result = run_job(workspace, job.id)
    assert result.status == JobStatus.FAILED and "no column 'regoin'" in result.error
