"""Package a deployment to run outside mlyard: a Docker build context and Kubernetes manifests.

    <output>/
      Dockerfile            FROM the environment's image, or python:<version>-slim
      .dockerignore
      requirements.txt      the environment's requirements, the model's frameworks and the serving
                            runtime, pinned to exact versions wherever a version is known
      serve.py              the entry point: runs the instance on ./model (and ./code), port 5001
      mlyard/               mlyard's own source (the instance imports it; no PyPI release needed)
      model/                the model folder, as registered
      code/                 the scoring code, when there is a scoring script
      kubernetes/
        deployment.yaml     Deployment with liveness/readiness probes (Azure ML's defaults) and resources
        service.yaml        ClusterIP Service, port 80 → the instance's port
        hpa.yaml            HorizontalPodAutoscaler (autoscaling/v2) on CPU utilisation

`python <output>/serve.py --port 8080` runs the packaged instance directly, without Docker.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

import yaml

from mlyard.entities.assets.environment_spec import ResolvedEnvironment
from mlyard.entities.assets.requirements import current_python_version, normalize_requirement
from mlyard.errors import InvalidArgument, NotFound
from mlyard.serving.scorers import model_flavor

DEFAULT_PORT = 5001
# What the instance imports at run time (see serving/instance.py), besides the model's frameworks.
RUNTIME_PACKAGES = ("numpy", "orjson", "pydantic", "pyyaml", "uvicorn", "httptools", "uvloop")
# Extra packages each flavor's scorer needs beyond what the model's framework_versions name.
FLAVOR_PACKAGES = {"onnx": ("onnxruntime",), "mlflow": ("cloudpickle", "skops")}
_MLYARD_SOURCE = Path(__file__).resolve().parents[1]
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass(frozen=True)
class Probe:
    """A Kubernetes HTTP probe; the defaults are Azure ML's for online deployments."""

    initial_delay: int = 10
    period: int = 10
    timeout: int = 2
    success_threshold: int = 1
    failure_threshold: int = 30


@dataclass(frozen=True)
class Resources:
    cpu_request: str = "500m"
    cpu_limit: str = "1"
    memory_request: str = "1Gi"
    memory_limit: str = "2Gi"


@dataclass(frozen=True)
class PackageSettings:
    """How the packaged deployment runs: Azure ML's request settings, scale, probes, resources."""

    port: int = DEFAULT_PORT
    instance_count: int = 1
    max_instance_count: int = 5
    target_cpu_utilization: int = 70
    max_concurrent_requests: int = 1
    request_timeout_ms: int = 5000
    liveness_probe: Probe = field(default_factory=Probe)
    readiness_probe: Probe = field(default_factory=Probe)
    resources: Resources = field(default_factory=Resources)
    graceful_timeout: int = 30


@dataclass(frozen=True)
class Package:
    """Where `package_deployment` wrote each part."""

    folder: Path
    dockerfile: Path
    requirements: Path
    entry_point: Path
    manifests: dict[str, Path]
    image: str
    unpinned: tuple[str, ...] = ()


