"""Azure ML's sample layout, on embedded SQLite, embedded PostgreSQL and a team server.

Azure's samples keep a model, its scoring code and its conda file in sibling folders
(`endpoints/online/model-1/{model,onlinescoring,environment}`) and name them as `../../model-1/…`
from a deployment or job YAML two folders away. Their `score.py` reads the model as
`os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model/<file>")`: the registered folder under its
own name. Through a server, every path the YAML names travels with the request — and nothing else.
"""

from __future__ import annotations

import json
import pickle
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.linear_model import LinearRegression

from mlyard.entities.assets.requirements import current_python_version
from mlyard.entities.endpoints.endpoint import DeploymentState
from mlyard.entities.jobs.job import JobStatus

ONLINE_SCORE = """\
import json, logging, os, pickle

def init():
    global model
    # Azure's own pattern: the registered folder `model` under AZUREML_MODEL_DIR
    model_path = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model/sklearn_regression_model.pkl")
    with open(model_path, "rb") as file:
        model = pickle.load(file)
    logging.info("Init complete")

def run(raw_data):
    data = json.loads(raw_data)["data"]
    return model.predict(data).tolist()
"""

BATCH_SCORE = """\
import os, pickle
import pandas as pd

def init():
    global model
    model_path = os.path.join(os.environ["AZUREML_MODEL_DIR"], "model", "sklearn_regression_model.pkl")
    with open(model_path, "rb") as file:
        model = pickle.load(file)

def run(mini_batch):
    rows = []
    for path in mini_batch:
        table = pd.read_csv(path)
        for value in model.predict(table[["x"]].to_numpy()):
            rows.append(f"{os.path.basename(path)} {value:.1f}")
    return rows
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def model_1(tmp_path: Path) -> Path:
    """`endpoints/online/model-1/` as Azure's samples lay it out: model, scoring code, conda file."""
    root = tmp_path / "azureml-examples" / "cli" / "endpoints" / "online" / "model-1"
    fitted = LinearRegression().fit(np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3.0, 5.0]))  # 2x + 1
    (root / "model").mkdir(parents=True)
    (root / "model" / "sklearn_regression_model.pkl").write_bytes(pickle.dumps(fitted))
    write(root / "onlinescoring" / "score.py", ONLINE_SCORE)
    write(root / "batchscoring" / "batch_driver.py", BATCH_SCORE)
    write(
        root / "environment" / "conda.yaml",
        f"""\
        name: model-env
        channels: [conda-forge]
        dependencies:
          - python={current_python_version()}
          - numpy
          - scikit-learn
          - pandas
        """,
    )
    return root


@pytest.fixture
def served(client, client_backend, serve_workspace, tmp_path):  # type: ignore[no-untyped-def]
    if client_backend != "remote":
        serve_workspace(tmp_path / "ws")
    return client


@pytest.mark.slow
def test_an_azure_online_sample_two_folders_away_deploys_and_reads_its_model_folder_by_name(served, model_1):
    sample = model_1.parent / "managed" / "sample"
    write(sample / "endpoint.yml", "name: azsample\nauth_mode: key\n")
    deployment = {
        "$schema": "https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json",
        "name": "blue", "endpoint_name": "azsample",
        "model": {"path": "../../model-1/model/"},
        "code_configuration": {"code": "../../model-1/onlinescoring/", "scoring_script": "score.py"},
        "environment": {
            "conda_file": "../../model-1/environment/conda.yaml",
            "image": "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest",
        },
        "instance_type": "Standard_DS3_v2", "instance_count": 1,
    }  # fmt: skip
    write(sample / "blue-deployment.yml", yaml.safe_dump(deployment))
    served.online_endpoints.create(sample / "endpoint.yml")
    blue = served.online_deployments.create(sample / "blue-deployment.yml", all_traffic=True, timeout=180)
    assert blue.provisioning_state == DeploymentState.SUCCEEDED
    answer = served.online_endpoints.invoke("azsample", data={"data": [[1.0], [4.0]]})
    assert json.loads(answer) == pytest.approx([3.0, 9.0])
    assert served.models.get(blue.model.ref).folder_name == "model"  # type: ignore[union-attr]


