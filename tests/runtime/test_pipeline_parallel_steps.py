"""Parallel steps inside pipelines (`type: parallel` under `jobs:`), as Azure ML v2's many-models
samples write them: a prep step, a parallel step partitioned by two keys, a step reading the
rows the parallel step appended. Each parallel step runs as a child parallel job."""

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
from mlyard.services.tracking.jobs import get_job, search_jobs


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


PREP = """\
import argparse, pathlib, shutil

parser = argparse.ArgumentParser()
parser.add_argument("--raw")
parser.add_argument("--out")
args = parser.parse_args()
out = pathlib.Path(args.out)
shutil.copy(args.raw, out / "sales.csv")
(out / "MLTable").write_text("paths:\\n  - file: ./sales.csv\\ntransformations:\\n  - read_delimited: {}\\n")
"""

TRAIN_PARTITION = """\
import argparse, json, logging, os, pathlib

args = None


def init():
    global args
    parser = argparse.ArgumentParser()
    parser.add_argument("--models")
    parser.add_argument("--min_rows", type=int)
    parser.add_argument("--fail_region", default="")
    args, _ = parser.parse_known_args()
    logging.getLogger("train").debug("debug lines are shown at logging_level DEBUG")


def run(mini_batch):
    partition = json.loads(os.environ["MLYARD_PARTITION"])
    if partition["region"] == args.fail_region:
        raise RuntimeError(f"cannot train {partition}")
    assert len(mini_batch) >= args.min_rows
    name = f"{partition['region']}_{partition['store_format']}.json"
    pathlib.Path(args.models, name).write_text(json.dumps({"mean": float(mini_batch["sales"].mean())}))
    return [f"{partition['region']},{partition['store_format']},{len(mini_batch)}"]
"""

REPORT = """\
import argparse, pathlib

import mlyard

parser = argparse.ArgumentParser()
parser.add_argument("--scores")
parser.add_argument("--models")
args = parser.parse_args()
rows = pathlib.Path(args.scores).read_text().split()
mlyard.log_metric("partitions", len(rows))
mlyard.log_metric("models", len(list(pathlib.Path(args.models).iterdir())))
print("scores:", pathlib.Path(args.scores).name, sorted(rows))
"""

MANY_MODELS = """\
$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json
type: pipeline
display_name: many-models
experiment_name: many-models
settings:
  default_datastore: azureml:workspaceblobstore
  continue_on_step_failure: false
inputs:
  raw: {{type: uri_file, path: ./sales.csv}}
  min_rows: 2
  fail_region: "{fail}"
jobs:
  prep:
    type: command
    code: ./prep
    command: python prep.py --raw ${{{{inputs.raw}}}} --out ${{{{outputs.table}}}}
    inputs:
      raw: ${{{{parent.inputs.raw}}}}
    outputs:
      table: {{type: mltable}}
  train_each:
    type: parallel
    display_name: train one model per partition
    inputs:
      data:
        type: mltable
        path: ${{{{parent.jobs.prep.outputs.table}}}}
        mode: direct
      min_rows: ${{{{parent.inputs.min_rows}}}}
      fail_region: ${{{{parent.inputs.fail_region}}}}
    outputs:
      models: {{type: uri_folder, mode: rw_mount}}
      scores:
        type: uri_file
        path: azureml://datastores/${{{{default_datastore}}}}/paths/${{{{name}}}}/scores.csv
    input_data: ${{{{inputs.data}}}}
    partition_keys: [region, store_format]
    resources:
      instance_count: 2
      instance_type: Standard_D2_v2
    max_concurrency_per_instance: 1
    error_threshold: {threshold}
    mini_batch_error_threshold: {threshold}
    retry_settings:
      max_retries: {retries}
      timeout: 60
    logging_level: DEBUG
    task:
      type: run_function
      code: ./train
      entry_script: train_partition.py
      program_arguments: >-
        --models ${{{{outputs.models}}}}
        --min_rows ${{{{inputs.min_rows}}}}
        --fail_region ${{{{inputs.fail_region}}}}
      append_row_to: ${{{{outputs.scores}}}}
  report:
    type: command
    code: ./report
    command: python report.py --scores ${{{{inputs.scores}}}} --models ${{{{inputs.models}}}}
    inputs:
      scores: ${{{{parent.jobs.train_each.outputs.scores}}}}
      models: ${{{{parent.jobs.train_each.outputs.models}}}}
"""


