"""The SDK behaves the same on embedded SQLite, embedded PostgreSQL and a team server.

Every test here runs three times (the `client` fixture): what a user does with `MLClient` —
data, models, jobs, pipelines, environments, components, computes — and the errors they get.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

import mlyard
from mlyard.entities.jobs.job import JobStatus
from mlyard.errors import AlreadyExists, Conflict, InvalidArgument, InvalidSpec, JobNotCompleted, NotFound
from tests.waiting import wait_until


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture(scope="module")
def ridge():
    features, target = load_diabetes(return_X_y=True, as_frame=True)
    return Ridge(alpha=0.5).fit(features, target), features


# --- data assets ---------------------------------------------------------------------------------


def test_data_assets_register_read_and_download(client, diabetes_csv, tmp_path):
    first = client.data.create("diabetes", diabetes_csv, description="clinic", tags={"source": "sklearn"})
    assert first.created and first.asset.ref == "diabetes:1" and first.asset.row_count == 442
    again = client.data.create("diabetes", diabetes_csv)
    assert not again.created and again.asset.version == "1"  # identical content: no new version
    assert client.data.get("diabetes@latest").data_schema["age"] == "number"
    assert client.data.get("azureml:diabetes:1").tags == {"source": "sklearn"}
    local = client.data.local_path("diabetes:1")
    assert local.read_bytes() == diabetes_csv.read_bytes()
    folder = tmp_path / "images"
    write(folder / "a" / "one.txt", "1")
    write(folder / "two.txt", "2")
    assert client.data.create("images", folder, type="uri_folder").asset.file_count == 2
    downloaded = client.data.download("images:1", tmp_path / "down")
    assert sorted(p.relative_to(downloaded).as_posix() for p in downloaded.rglob("*") if p.is_file()) == [
        "a/one.txt", "two.txt",
    ]  # fmt: skip
    assert [asset.name for asset in client.data.list()] == ["diabetes", "images"]


def test_data_mistakes_are_named(client, tmp_path, diabetes_csv):
    with pytest.raises(NotFound, match="does not exist"):
        client.data.create("x", tmp_path / "missing.csv")
    with pytest.raises(InvalidArgument, match="invalid"):
        client.data.create("bad name!", diabetes_csv)
    with pytest.raises(NotFound, match="data asset 'nope'"):
        client.data.get("nope:1")
    assert client.data.list() == []


# --- models --------------------------------------------------------------------------------------


def test_models_log_load_alias_archive_and_lineage(client, ridge, diabetes_csv):
    model, features = ridge
    client.data.create("diabetes", diabetes_csv)
    with mlyard.start_run(experiment="diabetes") as run:
        mlyard.use_data("diabetes@latest")
        mlyard.log_metric("mse", 3000.0)
        first = mlyard.log_model(model, name="ridge", flavor="sklearn", input_example=features.head(3))
    assert first.ref == "ridge:1" and first.signature is not None and first.job_id == run.id
    loaded = client.models.load("ridge:1")
    np.testing.assert_allclose(loaded.predict(features.head(5)), model.predict(features.head(5)))
    second = client.models.log(model, "ridge", "sklearn", tags={"stage": "dev"})
    assert second.version == "2" and client.models.get("ridge@latest").tags == {"stage": "dev"}
    assert client.models.set_alias("ridge", "champion", 1) is None
    assert client.models.set_alias("ridge", "champion", 2) == "1"
    assert client.models.aliases("ridge") == {"champion": "2"}
    assert client.models.get("ridge@champion").version == "2"
    with pytest.raises(Conflict, match="behind alias champion"):
        client.models.archive("ridge:2")
    assert client.models.archive("ridge:1").archived
    assert [v.version for v in client.models.list("ridge")] == ["2"]
    assert client.models.restore("ridge@latest").version == "2"
    lineage = client.models.lineage("ridge:1")
    assert lineage.job_id == run.id and lineage.metrics == {"mse": 3000.0}
    assert [edge.name for edge in lineage.inputs] == ["diabetes"]
    assert [item.model.version for item in client.models.compare("ridge", [1, 2])] == ["1", "2"]
    client.models.delete_alias("ridge", "champion")
    with pytest.raises(NotFound, match="no alias 'champion'"):
        client.models.get("ridge@champion")


def test_the_champion_gate_compares_runs_with_the_model_behind_an_alias(client, ridge, tmp_path):
    model, _ = ridge
    with mlyard.start_run() as champion:
        mlyard.log_metric("mse", 3100.0)
        mlyard.log_model(model, name="gate", flavor="sklearn")
    client.models.set_alias("gate", "champion", 1)
    with mlyard.start_run() as better:
        mlyard.log_metric("mse", 2900.0)
    verdict = client.models.is_better(better, than="gate@champion", metric="mse")
    assert verdict.better and "2900" in verdict.reason and champion.id != better.id
    assert not client.models.is_better(better, than="gate@champion", metric="mse", goal="maximize")


def test_a_model_folder_round_trips_through_download(client, tmp_path):
    folder = write(tmp_path / "model" / "weights.txt", "1 2 3").parent
    created = client.models.create("churn", folder, description="folder model", properties={"auc": "0.9"})
    assert created.ref == "churn:1" and created.properties == {"auc": "0.9"}
    write(folder / "weights.txt", "4 5 6")
    with pytest.raises(AlreadyExists, match="immutable"):
        client.models.create("churn", folder, version="1")
    target = client.models.download("churn:1", tmp_path / "fetched")
    assert target == tmp_path / "fetched" / "churn-1"
    assert (target / "weights.txt").read_text() == "1 2 3"
    assert (client.models.local_path("churn@latest") / "weights.txt").exists()
    with pytest.raises(NotFound, match="model path"):
        client.models.create("churn", tmp_path / "nothing")


def test_promotion_requests_are_visible_and_cancelable(client, tmp_path):
    folder = write(tmp_path / "m" / "w.txt", "w").parent
    client.models.create("churn", folder)
    request = client.models.promote("churn", 1, to="production", reason="first model")
    assert request.state == "pending" and request.alias == "production"
    assert [r.id for r in client.models.promotions("churn", state="pending")] == [request.id]
    with pytest.raises(InvalidArgument, match="reason is required"):
        client.models.promote("churn", 1, to="staging", reason=" ")
    assert client.models.cancel_promotion(request.id).state == "canceled"
    assert client.models.get_promotion(request.id).decided_by is not None


# --- jobs ----------------------------------------------------------------------------------------

TRAIN = """\
import argparse, json, pathlib
import mlyard

