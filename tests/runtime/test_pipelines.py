"""Pipeline jobs end to end: Azure ML-shaped YAML with local components, run for real."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from mlyard.entities.jobs.job import JobStatus
from mlyard.errors import InvalidSpec, NotFound
from mlyard.runtime.launch import launch_detached, run_job
from mlyard.runtime.streaming import follow, read_log
from mlyard.services.assets.components import create_component
from mlyard.services.execution import job_runs
from mlyard.services.model_registry.models import get_model_version
from mlyard.services.submission.dispatch import submit_job_file
from mlyard.services.tracking.jobs import get_job, search_jobs
from tests.waiting import wait_until


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """prep → train → score, as azureml-examples' 3b pipeline writes it, with local components."""
    root = tmp_path / "nyc"
    write(root / "data" / "raw.csv", "x,y\n1,2\n2,4\n3,6\n4,8\n")
    write(
        root / "prep_src" / "prep.py",
        """\
        import argparse, pathlib
        p = argparse.ArgumentParser(); p.add_argument("--raw_data"); p.add_argument("--prep_data")
        a = p.parse_args()
        rows = pathlib.Path(a.raw_data).read_text().splitlines()[1:]
        pathlib.Path(a.prep_data, "clean.csv").write_text("\\n".join(rows))
        print(f"prepared {len(rows)} rows", flush=True)
        """,
    )
    write(
        root / "train_src" / "train.py",
        """\
        import argparse, json, pathlib
        import mlyard
        p = argparse.ArgumentParser()
        p.add_argument("--training_data"); p.add_argument("--max_epocs", type=int)
        p.add_argument("--learning_rate", type=float, default=0.1); p.add_argument("--model_output")
        a = p.parse_args()
        text = pathlib.Path(a.training_data, "clean.csv").read_text()
        rows = [list(map(float, r.split(","))) for r in text.split()]
        slope = sum(y / x for x, y in rows) / len(rows)
        for epoch in range(a.max_epocs):
            mlyard.log_metric("loss", 1.0 / (epoch + 1), step=epoch)
        model = {"slope": slope, "lr": a.learning_rate}
        pathlib.Path(a.model_output, "model.json").write_text(json.dumps(model))
        """,
    )
    write(
        root / "score_src" / "score.py",
        """\
        import argparse, json, pathlib
        p = argparse.ArgumentParser(); p.add_argument("--model_input"); p.add_argument("--score_output")
        a = p.parse_args()
        model = json.loads(pathlib.Path(a.model_input, "model.json").read_text())
        pathlib.Path(a.score_output, "score.txt").write_text(str(model["slope"] * 10))
        """,
    )
    write(
        root / "prep.yml",
        """\
        $schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
        type: command
        name: prep_data
        inputs:
          raw_data: {type: uri_file}
        outputs:
          prep_data: {type: uri_folder}
        code: ./prep_src
        environment: inherit
        command: python prep.py --raw_data ${{inputs.raw_data}} --prep_data ${{outputs.prep_data}}
        """,
    )
    write(
        root / "train.yml",
        """\
        $schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
        type: command
        name: train_model
        inputs:
          training_data: {type: uri_folder}
          max_epocs: {type: integer, default: 2}
          learning_rate: {type: number, optional: true}
        outputs:
          model_output: {type: uri_folder}
        code: ./train_src
        command: >-
          python train.py --training_data ${{inputs.training_data}} --max_epocs ${{inputs.max_epocs}}
          $[[--learning_rate ${{inputs.learning_rate}}]] --model_output ${{outputs.model_output}}
        """,
    )
    write(
        root / "score.yml",
        """\
        type: command
        name: score_data
        inputs:
          model_input: {type: uri_folder}
        outputs:
          score_output: {type: uri_folder}
        code: ./score_src
        command: >-
          python score.py --model_input ${{inputs.model_input}}
          --score_output ${{outputs.score_output}}
        """,
    )
    write(
        root / "pipeline.yml",
        """\
        $schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json
        type: pipeline
        display_name: nyc-taxi-like
        experiment_name: pipelines
        description: prep, train and score with local components
        inputs:
          raw: {type: uri_file, path: ./data/raw.csv}
          epochs: 3
        outputs:
          trained_model: {type: custom_model, name: line-model}
          report:
        settings:
          default_compute: local
          continue_on_step_failure: false
        jobs:
          prep_job:
            type: command
            component: ./prep.yml
            inputs:
              raw_data: ${{parent.inputs.raw}}
          train_job:
            type: command
            component: ./train.yml
            inputs:
              training_data: ${{parent.jobs.prep_job.outputs.prep_data}}
              max_epocs: ${{parent.inputs.epochs}}
              learning_rate: 0.5
            outputs:
              model_output: ${{parent.outputs.trained_model}}
          score_job:
            type: command
            component: file:./score.yml
            inputs:
              model_input: ${{parent.jobs.train_job.outputs.model_output}}
          summary:
            command: cat ${{inputs.scores}}/score.txt > ${{outputs.summary}}/summary.txt
            inputs:
              scores: ${{parent.jobs.score_job.outputs.score_output}}
            outputs:
              summary: ${{parent.outputs.report}}
        """,
    )
    return root


