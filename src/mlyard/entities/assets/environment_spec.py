"""The environment spec, as Azure ML CLI v2 YAML writes it, and what it resolves to locally.

    $schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json
    name: sklearn-env
    image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest
    conda_file: conda.yml            # or an inline mapping, or mlyard's pip_requirements
    description: scikit-learn 1.5 on Python 3.11

Besides Azure ML's fields mlyard reads `pip_requirements` (a requirements.txt relative to the
YAML, or an inline list) and `python_version`. Fields only the cloud uses (`datastore`,
`intellectual_property`, `stage`, `auto_rebuild`) are accepted and ignored.

Locally an environment is a virtual environment, so a spec resolves to a `ResolvedEnvironment`:
an interpreter version and normalised pip requirements, hashed into the `spec_hash` every build
is keyed by. An `image` is recorded for packaging. An environment that is only an `image` (or a
Docker `build:` context) runs in that container on a compute with a container runtime
(`mlyard compute create --type docker`); elsewhere it runs on a plain environment of this
machine's Python — plus the build context's `requirements.txt` and Dockerfile `pip install`
packages — and `assumed` says so in one line.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from mlyard.entities.assets.build_context import context_requirements
from mlyard.entities.assets.requirements import (
    Requirements,
    current_python_version,
    python_version_of,
    read_conda_file,
    read_requirement_lines,
    read_requirements_file,
)
from mlyard.entities.specs.local_files import confine
from mlyard.entities.specs.spec_files import load_yaml, validate_spec
from mlyard.entities.specs.spec_values import TextMap
from mlyard.errors import InvalidSpec, NotFound

CLOUD_ONLY_FIELDS = ("datastore", "intellectual_property", "stage", "auto_rebuild")


class BuildContext(BaseModel):
    """A Docker build context: built by a container compute; elsewhere its pip packages are used."""

    model_config = ConfigDict(extra="forbid")

    path: str
    dockerfile_path: str = "Dockerfile"


class InferenceRoute(BaseModel):
    model_config = ConfigDict(extra="forbid")

    port: int
    path: str


class InferenceConfig(BaseModel):
    """Routes of a custom inference image (recorded for packaging)."""

    model_config = ConfigDict(extra="forbid")

    liveness_route: InferenceRoute | None = None
    readiness_route: InferenceRoute | None = None
    scoring_route: InferenceRoute | None = None


class EnvironmentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    version: str | None = None
    description: str | None = None
    tags: TextMap = Field(default_factory=dict)
    properties: TextMap = Field(default_factory=dict)
    image: str | None = None
    conda_file: str | dict[str, Any] | None = None  # a path relative to the YAML, or the file's mapping
    build: BuildContext | None = None
    inference_config: InferenceConfig | None = None
    os_type: Literal["linux", "windows"] | None = None
    pip_requirements: str | list[str] | None = None  # a path relative to the YAML, or the lines
    python_version: str | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value

    @field_validator("python_version", mode="before")
    @classmethod
    def _python_version(cls, value: Any) -> Any:
        if isinstance(value, float):
            if str(value) in ("3.1", "3.2"):  # YAML reads 3.10 as the number 3.1
                raise ValueError(f"write the version as text, e.g. '3.{str(value)[2:]}0' (quoted)")
            value = str(value)
        if isinstance(value, str):
            try:
                return python_version_of(value)
            except ValueError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("os_type", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


class ResolvedEnvironment(BaseModel):
    """An environment as a build needs it: one interpreter version and pip requirements.

    `spec_hash` covers exactly what a build depends on (`python_version` + `requirements`), so
    specs that resolve alike share one built venv. `image` is recorded for packaging, `curated`
    names the Azure ML curated environment this stands in for, and `ignored` lists what the spec
    asked for that a local venv cannot honour (conda channels, CUDA packages, pip options).
    """

    model_config = ConfigDict(frozen=True)

    python_version: str
    requirements: tuple[str, ...] = ()
    image: str | None = None
    curated: str | None = None
    ignored: tuple[str, ...] = ()
    # An image-only or build-context environment: the container to run in where a container
    # runtime is configured (`build_context` is an absolute folder, `dockerfile` inside it), and
    # what was assumed to run it without one.
    build_context: str | None = None
    dockerfile: str | None = None
    assumed: str | None = None

    @field_validator("requirements")
    @classmethod
    def _sorted(cls, requirements: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(requirements)))  # the hash must not depend on the order given

    @computed_field  # type: ignore[prop-decorator]
    @property
    def spec_hash(self) -> str:
        canonical = json.dumps(
            {"python_version": self.python_version, "requirements": list(self.requirements)},
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def container_only(self) -> bool:
        """Declared only as a container (an image or a build context), no Python dependencies."""
        return self.assumed is not None

    @property
    def warning(self) -> str | None:
        """One line for the user about what is assumed or not honoured locally, or None."""
        parts = [self.assumed] if self.assumed else []
        if self.ignored:
            parts.append("not honoured locally: " + "; ".join(self.ignored))
        return "; ".join(parts) or None

    def describe(self) -> str:
        packages = ", ".join(self.requirements) or "no packages"
        return f"python {self.python_version} with {packages}"


def load_environment(path: Path) -> EnvironmentSpec:
    """Read and validate an environment YAML; errors name the file and the field."""
    return parse_environment(load_yaml(path), str(path))


def parse_environment(data: dict[str, Any], source: str) -> EnvironmentSpec:
    """Validate an environment mapping (a file's, or a job's inline `environment:`)."""
    fields = {key: value for key, value in data.items() if key not in CLOUD_ONLY_FIELDS and key != "$schema"}
    return validate_spec(EnvironmentSpec, fields, source)


def resolve_spec(spec: EnvironmentSpec, base_dir: Path, source: str = "environment") -> ResolvedEnvironment:
    """The interpreter version and requirements `spec` asks for; files are read relative to `base_dir`.

    Without a Python version anywhere in the spec, the running interpreter's is used.
    """
    if spec.conda_file is None and spec.pip_requirements is None and spec.python_version is None:
        if spec.image or spec.build:
            return _container_only(spec, base_dir, source)
        raise InvalidSpec(f"{source}: an environment needs conda_file or pip_requirements (or an image)")
    found = Requirements()
    conda_python = None
    if spec.conda_file is not None:
        conda = _read_conda(spec.conda_file, base_dir, source)
        conda_python = conda.python_version
        found.extend(conda)
    if spec.pip_requirements is not None:
        found.extend(_read_pip_requirements(spec.pip_requirements, base_dir, source))
    if spec.python_version and conda_python and spec.python_version != conda_python:
        raise InvalidSpec(
            f"{source}: python_version: {spec.python_version} disagrees with the conda file's "
            f"python={conda_python}; give one of them"
        )
    if spec.os_type == "windows":
        found.ignored.append("os_type windows (local environments use this machine's OS)")
    return ResolvedEnvironment(
        python_version=spec.python_version or conda_python or current_python_version(),
        requirements=tuple(found.requirements),
        image=spec.image,
        ignored=tuple(dict.fromkeys(found.ignored)),
        build_context=_context_folder(spec, base_dir),
        dockerfile=spec.build.dockerfile_path if spec.build else None,
    )


def _container_only(spec: EnvironmentSpec, base_dir: Path, source: str) -> ResolvedEnvironment:
    """An image or build context with no declared Python dependencies: what runs it without a
    container — this machine's Python, plus the packages a build context installs with pip."""
    python = current_python_version()
    context = _context_folder(spec, base_dir)
    found = Requirements()
    if spec.build is not None and context is not None:
        found = context_requirements(Path(context), spec.build.dockerfile_path, source)
    what = f"image {spec.image}" if spec.image else f"build context {spec.build.path if spec.build else ''}"
    packages = f" with {', '.join(found.requirements)}" if found.requirements else ""
    assumed = (
        f"{what} declares no Python dependencies: without a container runtime it runs on a plain "
        f"environment of this machine's Python {python}{packages}"
    )
    return ResolvedEnvironment(
        python_version=python,
        requirements=tuple(found.requirements),
        image=spec.image,
        ignored=tuple(dict.fromkeys(found.ignored)),
        build_context=context,
        dockerfile=spec.build.dockerfile_path if spec.build else None,
        assumed=assumed,
    )