@pytest.mark.slow
def test_an_azure_batch_sample_two_folders_away_scores_with_its_model_folder_by_name(
    client, model_1, tmp_path
):
    client.models.create("sample-regression", model_1 / "model")
    client.batch_endpoints.create(name="azbatch")
    sample = model_1.parent / "batch" / "sample"
    write(
        sample / "deployment.yml",
        """\
        $schema: https://azuremlschemas.azureedge.net/latest/modelBatchDeployment.schema.json
        name: classifier
        endpoint_name: azbatch
        model: azureml:sample-regression@latest
        code_configuration:
          code: ../../model-1/batchscoring/
          scoring_script: batch_driver.py
        environment:
          conda_file: ../../model-1/environment/conda.yaml
          image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest
        resources: {instance_count: 1}
        settings: {mini_batch_size: 2, output_action: append_row, output_file_name: predictions.csv}
        """,
    )
    client.batch_deployments.create(sample / "deployment.yml")
    inputs = tmp_path / "to-score"
    for index in range(3):
        write(inputs / f"part-{index}.csv", f"x\n{index}\n")
    job = client.batch_endpoints.invoke("azbatch", inputs, wait=True)
    assert job.status == JobStatus.COMPLETED, job.error
    folder = client.jobs.download(job.id, tmp_path / "down", output_name="score")
    lines = sorted((folder / "predictions.csv").read_text().split())
    assert lines == sorted(["1.0", "3.0", "5.0", "part-0.csv", "part-1.csv", "part-2.csv"])


def test_a_job_two_folders_away_reads_a_model_input_as_the_model_folder_itself(client, model_1, tmp_path):
    """A job's model input is the registered folder itself, as Azure mounts `${{inputs.model}}`
    (so `mlflow.load_model(args.model)` and `os.path.join(args.model, "file.pkl")` both work)."""
    write(
        model_1.parent / "src" / "predict.py",
        """\
        import os, pickle, sys
        with open(os.path.join(sys.argv[1], "sklearn_regression_model.pkl"), "rb") as file:
            model = pickle.load(file)
        print("prediction", round(model.predict([[10.0]])[0], 6))
        """,
    )
    job_yaml = write(
        model_1.parent / "jobs" / "single-step" / "job.yml",
        """\
        $schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
        code: ../../src
        command: python predict.py ${{inputs.model}}
        inputs:
          model:
            type: custom_model
            path: ../../model-1/model
        """,
    )
    shown: list[str] = []
    job = client.jobs.stream(client.jobs.create(job_yaml).id, shown.append)
    assert job.status == JobStatus.COMPLETED, job.error
    assert "prediction 21.0" in "".join(shown)

    client.models.create("sample-regression", model_1 / "model")
    registered = {"inputs.model.path": "azureml:sample-regression@latest"}
    shown.clear()
    by_name = client.jobs.stream(client.jobs.create(job_yaml, overrides=registered).id, shown.append)
    assert by_name.status == JobStatus.COMPLETED, by_name.error
    assert "prediction 21.0" in "".join(shown)


def test_a_link_leading_out_of_a_referenced_folder_is_not_followed_on_any_backend(client, tmp_path):
    outside = write(tmp_path / "elsewhere" / "secret.txt", "not yours")
    src = tmp_path / "project" / "src"
    write(src / "main.py", "import os\nprint('files:', sorted(os.listdir('.')))\n")
    write(src / "inside.txt", "part of the code")
    (src / "leak.txt").symlink_to(outside)
    (src / "leak-folder").symlink_to(outside.parent, target_is_directory=True)
    (src / "alias.txt").symlink_to(src / "inside.txt")  # a link within the folder is its content
    job_yaml = write(tmp_path / "project" / "jobs" / "job.yml", "code: ../src\ncommand: python main.py\n")
    shown: list[str] = []
    job = client.jobs.stream(client.jobs.create(job_yaml).id, shown.append)
    assert job.status == JobStatus.COMPLETED, job.error
    assert "files: ['alias.txt', 'inside.txt', 'main.py']" in "".join(shown)


def test_additional_includes_are_copied_into_the_code_of_a_pipeline_step_on_any_backend(client, tmp_path):
    root = tmp_path / "cli" / "jobs" / "pipelines"
    write(root.parent / "shared" / "helpers.py", "GREETING = 'hello from helpers'\n")
    write(root.parent / "shared" / "library" / "tables.py", "ROWS = 3\n")
    write(root.parent / "shared" / "not-included.txt", "stays home")
    write(root / "train" / "src" / "main.py", """\
        import os
        import helpers
        from library import tables
        print(helpers.GREETING, tables.ROWS, sorted(os.listdir('.')))
        """)  # fmt: skip
    write(root / "train" / "train.yml", """\
        $schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
        type: command
        name: train
        code: ./src
        additional_includes:
          - ../../shared/helpers.py
          - ../../shared/library
        command: python main.py
        """)  # fmt: skip
    write(root / "pipeline.yml", """\
        $schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json
        type: pipeline
        jobs:
          train:
            component: ./train/train.yml
        """)  # fmt: skip
    pipeline = client.jobs.create(root / "pipeline.yml", wait=True)
    [step] = client.jobs.children(pipeline.id)
    log = (client.jobs.download(step.id, tmp_path / "step") / "logs" / "std_log.txt").read_text()
    assert "hello from helpers 3 ['helpers.py', 'library', 'main.py']" in log
    registered = client.components.create_or_update(root / "train" / "train.yml")
    assert registered.code_hash == client.components.get("train@latest").code_hash is not None