def steps_of(workspace, job_id):
    return {name: (child_id, status) for child_id, status, name in job_runs.children(workspace, job_id)}


def test_pipeline_runs_every_step_in_order_and_publishes_outputs(workspace, project):
    job = submit_job_file(workspace, project / "pipeline.yml")
    assert job.type == "pipeline" and job.status == JobStatus.QUEUED
    result = run_job(workspace, job.id)
    assert result.status == JobStatus.COMPLETED, result.error
    steps = steps_of(workspace, job.id)
    assert set(steps) == {"prep_job", "train_job", "score_job", "summary"}
    assert all(status == JobStatus.COMPLETED for _, status in steps.values())
    train = get_job(workspace, steps["train_job"][0])
    assert train.parent_job_id == job.id and train.experiment == "pipelines"
    assert train.metrics == {"loss": pytest.approx(1 / 3)}  # max_epocs came from the pipeline input
    # The pipeline's outputs are its steps' outputs; the named one became a model version.
    outputs = {o.name: o for o in job_runs.job_outputs(workspace, job.id)}
    assert outputs["trained_model"].asset_ref == "line-model:1"
    assert get_model_version(workspace, "line-model:1").job_id == job.id
    summary = workspace.artifacts.get_bytes(f"{outputs['report'].artifact_path}/summary.txt")
    assert summary == b"20.0"
    log = read_log(workspace, job.id).decode()
    assert "[prep_job] Running as job" in log and "[summary] Completed" in log


def test_unchanged_rerun_reuses_every_step_and_says_so(workspace, project):
    first = submit_job_file(workspace, project / "pipeline.yml")
    assert run_job(workspace, first.id).status == JobStatus.COMPLETED
    first_steps = steps_of(workspace, first.id)
    second = submit_job_file(workspace, project / "pipeline.yml")
    started = time.monotonic()
    assert run_job(workspace, second.id).status == JobStatus.COMPLETED
    assert time.monotonic() - started < 5
    for name, (child_id, _) in steps_of(workspace, second.id).items():
        assert get_job(workspace, child_id).reused_from == first_steps[name][0]
    assert "reused the outputs of job" in read_log(workspace, second.id).decode()
    # Changing the training code reruns train and everything after it, not prep.
    train = project / "train_src" / "train.py"
    train.write_text(train.read_text() + "\nprint('changed')\n")
    third = submit_job_file(workspace, project / "pipeline.yml")
    assert run_job(workspace, third.id).status == JobStatus.COMPLETED
    reused = {
        n: get_job(workspace, c).reused_from is not None
        for n, (c, _) in steps_of(workspace, third.id).items()
    }
    assert reused == {"prep_job": True, "train_job": False, "score_job": True, "summary": True}
    # force_rerun runs everything again.
    forced = submit_job_file(workspace, project / "pipeline.yml", overrides={"settings.force_rerun": "true"})
    assert run_job(workspace, forced.id).status == JobStatus.COMPLETED
    assert all(get_job(workspace, c).reused_from is None for c, _ in steps_of(workspace, forced.id).values())


def test_registered_components_run_by_reference(workspace, project):
    for name in ("prep", "train", "score"):
        create_component(workspace, project / f"{name}.yml")
    text = (project / "pipeline.yml").read_text()
    text = text.replace("component: ./prep.yml", "component: azureml:prep_data:1")
    text = text.replace("component: ./train.yml", "component: train_model@latest")
    text = text.replace("component: file:./score.yml", "component: azureml:score_data@latest")
    write(project / "by_ref.yml", text)
    job = submit_job_file(workspace, project / "by_ref.yml")
    assert run_job(workspace, job.id).status == JobStatus.COMPLETED


FAN = """\
type: pipeline
settings: {{max_concurrency: {workers}, continue_on_step_failure: {keep_going}}}
jobs:
{steps}
"""


def fan_pipeline(folder: Path, workers: int, bodies: dict[str, str], keep_going: bool = False) -> Path:
    steps = "".join(f"  {name}:\n    command: {body}\n" for name, body in bodies.items())
    return write(
        folder / "fan.yml", FAN.format(workers=workers, keep_going=str(keep_going).lower(), steps=steps)
    )


