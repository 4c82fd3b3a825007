"""Environment YAML as Azure ML writes it, what it resolves to locally, and curated environments."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from mlyard.entities.assets.curated_environments import CATALOG, family, resolve_curated
from mlyard.entities.assets.environment_spec import (
    EnvironmentSpec,
    ResolvedEnvironment,
    load_environment,
    parse_environment,
    resolve_spec,
)
from mlyard.entities.assets.requirements import normalize_requirement
from mlyard.entities.specs.spec_warnings import checking_specs
from mlyard.errors import InvalidSpec, NotFound

CURRENT = f"{sys.version_info.major}.{sys.version_info.minor}"

CONDA_FILE = """
name: train-env
channels:
  - conda-forge
  - defaults
dependencies:
  - python=3.11
  - pip
  - numpy=1.26
  - conda-forge::pandas>=2.0
  - scipy==1.13.1=py311h_0
  - pytorch=2.1
  - cudatoolkit=11.8
  - pip:
    - Scikit_Learn[AllDeps] >= 1.3, <2
    - mlflow-skinny
    - --extra-index-url https://example.org/simple
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def resolve_file(path: Path) -> ResolvedEnvironment:
    return resolve_spec(load_environment(path), path.parent, str(path))


def test_a_conda_file_becomes_python_version_and_pip_requirements(tmp_path):
    write(tmp_path, "conda.yml", CONDA_FILE)
    env = write(
        tmp_path,
        "env.yml",
        """
        $schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json
        name: train-env
        version: 3
        image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest
        conda_file: conda.yml
        datastore: azureml:workspaceblobstore
        os_type: Linux
        """,
    )
    spec = load_environment(env)
    assert spec.version == "3" and spec.os_type == "linux"
    resolved = resolve_file(env)
    assert resolved.python_version == "3.11"
    assert resolved.requirements == (
        "mlflow-skinny",
        "numpy==1.26.*",
        "pandas>=2.0",
        "scikit-learn[alldeps]<2,>=1.3",
        "scipy==1.13.1",
        "torch==2.1.*",
    )
    assert resolved.image == "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
    assert "conda channel conda-forge" in resolved.ignored
    assert any("cudatoolkit=11.8" in note for note in resolved.ignored)
    assert resolved.warning is not None and "--extra-index-url" in resolved.warning
    assert len(resolved.spec_hash) == 64


def test_a_requirements_file_with_comments_includes_and_options(tmp_path):
    write(tmp_path, "base.txt", "idna>=3  # for urls\n")
    write(
        tmp_path,
        "requirements.txt",
        """
        # training
        six==1.17.0
        -r base.txt
        --index-url https://example.org/simple
        numpy \\
            >=1.26
        requests; python_version >= "3.8"
        """,
    )
    env = write(tmp_path, "env.yml", "name: pip-env\npip_requirements: requirements.txt\n")
    resolved = resolve_file(env)
    assert resolved.python_version == CURRENT
    assert resolved.requirements == (
        "idna>=3",
        "numpy>=1.26",
        'requests; python_version >= "3.8"',
        "six==1.17.0",
    )
    assert any("--index-url" in note for note in resolved.ignored)


def test_inline_conda_mapping_and_pip_list_need_no_files(tmp_path):
    spec = parse_environment(
        {
            "image": "python:3.11-slim",
            "conda_file": {"dependencies": [f"python={CURRENT}", {"pip": ["six"]}]},
            "pip_requirements": ["idna"],
        },
        "job.yml: environment",
    )
    resolved = resolve_spec(spec, tmp_path, "job.yml: environment")
    assert resolved.python_version == CURRENT
    assert resolved.requirements == ("idna", "six")


