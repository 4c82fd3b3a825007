"""Environments: versioning, dedup by resolved spec, references as jobs write them; SQLite and PostgreSQL."""

from __future__ import annotations

import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mlyard.entities.assets.environment_spec import EnvironmentSpec, load_environment
from mlyard.entities.specs.spec_warnings import checking_specs
from mlyard.errors import AlreadyExists, InvalidArgument, InvalidSpec, NotFound
from mlyard.services.assets import environments

CURRENT = f"{sys.version_info.major}.{sys.version_info.minor}"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def register(workspace, path: Path, **overrides) -> environments.EnvironmentRegistration:
    spec = load_environment(path).model_copy(update=overrides)
    return environments.create_environment(workspace, spec, path.parent, source=str(path))


@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    write(tmp_path, "conda.yml", f"dependencies:\n  - python={CURRENT}\n  - pip\n  - pip: [six==1.17.0]\n")
    return write(
        tmp_path,
        "env.yml",
        """
        $schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json
        name: train-env
        description: for training
        tags: {team: ml}
        conda_file: conda.yml
        """,
    )


def test_create_records_the_spec_with_its_files_and_what_it_resolves_to(workspace, env_file):
    registration = environments.create_environment(
        workspace, load_environment(env_file), env_file.parent, source=str(env_file)
    )
    environment = registration.environment
    assert registration.created and registration.message == "registered environment train-env:1"
    assert environment.ref == "train-env:1" and environment.tags == {"team": "ml"}
    assert environment.resolved.python_version == CURRENT
    assert environment.resolved.requirements == ("six==1.17.0",)
    assert environment.spec_hash == environment.resolved.spec_hash
    assert environment.spec.conda_file == {
        "dependencies": [f"python={CURRENT}", "pip", {"pip": ["six==1.17.0"]}]
    }
    assert environments.get_environment(workspace, "azureml:train-env:1") == environment


def test_the_same_spec_again_returns_the_existing_version(workspace, env_file, tmp_path):
    first = register(workspace, env_file).environment
    pip_style = write(tmp_path, "requirements.txt", "six == 1.17.0  # same thing, said differently\n")
    again = environments.create_environment(
        workspace,
        EnvironmentSpec(name="train-env", pip_requirements=pip_style.name, python_version=CURRENT),
        tmp_path,
    )
    assert not again.created and again.environment.version == first.version
    assert "already registered as train-env:1" in again.message
    assert [e.version for e in environments.list_environments(workspace, "train-env")] == ["1"]


def test_a_changed_spec_gets_the_next_version_and_latest_follows(workspace, env_file, tmp_path):
    register(workspace, env_file)
    write(tmp_path, "conda.yml", f"dependencies:\n  - python={CURRENT}\n  - pip: [six==1.17.0, idna]\n")
    second = register(workspace, env_file)
    assert second.created and second.environment.version == "2"
    imaged = environments.create_environment(
        workspace, load_environment(env_file).model_copy(update={"image": "python:3.11-slim"}), tmp_path
    )
    assert imaged.created and imaged.environment.version == "3"  # same build, but a different image
    assert environments.get_environment(workspace, "train-env@latest").resolved.image == "python:3.11-slim"
    assert environments.get_environment(workspace, "train-env").version == "3"
    assert [e.version for e in environments.list_environments(workspace, "train-env")] == ["3", "2", "1"]
    assert [e.ref for e in environments.list_environments(workspace)] == ["train-env:3"]


def test_an_existing_explicit_version_with_another_spec_is_refused(workspace, env_file, tmp_path):
    first = register(workspace, env_file, version="2024-01")
    assert first.environment.version == "2024-01"
    assert not register(workspace, env_file, version="2024-01").created
    write(tmp_path, "conda.yml", "dependencies:\n  - pip: [idna]\n")
    with pytest.raises(AlreadyExists, match="train-env:2024-01 already exists with a different spec"):
        register(workspace, env_file, version="2024-01")
    assert environments.get_environment(workspace, "train-env:2024-01").resolved.requirements == (
        "six==1.17.0",
    )


