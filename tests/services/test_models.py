"""The model registry: versions, aliases, lineage, comparison; SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

from mlyard.entities.jobs.job import DataInput
from mlyard.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from mlyard.services.model_registry import model_comparison, models
from mlyard.services.tracking import jobs


@pytest.fixture(scope="module")
def ridge():
    features, target = load_diabetes(return_X_y=True, as_frame=True)
    return Ridge(alpha=0.5).fit(features, target), features


def _trained_job(workspace, mse, alpha="0.5"):
    job = jobs.start_job(workspace, experiment="diabetes")
    jobs.record_run_data(workspace, job.id, params={"alpha": alpha}, metrics=[jobs.make_metric("mse", mse)])
    return job


def test_log_and_load_round_trip_with_signature_and_metadata(workspace, ridge):
    model, features = ridge
    job = _trained_job(workspace, 3000.0)
    version = models.save_and_register_model(
        workspace,
        model,
        "diabetes-ridge",
        "sklearn",
        input_example=features.head(3),
        job_id=job.id,
        tags={"stage": "dev"},
    )
    assert version.ref == "diabetes-ridge:1"
    assert version.signature is not None and version.signature.kind == "columns"
    assert [c["name"] for c in version.signature.columns or []][:2] == ["age", "sex"]
    loaded = models.load_model(workspace, "diabetes-ridge:1")
    np.testing.assert_allclose(loaded.predict(features.head(5)), model.predict(features.head(5)))
    folder = models.model_local_path(workspace, version)
    assert (folder / "mlyard-model.yaml").exists()


def test_versions_increment_and_aliases_resolve_everywhere(workspace, ridge):
    model, _ = ridge
    for _ in range(3):  # the same model from three runs: three versions (their lineage differs)
        models.save_and_register_model(
            workspace, model, "m", "sklearn", job_id=_trained_job(workspace, 1.0).id
        )
    assert models.get_model_version(workspace, "m@latest").version == "3"
    assert models.set_alias(workspace, "m", "production", "2") is None
    assert models.set_alias(workspace, "m", "production", "3") == "2"
    assert models.get_model_version(workspace, "m@production").version == "3"
    assert models.get_model_version(workspace, "azureml:m@production").aliases == ["production"]
    assert models.model_aliases(workspace, "m") == {"production": "3"}
    assert isinstance(models.load_model(workspace, "m@production"), Ridge)
    models.delete_alias(workspace, "m", "production")
    with pytest.raises(
        NotFound, match="no alias 'production'; set one with: mlyard model alias set m production"
    ):
        models.get_model_version(workspace, "m@production")


def test_alias_errors_are_clear(workspace, ridge):
    models.save_and_register_model(workspace, ridge[0], "m", "sklearn")
    with pytest.raises(NotFound, match="model 'm' has no version '9'"):
        models.set_alias(workspace, "m", "production", "9")
    with pytest.raises(NotFound, match="model 'ghost' does not exist"):
        models.set_alias(workspace, "ghost", "production", "1")
    with pytest.raises(InvalidArgument, match="invalid alias 'latest'"):
        models.set_alias(workspace, "m", "latest", "1")
    with pytest.raises(InvalidArgument, match="invalid alias"):
        models.set_alias(workspace, "m", "9lives", "1")


def test_archiving_hides_a_version_but_not_one_behind_an_alias(workspace, ridge):
    for run in range(2):
        models.save_and_register_model(workspace, ridge[0], "m", "sklearn", properties={"run": str(run)})
    models.set_alias(workspace, "m", "production", "1")
    with pytest.raises(Conflict, match="behind alias production"):
        models.set_archived(workspace, "m:1", True)
    models.set_archived(workspace, "m:2", True)
    assert [v.version for v in models.list_model_versions(workspace, "m")] == ["1"]
    assert models.get_model_version(workspace, "m@latest").version == "1"
    assert models.get_model_version(workspace, "m:2").archived
    with pytest.raises(Conflict, match="archived; restore it"):
        models.set_alias(workspace, "m", "staging", "2")
    models.set_archived(workspace, "m:2", False)
    assert models.get_model_version(workspace, "m@latest").version == "2"


def test_lineage_links_the_run_its_data_params_and_metrics(workspace, ridge, diabetes_csv):
    from mlyard.services.data_assets import data

    asset = data.create_data_asset(workspace, "diabetes", diabetes_csv).asset
    job = _trained_job(workspace, 2900.0, alpha="0.3")
    jobs.record_input(workspace, job.id, DataInput(kind="data", name=asset.name, version=asset.version))
    models.save_and_register_model(workspace, ridge[0], "m", "sklearn", job_id=job.id)

    found = model_comparison.lineage(workspace, "m:1")
    assert found.job_id == job.id and found.experiment == "diabetes"
    assert found.params == {"alpha": "0.3"} and found.metrics == {"mse": 2900.0}
    assert [d.ref for d in found.data] == ["diabetes:1"]


def test_a_data_asset_lineage_lists_the_jobs_that_read_it_and_the_models_they_or_their_steps_made(
    workspace, ridge, diabetes_csv
):
    from mlyard.services.data_assets import data

    asset = data.create_data_asset(workspace, "diabetes", diabetes_csv).asset
    reader = _trained_job(workspace, 2900.0)
    jobs.record_input(workspace, reader.id, DataInput(kind="data", name="diabetes", version="1"))
    models.save_and_register_model(workspace, ridge[0], "direct", "sklearn", job_id=reader.id)
    pipeline = jobs.start_job(workspace, experiment="p", job_type="pipeline")
    jobs.record_input(workspace, pipeline.id, DataInput(kind="data", name="diabetes", version="1"))
    step = jobs.start_job(workspace, experiment="p", parent_job_id=pipeline.id, display_name="train")
    models.save_and_register_model(workspace, ridge[0], "from-step", "sklearn", job_id=step.id)
    unrelated = _trained_job(workspace, 3000.0)
    models.save_and_register_model(workspace, ridge[0], "other", "sklearn", job_id=unrelated.id)

    found = model_comparison.data_lineage(workspace, "diabetes@latest")
    assert found.asset.ref == asset.ref
    assert [job.id for job in found.jobs] == [pipeline.id, reader.id]  # newest first
    assert [m.ref for m in found.models] == ["from-step:1", "direct:1"]
    with pytest.raises(NotFound, match="data asset 'nope' does not exist"):
        model_comparison.data_lineage(workspace, "nope@latest")


def test_compare_and_is_better_pick_the_champion_by_metric(workspace, ridge):
    for mse in (3000.0, 2800.0):
        job = _trained_job(workspace, mse)
        models.save_and_register_model(workspace, ridge[0], "m", "sklearn", job_id=job.id)
    rows = model_comparison.compare(workspace, "m", ["1", "2"])
    assert [r.metrics["mse"] for r in rows] == [3000.0, 2800.0]

    first = model_comparison.is_better(workspace, "m:1", than="production", metric="mse", goal="minimize")
    assert first.better and "no m@production model yet" in first.reason
    models.set_alias(workspace, "m", "production", "1")

    challenger = _trained_job(workspace, 3100.0)
    verdict = model_comparison.is_better(workspace, challenger.id, than="m@production", metric="mse")
    assert not verdict and verdict.champion == "m:1"
    assert f"not better: job {challenger.id} mse 3100 ≥ m@production (m:1) 3000" == verdict.reason
    assert model_comparison.is_better(workspace, "m:2", than="production")
    assert not model_comparison.is_better(workspace, "m:2", than="production", goal="maximize")


def test_is_better_bad_input(workspace):
    job = _trained_job(workspace, 1.0)
    with pytest.raises(InvalidArgument, match="has no metric 'rmse'"):
        model_comparison.is_better(workspace, job.id, than="m@production", metric="rmse")
    with pytest.raises(InvalidArgument, match="pass name='MODEL'"):
        model_comparison.is_better(workspace, job.id, than="production")
    with pytest.raises(InvalidArgument, match="goal must be"):
        model_comparison.is_better(workspace, job.id, than="m@production", goal="lowest")  # type: ignore[arg-type]


def test_registering_a_folder_and_a_single_file(workspace, tmp_path):
    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"\x00" * 100)
    (folder / "score.py").write_text("def init(): pass\n")
    version = models.register_model_folder(
        workspace, "custom", folder, "custom_model", properties={"framework": "none"}
    )
    assert version.flavor == "custom" and version.properties == {"framework": "none"}
    single = tmp_path / "model.onnx"
    single.write_bytes(b"onnx")
    assert models.register_model_folder(workspace, "custom", single).version == "2"
    loaded = models.load_model(workspace, "custom:1")
    assert sorted(p.name for p in loaded.iterdir()) == [
        "mlyard-model.yaml",
        "score.py",
        "weights.bin",
    ]


def test_register_bad_input_is_refused_and_leaves_nothing(workspace, tmp_path):
    with pytest.raises(NotFound, match="model path .*nowhere does not exist"):
        models.register_model_folder(workspace, "m", tmp_path / "nowhere")
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "x.bin").write_bytes(b"1")
    with pytest.raises(InvalidArgument, match="MLmodel"):
        models.register_model_folder(workspace, "m", folder, "mlflow_model")
    with pytest.raises(InvalidArgument, match="unknown model flavor 'tensorflow'"):
        models.register_model_folder(workspace, "m", folder, "tensorflow")
    with pytest.raises(InvalidArgument, match="invalid model name"):
        models.register_model_folder(workspace, "bad name", folder)
    with pytest.raises(NotFound, match="job 'nope' does not exist"):
        models.register_model_folder(workspace, "m", folder, job_id="nope")
    models.register_model_folder(workspace, "m", folder, version="1")
    (folder / "x.bin").write_bytes(b"2")
    with pytest.raises(AlreadyExists, match="model m:1 already exists with different content or lineage"):
        models.register_model_folder(workspace, "m", folder, version="1")
    assert [v.version for v in models.list_model_versions(workspace, "m")] == ["1"]
    assert len(workspace.artifacts.list("models/m")) == 1  # the refused one left no folder


def test_a_failed_insert_removes_the_uploaded_files(workspace, tmp_path, monkeypatch):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "x.bin").write_bytes(b"1")
    from mlyard.store import models as model_rows

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(model_rows, "ensure_model", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        models.register_model_folder(workspace, "m", folder)
    assert [a for a in workspace.artifacts.list("models", recursive=True) if not a.is_dir] == []


def test_list_models_and_versions_by_tag(workspace, ridge):
    models.save_and_register_model(workspace, ridge[0], "a", "sklearn", tags={"team": "x"})
    models.save_and_register_model(workspace, ridge[0], "b", "sklearn", tags={"team": "y"})
    assert [m.name for m in models.list_models(workspace)] == ["a", "b"]
    assert [m.name for m in models.list_models(workspace, {"team": "y"})] == ["b"]
    assert [m.name for m in models.list_models(workspace, {"team": "*"})] == ["a", "b"]
    assert models.list_model_versions(workspace, "a", tags={"team": "y"}) == []


def test_concurrent_registrations_get_distinct_versions(workspace, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    def register(number: int):
        folder = tmp_path / f"m{number}"
        folder.mkdir()
        (folder / "weights.bin").write_bytes(f"w{number}".encode())
        return models.register_model_folder(workspace, "m", folder)

    with ThreadPoolExecutor(max_workers=6) as pool:
        registered = list(pool.map(register, range(6)))
    assert sorted(int(v.version) for v in registered) == [1, 2, 3, 4, 5, 6]
    assert len(workspace.artifacts.list("models/m")) == 6


def test_concurrent_registrations_of_the_same_folder_make_one_version(workspace, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"w")
    with ThreadPoolExecutor(max_workers=6) as pool:
        registered = list(pool.map(lambda _: models.register_model_folder(workspace, "m", folder), range(6)))
    assert {v.version for v in registered} == {"1"}
    assert sum(v.created for v in registered) == 1
    assert len(workspace.artifacts.list("models/m")) == 1  # the losers' uploads were removed
