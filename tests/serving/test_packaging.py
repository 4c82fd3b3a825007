"""Packaging a deployment: the build context's files, the Kubernetes manifests, and the packaged
entry point serving the model when started directly with Python (no Docker here)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import yaml
from sklearn.linear_model import Ridge

from mlyard.entities.assets.environment_spec import EnvironmentSpec, resolve_spec
from mlyard.errors import InvalidArgument, NotFound
from mlyard.serving.packaging import Package, PackageSettings, Probe, package_deployment
from tests.processes import wait_answering


@pytest.fixture(scope="module")
def package(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Package:
    root = tmp_path_factory.mktemp("package")
    environment = resolve_spec(
        EnvironmentSpec(
            pip_requirements=["scikit-learn", "pandas>=2"], image="mcr.microsoft.com/azureml/minimal:latest"
        ),
        root,
    )
    settings = PackageSettings(instance_count=2, max_instance_count=6, readiness_probe=Probe(initial_delay=3))
    return package_deployment(
        model_dir,
        root / "out",
        name="diabetes-blue",
        environment=environment,
        settings=settings,
        image="reg/d:1",
    )


def test_the_build_context_holds_model_runtime_entry_point_and_dockerfile(
    package: Package, model_dir: Path
) -> None:
    folder = package.folder
    assert sorted(p.name for p in folder.iterdir()) == [
        ".dockerignore", "Dockerfile", "kubernetes", "mlyard", "model", "requirements.txt", "serve.py",
    ]  # fmt: skip
    assert sorted(p.name for p in (folder / "model").iterdir()) == sorted(p.name for p in model_dir.iterdir())
    assert (folder / "mlyard" / "serving" / "instance.py").is_file()
    probe = "import sys; sys.path.insert(0, sys.argv[1]); import mlyard; print(mlyard.__file__)"
    found = subprocess.run([sys.executable, "-c", probe, folder], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == str(folder / "mlyard" / "__init__.py")  # serve.py's import finds the copy
    assert not list(folder.rglob("__pycache__"))


def test_the_dockerfile_builds_on_the_environment_image_and_runs_the_entry_point(package: Package) -> None:
    dockerfile = package.dockerfile.read_text()
    assert "FROM mcr.microsoft.com/azureml/minimal:latest" in dockerfile
    assert "RUN python -m pip install --no-cache-dir -r /app/requirements.txt" in dockerfile
    assert "COPY model/ /app/model/" in dockerfile and "COPY mlyard/ /app/mlyard/" in dockerfile
    assert "AZUREML_MODEL_DIR=/app/model" in dockerfile
    assert "EXPOSE 5001" in dockerfile and 'ENTRYPOINT ["python", "/app/serve.py"]' in dockerfile
    assert "USER 10001" in dockerfile


def test_requirements_are_pinned_and_the_environment_wins(package: Package) -> None:
    from importlib.metadata import version

    lines = [line for line in package.requirements.read_text().splitlines() if not line.startswith("#")]
    by_name = {line.split("=")[0].split(">")[0].split(";")[0]: line for line in lines}
    assert by_name["scikit-learn"] == f"scikit-learn=={version('scikit-learn')}"
    assert by_name["pandas"] == "pandas>=2"  # as the environment asked
    for runtime in ("uvicorn", "httptools", "orjson", "numpy", "pydantic", "pyyaml"):
        assert by_name[runtime] == f"{runtime}=={version(runtime)}"
    assert by_name["uvloop"].startswith(f"uvloop=={version('uvloop')}; sys_platform")
    assert "pandas" in package.unpinned


def _documents(package: Package) -> dict[str, Any]:
    return {kind: yaml.safe_load(path.read_text()) for kind, path in package.manifests.items()}


def test_the_deployment_manifest_probes_the_instance_routes_with_resources(package: Package) -> None:
    deployment = _documents(package)["deployment"]
    assert deployment["apiVersion"] == "apps/v1" and deployment["kind"] == "Deployment"
    assert deployment["spec"]["replicas"] == 2
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "reg/d:1"
    assert container["ports"] == [{"name": "http", "containerPort": 5001, "protocol": "TCP"}]
    liveness, readiness = container["livenessProbe"], container["readinessProbe"]
    assert liveness["httpGet"] == {"path": "/live", "port": 5001}
    assert readiness["httpGet"] == {"path": "/ready", "port": 5001}
    assert (liveness["initialDelaySeconds"], liveness["periodSeconds"], liveness["timeoutSeconds"]) == (
        10,
        10,
        2,
    )
    assert liveness["failureThreshold"] == 30 and readiness["initialDelaySeconds"] == 3
    assert container["resources"] == {
        "requests": {"cpu": "500m", "memory": "1Gi"},
        "limits": {"cpu": "1", "memory": "2Gi"},
    }
    assert container["args"][:4] == ["--host", "0.0.0.0", "--port", "5001"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert deployment["spec"]["template"]["metadata"]["labels"].items() >= selector.items()


def test_the_service_and_autoscaler_point_at_the_deployment(package: Package) -> None:
    documents = _documents(package)
    service, hpa = documents["service"], documents["hpa"]
    assert service["kind"] == "Service" and service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": "diabetes-blue"}
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    assert hpa["apiVersion"] == "autoscaling/v2" and hpa["kind"] == "HorizontalPodAutoscaler"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "diabetes-blue",
    }
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 6)
    assert hpa["spec"]["metrics"][0]["resource"]["target"] == {
        "type": "Utilization",
        "averageUtilization": 70,
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve_directly(folder: Path, name: str) -> Iterator[str]:
    """Run the packaged serve.py with Python, importing mlyard from the package's own copy only."""
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    process = subprocess.Popen(
        [sys.executable, "-P", str(folder / "serve.py"), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd="/", env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_answering(process, f"{url}/ready", timeout=60, status=200)
    try:
        yield url
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
        assert process.returncode == 0, out + err
        assert f"mlyard-instance listening name={name} " in out


@pytest.fixture(scope="module")
def served(package: Package) -> Iterator[str]:
    yield from _serve_directly(package.folder, "diabetes-blue")


def test_the_packaged_entry_point_serves_the_model_when_started_with_python(
    served: str, ridge: Ridge, diabetes: tuple[np.ndarray, np.ndarray]
) -> None:
    rows = diabetes[0][:3]
    response = httpx.post(f"{served}/score", json={"input_data": rows.tolist()})
    assert response.status_code == 200, response.text
    np.testing.assert_array_equal(response.json(), ridge.predict(rows))
    assert httpx.get(f"{served}/live").json() == {"status": "alive"}


def test_a_packaged_scoring_script_is_served_from_code(
    model_dir: Path, tmp_path: Path, ridge: Ridge, diabetes: tuple[np.ndarray, np.ndarray]
) -> None:
    code = tmp_path / "src"
    code.mkdir()
    (code / "score.py").write_text(
        "import json, os, joblib\n\ndef init():\n    global model\n"
        "    model = joblib.load(os.path.join(os.environ['AZUREML_MODEL_DIR'], 'model.joblib'))\n\n"
        "def run(raw):\n    return model.predict(json.loads(raw)['data']).tolist()\n"
    )
    package = package_deployment(
        model_dir, tmp_path / "out", name="scripted", code_dir=code, scoring_script="score.py"
    )
    assert (package.folder / "code" / "score.py").is_file()
    assert "COPY code/ /app/code/" in package.dockerfile.read_text()
    assert "--scoring-script" in package.entry_point.read_text()
    rows = diabetes[0][:2]
    for url in _serve_directly(package.folder, "scripted"):
        response = httpx.post(f"{url}/score", json={"data": rows.tolist()})
        assert response.status_code == 200, response.text
        np.testing.assert_array_equal(response.json(), ridge.predict(rows))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"name": "Diabetes_Blue"},
            InvalidArgument,
            r"deployment name 'Diabetes_Blue' is not a valid Kubernetes name",
        ),
        (
            {"name": "ok", "scoring_script": "score.py"},
            InvalidArgument,
            r"code_dir and scoring_script go together",
        ),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_written(
    model_dir: Path, tmp_path: Path, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        package_deployment(model_dir, tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


def test_a_missing_model_folder_or_a_used_output_folder_is_refused(model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"model folder .*nothing does not exist"):
        package_deployment(tmp_path / "nothing", tmp_path / "out", name="x")
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "file").write_text("")
    with pytest.raises(InvalidArgument, match=r"output folder .*used exists and is not empty"):
        package_deployment(model_dir, tmp_path / "used", name="x")