def test_bad_names_missing_names_and_unknown_versions_are_named(workspace, env_file, tmp_path):
    with pytest.raises(InvalidSpec, match="name: required to register an environment"):
        environments.create_environment(workspace, EnvironmentSpec(pip_requirements=["six"]), tmp_path)
    with pytest.raises(InvalidArgument, match="invalid environment name"):
        register(workspace, env_file, name="../evil")
    with pytest.raises(NotFound, match="environment 'nope' does not exist; register it with"):
        environments.get_environment(workspace, "nope@latest")
    register(workspace, env_file)
    with pytest.raises(NotFound, match="has no version '7'; versions: 1"):
        environments.get_environment(workspace, "train-env:7")
    with pytest.raises(NotFound, match="environment 'nope' does not exist"):
        environments.list_environments(workspace, "nope")
    assert environments.list_environments(workspace) != []


def test_concurrent_registrations_of_one_spec_make_one_version(workspace, env_file):
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: register(workspace, env_file), range(4)))
    assert {r.environment.version for r in results} == {"1"}
    assert sum(r.created for r in results) == 1


def test_resolve_accepts_every_way_a_job_names_an_environment(workspace, env_file, tmp_path):
    registered = register(workspace, env_file).environment
    resolve = environments.resolve_environment
    assert resolve(workspace, None, tmp_path) is None
    assert resolve(workspace, "inherit", tmp_path) is None
    for ref in (
        "train-env:1",
        "train-env@latest",
        "azureml:train-env:1",
        "azureml:train-env@latest",
        "train-env",
    ):
        assert resolve(workspace, ref, tmp_path) == registered.resolved
    from_file = resolve(workspace, env_file.name, tmp_path)
    assert from_file is not None and from_file.spec_hash == registered.spec_hash
    inline = resolve(workspace, {"image": "python:3.11", "conda_file": "conda.yml"}, tmp_path)
    assert inline is not None and inline.spec_hash == registered.spec_hash and inline.image == "python:3.11"
    curated = resolve(
        workspace, "azureml://registries/azureml/environments/sklearn-1.5/labels/latest", tmp_path
    )
    assert curated is not None and curated.curated == "sklearn-1.5" and curated.python_version == CURRENT
    legacy = resolve(workspace, "azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest", tmp_path)
    assert legacy is not None and legacy.curated == "sklearn-1.0"
    assert resolve(workspace, "lightgbm-3.3", tmp_path).curated == "lightgbm-3.3"  # type: ignore[union-attr]


def test_a_registered_name_wins_over_the_catalog(workspace, tmp_path):
    spec = EnvironmentSpec(name="sklearn-1.5", pip_requirements=["six"])
    environments.create_environment(workspace, spec, tmp_path)
    resolved = environments.resolve_environment(workspace, "sklearn-1.5@latest", tmp_path)
    assert resolved is not None and resolved.curated is None and resolved.requirements == ("six",)


def test_unknown_references_say_what_is_known(workspace, env_file, tmp_path):
    register(workspace, env_file)
    with pytest.raises(NotFound, match=r"'train-envv' is not registered.*did you mean train-env\?"):
        environments.resolve_environment(workspace, "train-envv@latest", tmp_path)
    with pytest.raises(NotFound, match="'AzureML-sklern-1.5-ubuntu20.04-py38-cpu' has no local equivalent"):
        environments.resolve_environment(
            workspace, "azureml:AzureML-sklern-1.5-ubuntu20.04-py38-cpu:1", tmp_path
        )
    typo = r"job\.yml: environment: conda_fle: unknown field"
    with checking_specs(strict=True), pytest.raises(InvalidSpec, match=typo):
        environments.resolve_environment(workspace, {"conda_fle": "x.yml"}, tmp_path, "job.yml: environment")