@pytest.fixture
def many_models(tmp_path: Path) -> Path:
    root = tmp_path / "many-models"
    lines = ["region,store_format,sales"]
    for region in ("north", "south"):
        for store in ("large", "small"):
            lines += [f"{region},{store},{v}" for v in (10, 20, 30)]
    write(root / "sales.csv", "\n".join(lines) + "\n")
    write(root / "prep" / "prep.py", PREP)
    write(root / "train" / "train_partition.py", TRAIN_PARTITION)
    write(root / "report" / "report.py", REPORT)
    return root


def pipeline_file(root: Path, fail: str = "none", threshold: int = -1, retries: int = 0) -> Path:
    text = MANY_MODELS.format(fail=fail, threshold=threshold, retries=retries)
    return write(root / "pipeline.yml", text)


def steps_of(client, job_id: str) -> dict:  # type: ignore[no-untyped-def]
    return {step.display_name: step for step in client.jobs.children(job_id)}


def test_a_many_models_pipeline_runs_its_parallel_step_per_partition_and_reuses_it(client, many_models):
    first = client.jobs.create(pipeline_file(many_models), wait=True)
    steps = steps_of(client, first.id)
    parallel = steps["train one model per partition"]
    assert parallel.type == "parallel" and parallel.status == JobStatus.COMPLETED
    partitions = client.jobs.children(parallel.id)
    assert sorted(p.display_name for p in partitions) == [
        f"region={r} store_format={s}" for r in ("north", "south") for s in ("large", "small")
    ]
    assert {p.tags["region"] for p in partitions} == {"north", "south"}
    # the step reading the appended rows (a uri_file named by the output's path) and the models
    assert steps["report"].metrics == {"partitions": 4.0, "models": 4.0}
    second = client.jobs.create(pipeline_file(many_models), wait=True)
    again = steps_of(client, second.id)
    assert again["train one model per partition"].reused_from == parallel.id
    assert again["report"].reused_from == steps["report"].id


def test_appended_rows_land_in_the_file_a_uri_file_output_path_names(workspace, many_models):
    job = submit_job_file(workspace, pipeline_file(many_models))
    assert run_job(workspace, job.id).status == JobStatus.COMPLETED
    children = {name: child for child, _, name in job_runs.children(workspace, job.id)}
    parallel = children["train one model per partition"]
    outputs = {o.name: o for o in job_runs.job_outputs(workspace, parallel)}
    listed = workspace.artifacts.list(outputs["scores"].artifact_path)
    assert [Path(info.path).name for info in listed] == ["scores.csv"]
    rows = workspace.artifacts.get_bytes(f"{outputs['scores'].artifact_path}/scores.csv").decode().split()
    assert sorted(rows) == ["north,large,3", "north,small,3", "south,large,3", "south,small,3"]
    pipeline_log = read_log(workspace, job.id).decode()
    assert f"[train_each] Running as parallel job {parallel}" in pipeline_log
    partition_log = read_log(workspace, job_runs.children(workspace, parallel)[0][0]).decode()
    assert "debug lines are shown at logging_level DEBUG" in partition_log


def test_partitions_failing_within_the_error_threshold_let_the_pipeline_complete(workspace, many_models):
    job = submit_job_file(workspace, pipeline_file(many_models, fail="north", threshold=2))
    assert run_job(workspace, job.id).status == JobStatus.COMPLETED
    report = next(c for c, _, name in job_runs.children(workspace, job.id) if name == "report")
    assert get_job(workspace, report).metrics == {"partitions": 2.0, "models": 2.0}