def package_deployment(
    model_dir: Path,
    output_dir: Path,
    *,
    name: str,
    environment: ResolvedEnvironment | None = None,
    code_dir: Path | None = None,
    scoring_script: str | None = None,
    image: str | None = None,
    settings: PackageSettings | None = None,
    model_folder_name: str | None = None,
) -> Package:
    """Write the build context and manifests for serving `model_dir` as deployment `name`.

    `environment` is the deployment's resolved environment (`resolve_spec`); without one, the
    model's own framework versions and the serving runtime make the requirements. `image` is the
    tag the manifests run (default `<name>:latest`). `output_dir` must not exist or be empty.
    `model_folder_name` (the model version's) puts the model under that name for a scoring
    script, as online deployments do (services/model_registry/model_layout.py).
    """
    settings = settings or PackageSettings()
    _check_inputs(model_dir, output_dir, name, code_dir, scoring_script)
    flavor, metadata = model_flavor(model_dir) if scoring_script is None else _flavor_if_any(model_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".git", ".venv")
    model_target = output_dir / "model"
    if scoring_script is not None and model_folder_name is not None:
        model_target = model_target / model_folder_name  # $AZUREML_MODEL_DIR/<folder>/<file>
    shutil.copytree(model_dir, model_target, ignore=ignore)
    if code_dir is not None:
        shutil.copytree(code_dir, output_dir / "code", ignore=ignore)
    shutil.copytree(_MLYARD_SOURCE, output_dir / "mlyard", ignore=ignore)

    frameworks = dict(metadata.framework_versions) if metadata is not None else {}
    python_version = (environment.python_version if environment else None) or _major_minor(
        frameworks.get("python")
    )
    lines, unpinned = pinned_requirements(environment, frameworks, flavor)
    requirements = output_dir / "requirements.txt"
    requirements.write_text(_requirements_text(lines, unpinned), encoding="utf-8")

    entry_point = output_dir / "serve.py"
    entry_point.write_text(_serve_py(name, scoring_script, settings), encoding="utf-8")
    dockerfile = output_dir / "Dockerfile"
    base = environment.image if environment and environment.image else f"python:{python_version}-slim"
    dockerfile.write_text(_dockerfile(base, settings, has_code=code_dir is not None), encoding="utf-8")
    (output_dir / ".dockerignore").write_text("**/__pycache__\n**/*.pyc\n.git\n", encoding="utf-8")

    image = image or f"{name}:latest"
    kubernetes = output_dir / "kubernetes"
    kubernetes.mkdir()
    manifests = {}
    for kind, document in kubernetes_manifests(name, image, settings).items():
        path = kubernetes / f"{kind}.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        manifests[kind] = path
    return Package(output_dir, dockerfile, requirements, entry_point, manifests, image, tuple(unpinned))


def pinned_requirements(
    environment: ResolvedEnvironment | None, frameworks: dict[str, str], flavor: str | None
) -> tuple[list[str], list[str]]:
    """Requirement lines (the environment's win over the model's, which win over the runtime's),
    each pinned to `==version` when it had no version and one is known; and the names left unpinned."""
    chosen: dict[str, str] = {}
    for package in (*RUNTIME_PACKAGES, *FLAVOR_PACKAGES.get(flavor or "", ())):
        installed = _installed_version(package)
        if package == "uvloop":
            chosen[package] = f"uvloop=={installed}; sys_platform != 'win32'" if installed else "uvloop"
        else:
            chosen[package] = f"{package}=={installed}" if installed else package
    for package, version in frameworks.items():
        if package != "python":
            chosen[_canonical(package)] = f"{_canonical(package)}=={version}"
    for requirement in environment.requirements if environment else ():
        text = normalize_requirement(requirement)
        package = _canonical(re.split(r"[\[<>=!~;@ ]", text, maxsplit=1)[0])
        if text == package or text.startswith(f"{package}["):
            installed = _installed_version(package)
            text = f"{text}=={installed}" if installed and text == package else text
        chosen[package] = text
    unpinned = sorted(package for package, line in chosen.items() if "==" not in line and "@" not in line)
    return sorted(chosen.values()), unpinned


def kubernetes_manifests(name: str, image: str, settings: PackageSettings) -> dict[str, dict[str, Any]]:
    """The Deployment, Service and HorizontalPodAutoscaler of a packaged deployment."""
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": "mlyard"}
    container = {
        "name": "scoring",
        "image": image,
        "args": [
            "--host",
            "0.0.0.0",
            "--port",
            str(settings.port),
            "--max-concurrent-requests",
            str(settings.max_concurrent_requests),
            "--request-timeout-ms",
            str(settings.request_timeout_ms),
            "--graceful-timeout",
            str(settings.graceful_timeout),
        ],  # fmt: skip
        "ports": [{"name": "http", "containerPort": settings.port, "protocol": "TCP"}],
        "env": [
            {"name": "AZUREML_MODEL_DIR", "value": "/app/model"},
            {"name": "MLYARD_MODEL_DIR", "value": "/app/model"},
        ],
        "livenessProbe": _probe("/live", settings.port, settings.liveness_probe),
        "readinessProbe": _probe("/ready", settings.port, settings.readiness_probe),
        "resources": {
            "requests": {"cpu": settings.resources.cpu_request, "memory": settings.resources.memory_request},
            "limits": {"cpu": settings.resources.cpu_limit, "memory": settings.resources.memory_limit},
        },
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": settings.instance_count,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "terminationGracePeriodSeconds": settings.graceful_timeout + 5,
                    "containers": [container],
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/name": name},
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }
    autoscaler = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": settings.instance_count,
            "maxReplicas": max(settings.instance_count, settings.max_instance_count),
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": settings.target_cpu_utilization,
                        },
                    },
                }
            ],
        },
    }
    return {"deployment": deployment, "service": service, "hpa": autoscaler}