parser = argparse.ArgumentParser()
parser.add_argument("--data")
parser.add_argument("--alpha", type=float)
parser.add_argument("--model")
args = parser.parse_args()
rows = pathlib.Path(args.data).read_text().splitlines()
print(f"read {len(rows)} rows with alpha={args.alpha}", flush=True)
for step in range(3):
    mlyard.log_metric("loss", 1.0 / (step + 1), step=step)
pathlib.Path(args.model, "model.json").write_text(json.dumps({"rows": len(rows)}))
"""

COMMAND_JOB = """\
$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
code: ./src
command: python train.py --data ${{inputs.data}} --alpha ${{inputs.alpha}} --model ${{outputs.model}}
inputs:
  data: {type: uri_file, path: ./data/rows.csv}
  alpha: 0.5
outputs:
  model: {type: custom_model, name: rows-model}
experiment_name: sdk-jobs
display_name: first
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    write(root / "src" / "train.py", TRAIN)
    write(root / "data" / "rows.csv", "a,b\n1,2\n3,4\n")
    write(root / "job.yml", COMMAND_JOB)
    return root


def test_a_command_job_runs_logs_streams_and_registers_its_output(client, project, tmp_path):
    queued = client.jobs.create(project / "job.yml", overrides={"inputs.alpha": "0.3"})
    assert queued.status in (JobStatus.QUEUED, JobStatus.RUNNING)
    shown: list[str] = []
    job = client.jobs.stream(queued.id, shown.append)
    assert job.status == JobStatus.COMPLETED, job.error
    assert "read 3 rows with alpha=0.3" in "".join(shown)
    assert len(client.jobs.metric_history(job.id, "loss")) == 3
    [output] = client.jobs.outputs(job.id)
    assert (output.asset_kind, output.asset_name, output.asset_version) == ("model", "rows-model", "1")
    assert client.models.lineage("rows-model:1").job_id == job.id
    fetched = client.jobs.download(job.id, tmp_path / "fetched")
    assert "read 3 rows" in (fetched / "logs" / "std_log.txt").read_text()
    assert (fetched / "outputs" / "model" / "model.json").exists()
    assert client.jobs.search(filter="metrics.loss < 0.5", experiments="sdk-jobs")[0].id == job.id
    assert ("sdk-jobs", 1) in client.jobs.experiments()


def test_searching_an_unknown_experiment_is_not_found_naming_it(client):
    with mlyard.start_run(experiment="known"):
        mlyard.log_metric("m", 1.0)
    with pytest.raises(NotFound, match="experiment 'nosuch-exp' does not exist; list experiments with"):
        client.jobs.search(experiments="nosuch-exp")
    assert len(client.jobs.list(experiment="known")) == 1