def test_equivalent_specs_share_a_hash_and_only_build_inputs_count(tmp_path):
    one = ResolvedEnvironment(python_version="3.11", requirements=("six", "idna"))
    spelled = resolve_spec(
        EnvironmentSpec(python_version="3.11", pip_requirements=["IDNA", "six  # needed"]), tmp_path
    )
    assert one.spec_hash == spelled.spec_hash and spelled.requirements == ("idna", "six")
    imaged = resolve_spec(
        EnvironmentSpec(python_version="3.11", pip_requirements=["six", "idna"], image="x:1"), tmp_path
    )
    assert imaged.spec_hash == spelled.spec_hash and imaged.image == "x:1"
    other_python = resolve_spec(
        EnvironmentSpec(python_version="3.12", pip_requirements=["six", "idna"]), tmp_path
    )
    assert other_python.spec_hash != spelled.spec_hash
    assert ResolvedEnvironment.model_validate(spelled.model_dump(mode="json")) == spelled


def test_requirements_are_normalized():
    assert normalize_requirement("Scikit_Learn [Alldeps] >= 1.3 , <2") == "scikit-learn[alldeps]<2,>=1.3"
    assert normalize_requirement("numpy == 1.26.*") == "numpy==1.26.*"
    with pytest.raises(ValueError):
        normalize_requirement("not a requirement !!")


def test_an_image_alone_resolves_to_the_local_python_and_says_so(tmp_path):
    env = write(tmp_path, "env.yml", "name: img\nimage: mcr.microsoft.com/azureml/minimal:latest\n")
    resolved = resolve_file(env)
    assert resolved.requirements == () and resolved.python_version == CURRENT
    assert resolved.image == "mcr.microsoft.com/azureml/minimal:latest" and resolved.container_only
    assert resolved.warning == (
        "image mcr.microsoft.com/azureml/minimal:latest declares no Python dependencies: without a "
        f"container runtime it runs on a plain environment of this machine's Python {CURRENT}"
    )
    empty = write(tmp_path, "empty.yml", "name: nothing\n")
    with pytest.raises(InvalidSpec, match=r"empty\.yml: an environment needs conda_file or pip_requirements"):
        resolve_file(empty)


def test_spec_errors_name_the_file_and_the_field(tmp_path):
    typo = write(tmp_path, "typo.yml", "name: e\nconda_fil: conda.yml\n")
    with (
        checking_specs(strict=True),
        pytest.raises(InvalidSpec, match=r"typo\.yml: conda_fil: unknown field"),
    ):
        load_environment(typo)
    tags = write(tmp_path, "tags.yml", "name: e\ntags: [a, b]\n")
    with pytest.raises(InvalidSpec, match=r"tags\.yml: tags: expected a mapping"):
        load_environment(tags)
    broken = write(tmp_path, "broken.yml", "name: e\nconda_file: [unclosed\n")
    with pytest.raises(InvalidSpec, match=r"broken\.yml \(line \d+, column \d+\): not valid YAML"):
        load_environment(broken)
    yaml_float = write(tmp_path, "float.yml", "name: e\npython_version: 3.10\n")
    with pytest.raises(
        InvalidSpec, match=r"float\.yml: python_version: write the version as text, e\.g\. '3\.10'"
    ):
        load_environment(yaml_float)
    missing = write(tmp_path, "missing.yml", "name: e\nconda_file: nowhere.yml\n")
    with pytest.raises(NotFound, match=r"missing\.yml: conda_file: file .*nowhere\.yml does not exist"):
        resolve_file(missing)
    with pytest.raises(NotFound, match="does not exist"):
        load_environment(tmp_path / "absent.yml")