def _probe(path: str, port: int, probe: Probe) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": port},
        "initialDelaySeconds": probe.initial_delay,
        "periodSeconds": probe.period,
        "timeoutSeconds": probe.timeout,
        "successThreshold": probe.success_threshold,
        "failureThreshold": probe.failure_threshold,
    }


def _check_inputs(
    model_dir: Path, output_dir: Path, name: str, code_dir: Path | None, scoring_script: str | None
) -> None:
    if not _NAME.match(name) or len(name) > 63:
        raise InvalidArgument(
            f"deployment name {name!r} is not a valid Kubernetes name: lowercase letters, digits and '-', "
            "starting and ending with a letter or digit, at most 63 characters"
        )
    if not model_dir.is_dir():
        raise NotFound(f"model folder {model_dir} does not exist")
    if output_dir.exists() and (not output_dir.is_dir() or any(output_dir.iterdir())):
        raise InvalidArgument(f"output folder {output_dir} exists and is not empty; choose a new folder")
    if (code_dir is None) != (scoring_script is None):
        raise InvalidArgument("code_dir and scoring_script go together: give both or neither")
    if code_dir is not None and scoring_script is not None and not (code_dir / scoring_script).is_file():
        raise NotFound(f"scoring script {code_dir / scoring_script} does not exist")


def _flavor_if_any(model_dir: Path) -> tuple[str | None, Any]:
    try:
        return model_flavor(model_dir)
    except NotFound:  # a scoring script may load any folder
        return None, None


def _installed_version(package: str) -> str | None:
    try:
        return package_metadata.version(package)
    except package_metadata.PackageNotFoundError:
        return None


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _major_minor(version: str | None) -> str:
    if version and re.match(r"^\d+\.\d+", version):
        return ".".join(version.split(".")[:2])
    return current_python_version()


def _requirements_text(lines: list[str], unpinned: list[str]) -> str:
    header = ["# Written by mlyard's packaging: the deployment's environment, its model's frameworks and"]
    header.append("# the serving runtime, pinned to the versions they were saved and tested with.")
    if unpinned:
        header.append(f"# No known version to pin for: {', '.join(unpinned)}")
    return "\n".join([*header, *lines]) + "\n"


def _serve_py(name: str, scoring_script: str | None, settings: PackageSettings) -> str:
    script = (
        f'    "--code-dir", str(HERE / "code"), "--scoring-script", {scoring_script!r},\n'
        if scoring_script
        else ""
    )
    return f'''"""Entry point of the packaged deployment {name!r}: `python serve.py [--port N] ...`.

Runs mlyard's scoring instance on the model (and code) next to this file; any argument given
here is passed on, after the packaged defaults, so it overrides them.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from mlyard.serving.instance import main  # noqa: E402

DEFAULTS = [
    "--model-dir", str(HERE / "model"),
{script}    "--name", {name!r},
    "--port", "{settings.port}",
    "--max-concurrent-requests", "{settings.max_concurrent_requests}",
    "--request-timeout-ms", "{settings.request_timeout_ms}",
]

if __name__ == "__main__":
    sys.exit(main(DEFAULTS + sys.argv[1:]))
'''


def _dockerfile(base: str, settings: PackageSettings, *, has_code: bool) -> str:
    code = "COPY code/ /app/code/\n" if has_code else ""
    port = settings.port
    return f"""# Written by mlyard's packaging.
# Build: docker build -t IMAGE .    Run: docker run -p {port}:{port} IMAGE
FROM {base}

ENV PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    AZUREML_MODEL_DIR=/app/model \\
    MLYARD_MODEL_DIR=/app/model

WORKDIR /app
COPY requirements.txt /app/requirements.txt
RUN python -m pip install --no-cache-dir -r /app/requirements.txt

COPY mlyard/ /app/mlyard/
COPY model/ /app/model/
{code}COPY serve.py /app/serve.py

RUN useradd --system --uid 10001 --home-dir /app scoring && chown -R scoring /app
USER 10001

EXPOSE {settings.port}
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "/app/serve.py"]
CMD ["--host", "0.0.0.0", "--port", "{settings.port}"]
"""