def test_a_failing_job_raises_with_its_last_log_lines(client, project):
    write(project / "src" / "train.py", "print('about to fail', flush=True)\nraise SystemExit(3)\n")
    with pytest.raises(JobNotCompleted, match="exited with code 3"):
        client.jobs.create(project / "job.yml", wait=True)
    [failed] = client.jobs.list(experiment="sdk-jobs")
    assert failed.status == JobStatus.FAILED and "about to fail" in (failed.error or "")


def test_a_running_job_is_canceled(client, project):
    write(project / "src" / "train.py", "import time\nprint('started', flush=True)\ntime.sleep(120)\n")
    job = client.jobs.create(project / "job.yml")
    wait_until(
        lambda: client.jobs.get(job.id).status == JobStatus.RUNNING, timeout=60, message="the job to run"
    )
    assert client.jobs.cancel(job.id) == JobStatus.CANCEL_REQUESTED
    ended = client.jobs.stream(job.id, lambda _: None)
    assert ended.status == JobStatus.CANCELED
    with pytest.raises(Conflict, match="already ended"):
        client.jobs.cancel(job.id)


def test_bad_job_specs_are_refused_naming_file_and_field_and_leave_no_job(client, project):
    write(project / "typo.yml", COMMAND_JOB.replace("command:", "comand:"))
    with pytest.raises(InvalidSpec, match=r"typo.yml: comand.*did you mean 'command'"):
        client.jobs.create(project / "typo.yml")
    write(project / "missing.yml", COMMAND_JOB.replace("./data/rows.csv", "./data/nope.csv"))
    with pytest.raises(NotFound, match=r"missing.yml: inputs.data.path: ./data/nope.csv does not exist"):
        client.jobs.create(project / "missing.yml")
    write(project / "asset.yml", COMMAND_JOB.replace("./data/rows.csv", "azureml:nowhere:1"))
    with pytest.raises(NotFound, match=r"asset.yml: inputs.data.path: .*nowhere"):
        client.jobs.create(project / "asset.yml")
    assert client.jobs.list() == []


def test_a_set_path_naming_an_undeclared_input_is_refused_with_did_you_mean(client, project):
    with pytest.raises(InvalidArgument, match=r"inputs has no 'alpah' \(did you mean 'alpha'\?\)"):
        client.jobs.create(project / "job.yml", overrides={"inputs.alpah": "0.3"})
    assert client.jobs.list() == []


def test_a_job_submitted_from_inside_a_job_records_its_depth_and_is_bounded(client, tmp_path, monkeypatch):
    write(tmp_path / "hi.yml", "command: echo hi\n")
    submitter = client.jobs.create(tmp_path / "hi.yml", wait=True)
    monkeypatch.setenv("MLYARD_JOB_ID", submitter.id)  # as inside that job's process
    nested = client.jobs.create(tmp_path / "hi.yml", wait=True)
    assert nested.tags["mlyard.submitted_by"] == submitter.id and nested.tags["mlyard.nesting_depth"] == "1"
    client.settings.update(max_job_nesting_depth=0)
    with pytest.raises(Conflict, match="nested 1 deep .* over the workspace's max_job_nesting_depth of 0"):
        client.jobs.create(tmp_path / "hi.yml")
    assert len(client.jobs.list()) == 2


def test_a_pipeline_of_local_components_runs_and_reuses_unchanged_steps(client, tmp_path):
    root = tmp_path / "pipeline"
    write(root / "prep" / "prep.py", """\
        import pathlib, sys
        pathlib.Path(sys.argv[2], "rows.txt").write_text(pathlib.Path(sys.argv[1]).read_text().upper())
        """)  # fmt: skip
    write(root / "count" / "count.py", """\
        import pathlib, sys
        import mlyard
        mlyard.log_metric("rows", len(pathlib.Path(sys.argv[1], "rows.txt").read_text().splitlines()))
        """)  # fmt: skip
    write(root / "prep.yml", """\
        type: command
        name: prep
        code: ./prep
        command: python prep.py ${{inputs.raw}} ${{outputs.clean}}
        inputs: {raw: {type: uri_file}}
        outputs: {clean: {type: uri_folder}}
        """)  # fmt: skip
    write(root / "count.yml", """\
        type: command
        name: count
        code: ./count
        command: python count.py ${{inputs.clean}}
        inputs: {clean: {type: uri_folder}}
        """)  # fmt: skip
    write(root / "data.txt", "a\nb\nc\n")
    write(root / "pipeline.yml", """\
        type: pipeline
        experiment_name: sdk-pipelines
        inputs: {raw: {type: uri_file, path: ./data.txt}}
        jobs:
          prep:
            component: ./prep.yml
            inputs: {raw: "${{parent.inputs.raw}}"}
          count:
            component: ./count.yml
            inputs: {clean: "${{parent.jobs.prep.outputs.clean}}"}
        """)  # fmt: skip
    first = client.jobs.create(root / "pipeline.yml", wait=True)
    steps = {step.display_name: step for step in client.jobs.children(first.id)}
    assert steps["count"].metrics == {"rows": 3.0} and steps["prep"].reused_from is None
    second = client.jobs.create(root / "pipeline.yml", wait=True)
    again = {step.display_name: step for step in client.jobs.children(second.id)}
    assert again["prep"].reused_from == steps["prep"].id and again["count"].reused_from == steps["count"].id