def test_partitions_failing_beyond_the_error_threshold_fail_the_step_and_the_pipeline(workspace, many_models):
    job = submit_job_file(workspace, pipeline_file(many_models, fail="north", threshold=0, retries=1))
    result = run_job(workspace, job.id)
    assert result.status == JobStatus.FAILED
    assert "train_each" in result.error and "error threshold of 0" in result.error
    statuses = {name: status for _, status, name in job_runs.children(workspace, job.id)}
    assert statuses["train one model per partition"] == JobStatus.FAILED
    assert "report" not in statuses or statuses["report"] != JobStatus.COMPLETED


COUNT_FILES = """\
import argparse, pathlib

parser = argparse.ArgumentParser()
parser.add_argument("--label")
parser.add_argument("--repeat", type=int)
args, _ = parser.parse_known_args()


def run(mini_batch):
    sizes = sum(pathlib.Path(f).stat().st_size for f in mini_batch)
    return [f"{args.label * args.repeat}:{len(mini_batch)}:{sizes}"]
"""

FILES_PIPELINE = """\
type: pipeline
inputs:
  images: {type: uri_folder, path: ./images}
  label: ab
jobs:
  count:
    type: parallel
    inputs:
      images: ${{parent.inputs.images}}
      label: ${{parent.inputs.label}}
    outputs:
      counts: {type: uri_folder}
    input_data: ${{inputs.images}}
    mini_batch_size: "1kb"
    task:
      code: ./src
      entry_script: count.py
      program_arguments: --label ${{inputs.label}} --repeat 2
      append_row_to: ${{outputs.counts}}
"""


def test_a_size_based_mini_batch_groups_files_and_program_arguments_reach_the_script(workspace, tmp_path):
    for i in range(6):
        write(tmp_path / "images" / f"img{i}.bin", "x" * 400)
    write(tmp_path / "src" / "count.py", COUNT_FILES)
    job = submit_job_file(workspace, write(tmp_path / "files.yml", FILES_PIPELINE))
    assert run_job(workspace, job.id).status == JobStatus.COMPLETED
    [(parallel, _, _)] = job_runs.children(workspace, job.id)
    assert len(job_runs.children(workspace, parallel)) == 3  # 2 × 400 bytes fit in 1kb, 3 do not
    [out] = job_runs.job_outputs(workspace, parallel)
    rows = workspace.artifacts.get_bytes(f"{out.artifact_path}/parallel_run_step.txt").decode().split()
    assert rows == ["abab:2:800"] * 3


def test_bad_parallel_steps_are_refused_naming_file_step_and_field(workspace, many_models):
    path = pipeline_file(many_models)
    text = path.read_text()
    cases = {
        text.replace("input_data: ${{inputs.data}}", "input_data: ${{inputs.dta}}"): (
            InvalidSpec,
            r"jobs\.train_each.*input_data: \$\{\{inputs\.dta\}\} names no declared input",
        ),
        text.replace("entry_script: train_partition.py", "entry_script: missing.py"): (
            NotFound,
            r"pipeline\.yml: jobs\.train_each\.task\.entry_script: missing\.py does not exist",
        ),
        text.replace("partition_keys: [region, store_format]", 'mini_batch_size: "ten"'): (
            InvalidSpec,
            r"jobs\.train_each\.mini_batch_size: expected a number of files or rows",
        ),
        text.replace(
            "path: ${{parent.jobs.prep.outputs.table}}", "path: ${{parent.jobs.prep.outputs.tabel}}"
        ): (
            InvalidSpec,
            r"jobs\.train_each\.inputs\.data: .*step 'prep' has no output 'tabel'.*did you mean 'table'",
        ),
        text.replace("    type: parallel\n", "    type: parallel\n    component: ./parallel.yml\n"): (
            InvalidSpec,
            r"jobs\.train_each.*parallel components are not supported yet",
        ),
    }
    for bad, (error, message) in cases.items():
        path.write_text(bad)
        with pytest.raises(error, match=message):
            submit_job_file(workspace, path)
    assert search_jobs(workspace) == []  # nothing recorded for a refused spec