def _context_folder(spec: EnvironmentSpec, base_dir: Path) -> str | None:
    """The build context as an absolute folder; None without one, or for a URL (a git context)."""
    if spec.build is None or "://" in spec.build.path:
        return None
    return str(_file(spec.build.path, base_dir).resolve())


def inline_files(spec: EnvironmentSpec, base_dir: Path) -> EnvironmentSpec:
    """`spec` with its conda file and requirements file read in, so a stored copy stands alone."""
    update: dict[str, Any] = {}
    if isinstance(spec.conda_file, str):
        update["conda_file"] = load_yaml(_file(spec.conda_file, base_dir))
    if isinstance(spec.pip_requirements, str):
        text = _file(spec.pip_requirements, base_dir).read_text(encoding="utf-8")
        update["pip_requirements"] = [line.strip() for line in text.splitlines() if line.strip()]
    return spec.model_copy(update=update)


def _read_conda(conda_file: str | dict[str, Any], base_dir: Path, source: str) -> Requirements:
    if isinstance(conda_file, dict):
        return read_conda_file(conda_file, f"{source}: conda_file", base_dir)
    path = _file(conda_file, base_dir)
    if not path.is_file():
        raise NotFound(f"{source}: conda_file: file {path} does not exist")
    return read_conda_file(load_yaml(path), str(path), path.parent)


def _read_pip_requirements(given: str | list[str], base_dir: Path, source: str) -> Requirements:
    if isinstance(given, list):
        return read_requirement_lines(given, f"{source}: pip_requirements", base_dir)
    path = _file(given, base_dir)
    if not path.is_file():
        raise NotFound(f"{source}: pip_requirements: file {path} does not exist")
    return read_requirements_file(path)


def _file(given: str, base_dir: Path) -> Path:
    path = Path(given).expanduser()
    return confine(path if path.is_absolute() else base_dir / path, "environment")