# --- environments, components, computes ----------------------------------------------------------


def test_environments_register_from_a_conda_file_and_resolve(client, tmp_path):
    write(tmp_path / "env" / "conda.yml", """\
        name: train
        dependencies:
          - python=3.11
          - pip:
            - scikit-learn
        """)  # fmt: skip
    write(tmp_path / "env" / "env.yml", "name: train-env\nconda_file: conda.yml\n")
    registered = client.environments.create_or_update(tmp_path / "env" / "env.yml")
    assert registered.created and registered.environment.ref == "train-env:1"
    again = client.environments.create_or_update(tmp_path / "env" / "env.yml")
    assert not again.created
    assert [env.name for env in client.environments.list()] == ["train-env"]
    resolved = client.environments.resolve("train-env@latest")
    assert resolved is not None and resolved.python_version.startswith("3.11")
    assert client.environments.resolve("inherit") is None
    with pytest.raises(NotFound, match="environment 'nope'"):
        client.environments.get("nope:1")


def test_components_register_from_yaml_and_serve_a_pipeline_by_reference(client, tmp_path):
    write(tmp_path / "c" / "src" / "hello.py", "import mlyard\nmlyard.log_metric('hello', 1.0)\n")
    write(tmp_path / "c" / "hello.yml", """\
        type: command
        name: hello
        version: "1"
        code: ./src
        command: python hello.py
        """)  # fmt: skip
    component = client.components.create_or_update(tmp_path / "c" / "hello.yml")
    assert component.ref == "hello:1" and component.code_hash
    assert client.components.create_or_update(tmp_path / "c" / "hello.yml").ref == "hello:1"
    assert [c.ref for c in client.components.list()] == ["hello:1"]
    write(tmp_path / "p.yml", "type: pipeline\njobs:\n  say: {component: azureml:hello:1}\n")
    job = client.jobs.create(tmp_path / "p.yml", wait=True)
    assert client.jobs.children(job.id)[0].metrics == {"hello": 1.0}


def test_a_spec_file_that_is_a_folder_or_empty_is_named_as_such_not_as_missing(client, tmp_path):
    write(tmp_path / "src" / "main.py", "print('hi')\n")
    write(tmp_path / "empty.yml", "")
    with pytest.raises(InvalidSpec, match=r"src is a folder, expected a YAML file"):
        client.components.create_or_update(tmp_path / "src")
    with pytest.raises(InvalidSpec, match=r"empty.yml is empty"):
        client.components.create_or_update(tmp_path / "empty.yml")
    with pytest.raises(InvalidSpec, match=r"/dev/null is empty"):
        client.environments.create_or_update("/dev/null")
    with pytest.raises(InvalidSpec, match=r"src is a folder, expected a YAML file"):
        client.jobs.create(tmp_path / "src")
    write(tmp_path / "p.yml", "type: pipeline\njobs:\n  say: {component: ./src}\n")
    with pytest.raises(InvalidSpec, match=r"p.yml: jobs.say.component: \S*src is a folder, expected a YAML"):
        client.jobs.create(tmp_path / "p.yml")
    assert client.jobs.list() == [] and client.components.list() == []


def test_computes_are_created_listed_and_deleted(client):
    created = client.computes.create("gpu-cluster", "ray", address="ray://head:10001")
    assert created.type == "ray"
    assert "gpu-cluster" in [c.name for c in client.computes.list()]
    with pytest.raises(AlreadyExists, match="built in"):
        client.computes.create("local", "local")
    client.computes.delete("gpu-cluster")
    with pytest.raises(NotFound, match="gpu-cluster"):
        client.computes.get("gpu-cluster")


def test_changes_are_in_the_audit_trail(client, tmp_path):
    folder = write(tmp_path / "m" / "w.txt", "w").parent
    client.models.create("audited", folder)
    client.models.set_alias("audited", "staging", 1)
    actions = [event.action for event in client.audit.list(entity_type="model")]
    assert actions[:2] == ["model.alias.set", "model.register"]
    assert client.settings.get().protected_aliases == ["production"]
