"""Environments that are only an image or a Docker build context, as Azure ML samples write them.

Without a container runtime they run on a plain environment of this machine's Python (with a
build context's requirements.txt and Dockerfile `pip install` packages) and the job's log says
what was assumed in one line. On a `docker` compute they run in their container; this machine
has the docker client but no daemon and no podman, so what is tested here of that path is the
clear failure when the runtime cannot run a container.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import pytest

from mlyard.entities.assets.environment_spec import EnvironmentSpec, resolve_spec
from mlyard.entities.assets.requirements import current_python_version
from mlyard.entities.jobs.job import JobStatus
from mlyard.errors import NotFound
from mlyard.runtime.launch import run_job
from mlyard.services.assets.computes import create_compute
from mlyard.services.submission.dispatch import submit_job_file
from mlyard.services.tracking.jobs import get_job


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def log_of(client, job_id: str) -> str:  # type: ignore[no-untyped-def]
    lines: list[str] = []
    client.jobs.stream(job_id, write=lines.append)
    return "".join(lines)


IMAGE_JOB = """\
$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
command: python -c "import sys; print('ran on', sys.version_info[:2])"
environment:
  image: python:latest
{compute}
"""


@pytest.mark.slow
def test_an_image_only_environment_runs_on_the_local_python_with_a_one_line_warning(client, tmp_path):
    job = client.jobs.create(write(tmp_path / "job.yml", IMAGE_JOB.format(compute="")), wait=True)
    assert job.status.value == "Completed", job.error
    log = log_of(client, job.id)
    assert (
        "[mlyard] warning: image python:latest declares no Python dependencies: without a container "
        f"runtime it runs on a plain environment of this machine's Python {current_python_version()}"
    ) in log
    assert "ran on" in log


BUILD_JOB = """\
command: >-
  python -c "import six, sys;
  print('six from', 'the venv' if six.__file__.startswith(sys.prefix) else six.__file__)"
environment:
  build:
    path: ./docker-context
"""


@pytest.mark.slow
def test_a_build_context_environment_runs_with_its_requirements_txt(client, tmp_path):
    write(tmp_path / "docker-context" / "requirements.txt", "six\n")
    write(
        tmp_path / "docker-context" / "Dockerfile",
        "FROM python:3.11-slim\nCOPY requirements.txt /tmp/\nRUN pip install -r /tmp/requirements.txt\n",
    )
    job = client.jobs.create(write(tmp_path / "job.yml", BUILD_JOB), wait=True)
    assert job.status.value == "Completed", job.error
    log = log_of(client, job.id)
    assert "six from the venv" in log
    assert "build context ./docker-context declares no Python dependencies" in log and "with six" in log


def test_a_dockerfile_pip_install_line_and_its_copied_requirements_are_the_environment(tmp_path):
    context = tmp_path / "ctx"
    write(context / "extra.txt", "idna>=3\n")
    write(
        context / "Dockerfile",
        """\
        FROM mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04
        # system packages are not reproduced
        RUN apt-get update && apt-get install -y curl
        COPY extra.txt /opt/extra.txt
        RUN python -m pip install --no-cache-dir -r /opt/extra.txt \\
            scikit-learn==1.5.0 -i https://example.invalid/simple && echo done
        """,
    )
    resolved = resolve_spec(EnvironmentSpec(build={"path": "ctx"}), tmp_path, "env.yml")
    assert set(resolved.requirements) == {"idna>=3", "scikit-learn==1.5.0"}
    assert resolved.container_only and resolved.build_context == str(context.resolve())
    assert (
        resolved.warning is not None
        and "build context ctx declares no Python dependencies" in resolved.warning
    )


def test_a_build_context_that_does_not_exist_is_named(tmp_path):
    with pytest.raises(NotFound, match=r"env\.yml: build\.path: folder .*missing does not exist"):
        resolve_spec(EnvironmentSpec(build={"path": "missing"}), tmp_path, "env.yml")


@pytest.mark.parametrize(
    ("runtime", "message"),
    [
        # The docker client is installed here; its daemon is not running.
        ("docker", r"compute box runs jobs in containers with docker, but it cannot run one here: .*daemon"),
        (
            "podman-not-installed",
            r"compute box runs jobs in containers, but podman-not-installed is not installed",
        ),
    ],
)
def test_a_docker_compute_that_cannot_run_containers_fails_the_job_saying_what_to_do(
    workspace, tmp_path, runtime, message
):
    if runtime == "docker" and shutil.which("docker") is None:
        pytest.skip("the docker client is not installed on this machine")
    create_compute(workspace, "box", "docker", runtime)
    job = submit_job_file(workspace, write(tmp_path / "job.yml", IMAGE_JOB.format(compute="compute: box")))
    result = run_job(workspace, job.id)
    assert result.status == JobStatus.FAILED
    assert re.search(message, result.error or ""), result.error
    assert "or run the job on compute local" in (result.error or "")
    assert get_job(workspace, job.id).error == result.error
