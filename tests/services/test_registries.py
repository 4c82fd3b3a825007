"""Registries embedded: a workspace and a registry on SQLite or PostgreSQL, found by name."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlyard.entities.governance.access import Actor, Role
from mlyard.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from mlyard.services.model_registry import models
from mlyard.services.registries import registries, resolution, sharing
from mlyard.services.submission.references import resolve_asset_path, resolve_environment
from mlyard.services.tracking import jobs
from mlyard.services.workspaces import audit, keys
from mlyard.services.workspaces.workspace import Workspace, close_all, create_workspace


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLYARD_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def shared(home: Path, backend: str, request: pytest.FixtureRequest) -> Iterator[Workspace]:
    """Registry `shared`: SQLite, or a PostgreSQL database of its own (not the workspace's)."""
    from tests.conftest import _admin_execute, pg_url

    name = f"mlyard_r_{uuid.uuid4().hex[:12]}"
    if backend == "postgresql":
        _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{request.getfixturevalue("pg_template")}"')
    registries.create_registry("shared", db=pg_url(name) if backend == "postgresql" else None)
    yield registries.open_registry("shared")
    if backend == "postgresql":
        close_all()
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _trained_model(workspace: Workspace, folder: Path) -> str:
    """A model version produced by a job with params and metrics; returns its version."""
    job = jobs.start_job(workspace, experiment="train")
    jobs.record_run_data(workspace, job.id, params={"alpha": "0.5"}, metrics=[jobs.make_metric("rmse", 3.5)])
    folder.mkdir(exist_ok=True)
    (folder / "weights.txt").write_text("42")
    return models.register_model_folder(workspace, "m", folder, job_id=job.id).version


def test_registry_lifecycle_and_reserved_names(home: Path) -> None:
    created = registries.create_registry("shared")
    assert Path(created["path"]) == home / "registries" / "shared"
    assert [r["name"] for r in registries.list_registries()] == ["shared"]
    assert registries.show_registry("shared")["name"] == "shared"
    with pytest.raises(AlreadyExists, match="registry 'shared' already exists"):
        registries.create_registry("shared")
    for reserved in ("azureml", "mlyard"):
        with pytest.raises(InvalidArgument, match=f"registry name '{reserved}' is reserved"):
            registries.create_registry(reserved)
    with pytest.raises(InvalidArgument, match="invalid registry name"):
        registries.create_registry("no/slash")
    registries.delete_registry("shared", purge=True)
    assert not (home / "registries" / "shared").exists()
    with pytest.raises(NotFound, match="registry 'shared' does not exist on this machine"):
        registries.open_registry("shared")


def test_share_keeps_lineage_and_resharing_returns_the_same_version(
    workspace: Workspace, shared: Workspace, tmp_path: Path
) -> None:
    version = _trained_model(workspace, tmp_path / "model")
    first = sharing.share_model(workspace, "m", version, "shared")
    assert first.created and first.version == "1" and first.job_id is None
    lineage = first.properties
    assert lineage[sharing.PROP_WORKSPACE] == workspace.name
    assert lineage[sharing.PROP_MODEL] == f"m:{version}"
    assert lineage[sharing.PROP_JOB] == models.get_model_version(workspace, "m:1").job_id
    assert json.loads(lineage[sharing.PROP_PARAMS]) == {"alpha": "0.5"}
    assert json.loads(lineage[sharing.PROP_METRICS]) == {"rmse": 3.5}
    again = sharing.share_model(workspace, "m", version, "shared")
    assert not again.created and again.version == "1"
    renamed = sharing.share_model(workspace, "m", version, "shared", "m-prod", "7")
    assert (renamed.name, renamed.version) == ("m-prod", "7")


def test_registry_model_resolves_for_jobs_and_deployments_pinned_in_the_workspace(
    workspace: Workspace, shared: Workspace, tmp_path: Path
) -> None:
    _trained_model(workspace, tmp_path / "model")
    sharing.share_model(workspace, "m", "1", "shared")
    models.set_alias(shared, "m", "champion", "1")
    prod = create_workspace(tmp_path / "prod")[0]
    for ref in (
        "azureml://registries/shared/models/m/versions/1",
        "azureml://registries/shared/models/m/labels/latest",
        "azureml://registries/shared/models/m/labels/champion",
        "azureml://registries/shared/models/m",
    ):
        pinned = resolve_asset_path(prod, "custom_model", ref, tmp_path, "job.yml: inputs.model.path")
        assert (pinned.source, pinned.name, pinned.version) == ("model", "m", "1"), ref
    materialised = models.get_model_version(prod, "m:1")
    assert (
        materialised.properties[resolution.PROP_REFERENCE]
        == "azureml://registries/shared/models/m/versions/1"
    )
    assert materialised.properties[sharing.PROP_WORKSPACE] == workspace.name
    assert models.list_model_versions(prod, "m")[0].version == "1"  # resolving again made nothing new
    assert resolution.find_model(prod, "azureml:m:1").content_hash == materialised.content_hash


def test_registry_errors_name_the_full_reference(
    workspace: Workspace, shared: Workspace, tmp_path: Path
) -> None:
    _trained_model(workspace, tmp_path / "model")
    sharing.share_model(workspace, "m", "1", "shared")
    where = "job.yml: inputs.model.path"
    cases = {
        "azureml://registries/nope/models/m/versions/1": "registry 'nope' does not exist",
        "azureml://registries/shared/models/m/versions/9": "versions/9: model 'm' has no version '9'",
        "azureml://registries/shared/models/m/labels/prod": "labels/prod: model 'm' has no alias 'prod'",
        "azureml://registries/shared/models/other/versions/1": "other/versions/1: model 'other' does not",
    }
    for ref, message in cases.items():
        with pytest.raises(NotFound, match=message) as caught:
            resolve_asset_path(workspace, "custom_model", ref, tmp_path, where)
        assert str(caught.value).startswith(f"{where}: azureml://registries/"), caught.value
    with pytest.raises(InvalidArgument, match="names environments, but models are expected"):
        resolve_asset_path(
            workspace, "custom_model", "azureml://registries/shared/environments/e", tmp_path, where
        )
    with pytest.raises(NotFound, match="azureml://registries/nope/models/m: registry 'nope' does not exist"):
        sharing.share_model(workspace, "m", "1", "nope")


def test_registry_environment_and_data_resolve_and_curated_still_works(
    workspace: Workspace, shared: Workspace, tmp_path: Path
) -> None:
    from mlyard.entities.assets.environment_spec import load_environment
    from mlyard.services.assets.environments import create_environment
    from mlyard.services.data_assets.data import create_data_asset

    (tmp_path / "requirements.txt").write_text("scikit-learn\n")
    (tmp_path / "env.yml").write_text("name: skl\npip_requirements: requirements.txt\n")
    create_environment(shared, load_environment(tmp_path / "env.yml"), tmp_path)
    resolved, shown = resolve_environment(
        workspace, "azureml://registries/shared/environments/skl/versions/1", tmp_path, "job.yml"
    )
    assert resolved is not None and any("scikit-learn" in r for r in resolved["requirements"])
    assert shown == "azureml://registries/shared/environments/skl/versions/1"
    curated, _ = resolve_environment(
        workspace, "azureml://registries/azureml/environments/sklearn-1.5/labels/latest", tmp_path, "job.yml"
    )
    assert curated is not None and curated["curated"]
    with pytest.raises(NotFound, match="job.yml: environment: azureml://registries/shared/environments/nope"):
        resolve_environment(
            workspace, "azureml://registries/shared/environments/nope/labels/latest", tmp_path, "job.yml"
        )
    (tmp_path / "rows.csv").write_text("a,b\n1,2\n")
    create_data_asset(shared, "rows", tmp_path / "rows.csv", "uri_file")
    pinned = resolve_asset_path(
        workspace, "uri_file", "azureml://registries/shared/data/rows/versions/1", tmp_path, "in"
    )
    assert (pinned.source, pinned.name, pinned.version) == ("data", "rows", "1")


def test_registry_roles_follow_the_callers_key_in_the_registry(
    workspace: Workspace, shared: Workspace, tmp_path: Path
) -> None:
    _trained_model(workspace, tmp_path / "model")
    sharing.share_model(workspace, "m", "1", "shared")
    token = keys.create_key(workspace, "ci", Role.CONTRIBUTOR).token
    keys.create_key(shared, "admin", Role.ADMIN)  # the registry now needs keys
    ref = "azureml://registries/shared/models/m/versions/1"
    caller = Actor(name="ci", role=Role.CONTRIBUTOR, via="api", key_id=keys.key_id_of(token))
    with audit.acting_as(caller):
        keys.set_presented_key(token)
        try:
            with pytest.raises(
                PermissionDenied, match=f"{ref}: ci's API key has no role in registry 'shared'"
            ):
                resolution.find_model(workspace, ref)
            keys.create_key(shared, "ci", Role.READER, token=token)
            assert resolution.find_model(workspace, ref).properties[resolution.PROP_REFERENCE] == ref
            with pytest.raises(
                PermissionDenied, match="ci has role reader in registry 'shared'; this needs contributor"
            ):
                sharing.share_model(workspace, "m", "1", "shared")
        finally:
            keys.set_presented_key(None)


def test_a_pipeline_step_runs_a_registry_component_copied_and_pinned_in_the_workspace(
    workspace: Workspace, shared: Workspace, tmp_path: Path
) -> None:
    from mlyard.runtime.launch import run_job
    from mlyard.services.assets.components import create_component, get_component
    from mlyard.services.execution import job_runs
    from mlyard.services.submission.dispatch import submit_job_file

    source = tmp_path / "shared_component"
    (source / "src").mkdir(parents=True)
    (source / "src" / "hello.py").write_text(
        "import pathlib, sys\npathlib.Path(sys.argv[1], 'greeting.txt').write_text('hello')\n"
    )
    (source / "hello.yml").write_text(
        "name: hello\ncode: ./src\ncommand: python hello.py ${{outputs.out}}\n"
        "outputs: {out: {type: uri_folder}}\n"
    )
    create_component(shared, source / "hello.yml")
    (source / "src" / "hello.py").write_text("raise SystemExit('edited after registration')\n")
    for reference in (
        "azureml://registries/shared/components/hello/versions/1",
        "azureml://registries/shared/components/hello/labels/latest",
    ):
        (tmp_path / "pipeline.yml").write_text(
            f"type: pipeline\njobs:\n  greet:\n    component: {reference}\n"
            "    outputs:\n      out: ${{parent.outputs.out}}\noutputs:\n  out: {type: uri_folder}\n"
        )
        job = submit_job_file(workspace, tmp_path / "pipeline.yml")
        assert run_job(workspace, job.id).status.value == "Completed"
    # Both references are the same registry version, copied once into the workspace with its code.
    copied = get_component(workspace, "hello@latest")
    assert copied.version == "1"
    assert copied.tags[resolution.PROP_REFERENCE] == "azureml://registries/shared/components/hello/versions/1"
    output = job_runs.job_output(workspace, job.id, "out")
    assert output is not None
    # A missing registry component is refused naming the step and the reference; nothing is queued.
    (tmp_path / "pipeline.yml").write_text(
        "type: pipeline\njobs:\n  greet:\n"
        "    component: azureml://registries/shared/components/nope/versions/1\n"
    )
    with pytest.raises(NotFound, match=r"jobs.greet.component: azureml://registries/shared/components/nope"):
        submit_job_file(workspace, tmp_path / "pipeline.yml")


def test_component_show_reads_builtins_and_registry_versions(workspace: Workspace, shared: Workspace) -> None:
    from mlyard.entities.assets.component_spec import CommandComponentSpec
    from mlyard.services.assets.components import create_component

    smoke = resolution.find_component(workspace, "azureml://registries/mlyard/components/smoke/labels/latest")
    assert (smoke.name, smoke.version, smoke.created_by) == ("smoke", "1", "mlyard")
    assert "report" in smoke.spec.outputs
    create_component(shared, CommandComponentSpec(name="echo", command="echo hi"))
    found = resolution.find_component(workspace, "azureml://registries/shared/components/echo/versions/1")
    assert found.ref == "echo:1"
    with pytest.raises(NotFound, match="has no component 'nope'"):
        resolution.find_component(workspace, "azureml://registries/mlyard/components/nope/labels/latest")