def test_conda_and_requirements_file_errors_name_those_files(tmp_path):
    write(tmp_path, "conda.yml", "dependencies:\n  - python=3.11\n  - {pip: six}\n")
    env = write(tmp_path, "env.yml", "name: e\nconda_file: conda.yml\n")
    with pytest.raises(InvalidSpec, match=r"conda\.yml: dependencies\[1\]: expected a conda package"):
        resolve_file(env)
    write(tmp_path, "conda.yml", "dependecies:\n  - numpy\n")
    with pytest.raises(InvalidSpec, match=r"conda\.yml: dependecies: unknown field of a conda file"):
        resolve_file(env)
    write(tmp_path, "conda.yml", "dependencies:\n  - numpy 1.2|1.3\n")
    with pytest.raises(
        InvalidSpec, match=r"conda\.yml: dependencies\[0\]: 'numpy 1\.2\|1\.3' has no pip equivalent"
    ):
        resolve_file(env)
    write(tmp_path, "requirements.txt", "six\n\nnumpy >=>= 1\n")
    pip_env = write(tmp_path, "pip.yml", "name: e\npip_requirements: requirements.txt\n")
    with pytest.raises(InvalidSpec, match=r"requirements\.txt:3: 'numpy >=>= 1' is not a valid requirement"):
        resolve_file(pip_env)
    write(tmp_path, "conda.yml", "dependencies:\n  - python=3.12\n")
    both = write(tmp_path, "both.yml", "name: e\nconda_file: conda.yml\npython_version: '3.11'\n")
    with pytest.raises(
        InvalidSpec, match=r"both\.yml: python_version: 3\.11 disagrees with the conda file's python=3\.12"
    ):
        resolve_file(both)


@pytest.mark.parametrize(
    ("ref", "entry"),
    [
        ("azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu@latest", "sklearn-1.0"),
        ("AzureML-sklearn-1.0-ubuntu20.04-py38-cpu:3", "sklearn-1.0"),
        ("azureml:AzureML-sklearn-0.24-ubuntu18.04-py37-cpu@latest", "sklearn-1.0"),
        ("azureml://registries/azureml/environments/sklearn-1.1/versions/4", "sklearn-1.1"),
        ("azureml://registries/azureml/environments/sklearn-1.5/labels/latest", "sklearn-1.5"),
        ("azureml://registries/azureml/environments/lightgbm-3.3/labels/latest", "lightgbm-3.3"),
        (
            "azureml://registries/azureml/environments/acpt-pytorch-2.2-cuda12.1/labels/latest",
            "pytorch-2.x-cpu",
        ),
        ("azureml:AzureML-tensorflow-2.4-ubuntu18.04-py37-cuda11-gpu:41", "tensorflow-2.x"),
        ("azureml:AzureML-Minimal:1", "minimal"),
        ("azureml://registries/azureml/environments/minimal-py311-inference/labels/latest", "minimal"),
        (
            "azureml://registries/azureml/environments/minimal-ubuntu20.04-py38-cpu-inference:latest",
            "minimal",
        ),
        ("AzureML-mlflow-ubuntu20.04-py38-cpu-inference@latest", "mlflow"),
    ],
)
def test_curated_references_resolve_to_catalog_entries_on_this_interpreter(ref, entry):
    resolved = resolve_curated(ref)
    assert resolved.curated == entry
    assert resolved.python_version == CURRENT
    assert list(resolved.requirements) == sorted(normalize_requirement(p) for p in CATALOG[entry].packages)
    assert any("local equivalent" in note for note in resolved.ignored)


def test_torch_is_pinned_to_the_cpu_build_that_installs_here():
    assert "torch==2.13.0" in resolve_curated("AzureML-pytorch-1.10-ubuntu18.04-py38-cuda11-gpu").requirements
    assert family("AzureML-sklearn-1.0-ubuntu20.04-py38-cpu") == "sklearn-1.0"


def test_an_unknown_curated_name_names_it_and_close_matches():
    with pytest.raises(NotFound) as raised:
        resolve_curated("azureml:AzureML-sklern-1.5-ubuntu20.04-py38-cpu@latest")
    message = str(raised.value)
    assert "'AzureML-sklern-1.5-ubuntu20.04-py38-cpu' has no local equivalent" in message
    assert "did you mean" in message and "sklearn-1.5" in message
    assert "Known families: sklearn-1.0, sklearn-1.1, sklearn-1.5" in message
    with pytest.raises(
        NotFound, match="'acft-hf-nlp-gpu' has no local equivalent.*conda_file or pip_requirements"
    ):
        resolve_curated("azureml://registries/azureml/environments/acft-hf-nlp-gpu/labels/latest")
    with pytest.raises(NotFound, match="registry 'contoso' is not available locally"):
        resolve_curated("azureml://registries/contoso/environments/sklearn-1.5/labels/latest")
