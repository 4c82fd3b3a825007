"""Running a job's command in its environment's container, on a compute of type `docker`.

    mlyard compute create --name box --type docker [--address podman]

A job on such a compute whose environment names an `image` (or a Docker `build:` context, built
once per context and Dockerfile content) runs as `docker run` (or `podman run`): the job's working
folder and its inputs mounted at the same paths, the host's network (so `mlflow` in the container
reaches the job's MLflow API on 127.0.0.1), the job's variables (`MLYARD_*`, `MLFLOW_*`,
`AZUREML_*` and its own `environment_variables`) and nothing else of the host's environment. A
job whose environment has no image runs as on a local compute.

The runtime is the compute's `address` (`docker`, `podman`, or a path), else the first of docker
and podman on PATH. When none is installed or its daemon does not answer the job fails before
its command runs, saying which runtime and what to do — a local compute runs the same job on a
plain environment of this machine's Python.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from mlyard.entities.assets.environment_spec import ResolvedEnvironment
from mlyard.errors import EnvironmentBuildError

RUNTIMES = ("docker", "podman")
PASSED_PREFIXES = ("MLYARD_", "MLFLOW_", "AZUREML_")
CHECK_TIMEOUT_SECONDS = 20.0


@dataclass(frozen=True)
class ContainerRuntime:
    """A container runtime's command line client that answered (`docker info` / `podman info`)."""

    binary: str

    @property
    def name(self) -> str:
        return Path(self.binary).name

    def image_for(self, environment: ResolvedEnvironment, say: Callable[[str], None]) -> str:
        """The image to run: the environment's, or its build context built once (tagged by content)."""
        if environment.build_context is None:
            assert environment.image is not None
            return environment.image
        context = Path(environment.build_context)
        dockerfile = context / (environment.dockerfile or "Dockerfile")
        if not dockerfile.is_file():
            raise EnvironmentBuildError(f"build context {context} has no {dockerfile.name} to build")
        tag = (
            "mlyard-build:" + hashlib.sha256(dockerfile.read_bytes() + str(context).encode()).hexdigest()[:16]
        )
        say(f"[mlyard] building image {tag} from {context} with {self.name}\n")
        done = subprocess.run(
            [self.binary, "build", "-t", tag, "-f", str(dockerfile), str(context)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
            raise EnvironmentBuildError(f"{self.name} build of {context} failed:\n{tail}")
        return tag

    def run_command(
        self,
        image: str,
        command: str,
        cwd: Path,
        mounts: Iterable[Path],
        env: dict[str, str],
        own_variables: Iterable[str],
        name: str,
    ) -> list[str]:
        """The `run` command line: `command` in `image` with `cwd` and `mounts` at their own paths."""
        argv = [self.binary, "run", "--rm", "--init", "--name", name, "--network", "host"]
        for folder in dict.fromkeys(mounts):
            argv += ["--volume", f"{folder}:{folder}"]
        own = set(own_variables)
        for key, value in sorted(env.items()):
            if key in own or key.startswith(PASSED_PREFIXES) or key == "PYTHONUNBUFFERED":
                argv += ["--env", f"{key}={value}"]
        return [*argv, "--workdir", str(cwd), image, "/bin/sh", "-c", command]


def find_runtime(wanted: str | None, compute: str) -> ContainerRuntime:
    """The runtime compute `compute` names (or the first installed); a clear error if it cannot run."""
    candidates = [wanted] if wanted else list(RUNTIMES)
    for candidate in candidates:
        binary = shutil.which(candidate)
        if binary is None:
            continue
        problem = _answers(binary)
        if problem is None:
            return ContainerRuntime(binary)
        raise EnvironmentBuildError(
            f"compute {compute} runs jobs in containers with {Path(binary).name}, but it cannot run "
            f"one here: {problem}. Start its daemon (or use podman), or run the job on compute local, "
            "where an image-only environment runs on a plain environment of this machine's Python"
        )
    raise EnvironmentBuildError(
        f"compute {compute} runs jobs in containers, but {' or '.join(candidates)} is not installed "
        "here; install one, or run the job on compute local, where an image-only environment runs "
        "on a plain environment of this machine's Python"
    )


def _answers(binary: str) -> str | None:
    """None when the runtime can run containers; else the last line it said about why not."""
    try:
        done = subprocess.run(
            [binary, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT_SECONDS,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if done.returncode == 0:
        return None
    lines = (done.stderr or done.stdout).strip().splitlines()
    return lines[-1] if lines else f"`{Path(binary).name} info` exited with code {done.returncode}"