def test_independent_steps_run_in_parallel(workspace, tmp_path):
    path = fan_pipeline(tmp_path, 4, {f"s{i}": "sleep 1" for i in range(4)})
    job = submit_job_file(workspace, path)
    started = time.monotonic()
    assert run_job(workspace, job.id).status == JobStatus.COMPLETED
    assert time.monotonic() - started < 3.5  # four 1 s steps at once, not one after another


def test_a_failing_step_fails_the_pipeline_and_cancels_the_rest(workspace, tmp_path):
    path = fan_pipeline(tmp_path, 2, {"slow": "sleep 30", "bad": "echo broken; exit 2"})
    job = submit_job_file(workspace, path)
    started = time.monotonic()
    result = run_job(workspace, job.id)
    assert time.monotonic() - started < 20
    assert result.status == JobStatus.FAILED and "bad (job" in result.error and "broken" in result.error
    statuses = {name: status for name, (_, status) in steps_of(workspace, job.id).items()}
    assert statuses == {"slow": JobStatus.CANCELED, "bad": JobStatus.FAILED}


def test_continue_on_step_failure_skips_only_what_depends_on_it(workspace, tmp_path):
    path = write(
        tmp_path / "p.yml",
        """\
        type: pipeline
        settings: {continue_on_step_failure: true}
        jobs:
          bad:
            command: exit 1
            outputs: {out: {type: uri_folder}}
          after_bad:
            command: ls ${{inputs.x}}
            inputs: {x: "${{parent.jobs.bad.outputs.out}}"}
          fine:
            command: echo fine
        """,
    )
    job = submit_job_file(workspace, path)
    result = run_job(workspace, job.id)
    assert result.status == JobStatus.FAILED and "skipped: after_bad" in result.error
    assert {n: s for n, (_, s) in steps_of(workspace, job.id).items()} == {
        "bad": JobStatus.FAILED,
        "fine": JobStatus.COMPLETED,
    }


def test_retry_runs_a_failed_step_again(workspace, tmp_path):
    marker = tmp_path / "tried-once"
    path = write(
        tmp_path / "p.yml",
        f"""\
        type: pipeline
        jobs:
          flaky:
            command: test -f {marker} || (touch {marker}; exit 1)
            retry: 1
        """,
    )
    job = submit_job_file(workspace, path)
    assert run_job(workspace, job.id).status == JobStatus.COMPLETED
    names = [name for _, _, name in job_runs.children(workspace, job.id)]
    assert names == ["flaky", "flaky (retry 1)"]


def test_invalid_graphs_are_refused_before_any_job_exists(workspace, project, tmp_path):
    cyclic = write(
        tmp_path / "cycle.yml",
        """\
        type: pipeline
        jobs:
          a:
            command: echo ${{inputs.x}}
            inputs: {x: "${{parent.jobs.b.outputs.o}}"}
            outputs: {o: {type: uri_folder}}
          b:
            command: echo ${{inputs.x}}
            inputs: {x: "${{parent.jobs.a.outputs.o}}"}
            outputs: {o: {type: uri_folder}}
        """,
    )
    with pytest.raises(InvalidSpec, match="cycle"):
        submit_job_file(workspace, cyclic)
    text = (project / "pipeline.yml").read_text().replace("outputs.prep_data}}", "outputs.prep_dta}}")
    with pytest.raises(InvalidSpec, match=r"jobs\.train_job\.inputs\.training_data: .*prep_dta"):
        submit_job_file(workspace, write(project / "typo.yml", text))
    text = (project / "pipeline.yml").read_text().replace("./prep.yml", "./missing.yml")
    with pytest.raises(NotFound, match=r"jobs\.prep_job\.component: ./missing.yml does not exist"):
        submit_job_file(workspace, write(project / "missing.yml.yml", text))
    assert search_jobs(workspace) == []


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_cancel_a_running_pipeline_stops_its_steps(workspace, tmp_path):
    path = fan_pipeline(tmp_path, 2, {"first": "echo go; sleep 60", "second": "sleep 60"})
    job = submit_job_file(workspace, path)
    launch_detached(workspace, job.id)
    wait_until(
        lambda: [s for _, s, _ in job_runs.children(workspace, job.id)].count(JobStatus.RUNNING) == 2,
        timeout=30,
        message="both steps to run",
    )
    job_runs.request_cancel(workspace, job.id)
    ended = follow(workspace, job.id, timeout=40)
    assert ended.status == JobStatus.CANCELED
    assert {s for _, s, _ in job_runs.children(workspace, job.id)} == {JobStatus.CANCELED}
