"""Staging checks without an endpoint: data quality of a scoring input, the responsible-AI check on
generated data with a fair and a biased model, and the approval gate that requires passing reports
(on embedded SQLite, embedded PostgreSQL and a team server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlyard.client import staging_checks
from mlyard.entities.assets.builtin_components import CATALOG, builtin_component, is_builtin_ref
from mlyard.errors import Conflict, InvalidArgument, NotFound
from mlyard.services.events.matching import matches
from mlyard.services.validation.staging_checks import checked_deployment, smoke_report

ASSET_CSV = "age,bmi,sex\n30,22.5,m\n40,30.1,f\n50,27.0,m\n60,25.0,f\n"


def _credit_data(rows: int = 2000, seed: int = 7) -> pd.DataFrame:
    """Two groups with the same income distribution; the label depends on income only."""
    rng = np.random.default_rng(seed)
    income = rng.normal(0, 1, rows)
    group = np.where(np.arange(rows) % 2 == 0, "a", "b")
    return pd.DataFrame({"income": income, "group_b": (group == "b").astype(int), "group": group,
                         "approved": (income > 0).astype(int)})  # fmt: skip


def _register_models(client: Any) -> tuple[str, str]:
    """A fair model (income only) and a biased one (trained on labels that favour group b)."""
    from sklearn.linear_model import LogisticRegression

    train = _credit_data(seed=1)
    fair = LogisticRegression().fit(train[["income"]], train["approved"])
    biased_labels = train["approved"] | train["group_b"]
    biased = LogisticRegression(C=100).fit(train[["income", "group_b"]], biased_labels)
    fair_version = client.models.log(fair, "fair", "sklearn", input_example=train[["income"]].head(3))
    biased_version = client.models.log(
        biased, "biased", "sklearn", input_example=train[["income", "group_b"]].head(3)
    )
    return f"fair:{fair_version.version}", f"biased:{biased_version.version}"


@pytest.fixture
def local_client(tmp_path: Path):  # type: ignore[no-untyped-def]
    import mlyard

    with mlyard.MLClient(workspace=tmp_path / "ws", create=True) as client:
        yield client


def test_the_responsible_ai_check_passes_a_fair_model_and_fails_a_biased_one(local_client, tmp_path: Path):
    fair, biased = _register_models(local_client)
    test_set = tmp_path / "test.csv"
    _credit_data(seed=2).to_csv(test_set, index=False)

    passed = staging_checks.responsible_ai(local_client, fair, test_set, "approved", "group")
    assert passed.passed, passed.text()
    assert passed.model == fair and passed.details["task"] == "classification"
    assert passed.metrics["demographic_parity_difference"] < 0.1
    assert passed.metrics["equalized_odds_difference"] < 0.1
    assert set(passed.details["by_group"]) == {"a", "b"}
    assert "error_rate" in passed.details["by_group"]["a"]

    failed = staging_checks.responsible_ai(local_client, biased, test_set, "approved", "group")
    assert not failed.passed
    assert {p.check for p in failed.problems} == {"demographic_parity", "equalized_odds"}
    parity = next(p for p in failed.problems if p.check == "demographic_parity")
    assert "'b'" in parity.message and "above 0.1" in parity.message
    assert failed.details["by_group"]["b"]["selection_rate"] > 0.9
    # Thresholds are the caller's: a lax one passes the same model.
    lax = staging_checks.responsible_ai(
        local_client, biased, test_set, "approved", "group", max_demographic_parity=1, max_equalized_odds=1
    )
    assert lax.passed


def test_the_responsible_ai_check_reports_rmse_by_group_for_regression(local_client, tmp_path: Path):
    from sklearn.linear_model import LinearRegression

    data = _credit_data()
    noise = np.random.default_rng(3).normal(0, 2, len(data))  # the model is worse for group b
    data["amount"] = data["income"] * 3 + np.where(data["group"] == "b", noise, 0.0)
    model = LinearRegression().fit(data[["income"]], data["amount"])
    version = local_client.models.log(model, "amount", "sklearn", input_example=data[["income"]].head(3))
    test_set = tmp_path / "amount.csv"
    data.to_csv(test_set, index=False)
    report = staging_checks.responsible_ai(
        local_client, f"amount:{version.version}", test_set, "amount", "group", max_rmse_difference=0.5
    )
    assert report.details["task"] == "regression" and not report.passed
    assert report.problems[0].check == "rmse_difference"
    assert report.metrics["rmse_difference"] > 0.5


def test_the_responsible_ai_check_names_a_missing_column_or_model(local_client, tmp_path: Path):
    fair, _ = _register_models(local_client)
    test_set = tmp_path / "test.csv"
    _credit_data(rows=50).to_csv(test_set, index=False)
    with pytest.raises(InvalidArgument, match=r"--sensitive-feature: column 'gender' is not in .*test.csv"):
        staging_checks.responsible_ai(local_client, fair, test_set, "approved", "gender")
    with pytest.raises(InvalidArgument, match="--label: column 'label' is not in"):
        staging_checks.responsible_ai(local_client, fair, test_set, "label", "group")
    with pytest.raises(NotFound, match="nope"):
        staging_checks.responsible_ai(local_client, "nope:1", test_set, "approved", "group")
    with pytest.raises(InvalidArgument, match="one group only"):
        staging_checks.responsible_ai(local_client, fair, _one_group(tmp_path), "approved", "group")


def _one_group(tmp_path: Path) -> Path:
    path = tmp_path / "one-group.csv"
    data = _credit_data(rows=20)
    data["group"] = "a"
    data.to_csv(path, index=False)
    return path


def test_the_data_quality_check_passes_a_good_input_and_fails_a_bad_one(local_client, tmp_path: Path):
    (tmp_path / "train.csv").write_text(ASSET_CSV)
    local_client.data.create("patients", tmp_path / "train.csv")
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("age,bmi,sex\n35,24.0,f\n")
    bad.write_text("age,sex\n35,f\n900,m\nold,m\n")

    passed = staging_checks.data_quality(local_client, good, "patients@latest")
    assert passed.passed and passed.kind == "data_quality" and passed.metrics["rows"] == 1
    failed = staging_checks.data_quality(local_client, bad, "patients:1")
    assert not failed.passed
    found = {(p.check, p.column): p.rows for p in failed.problems}
    assert (
        found[("missing_column", "bmi")] == 3 and found[("type", "age")] == 1 and found[("range", "age")] == 1
    )
    with pytest.raises(NotFound, match="data asset 'other'"):
        staging_checks.data_quality(local_client, good, "other@latest")


@pytest.mark.parametrize("client_backend", ["sqlite", "remote"], indirect=True)
def test_approval_waits_for_passing_checks_made_after_the_request(client, tmp_path: Path):
    from sklearn.linear_model import LogisticRegression

    train = _credit_data(rows=100)
    client.models.log(LogisticRegression().fit(train[["income"]], train["approved"]), "credit", "sklearn")
    client.settings.update(allow_self_approval=True, require_passing_checks=["smoke", "data-quality"])
    assert client.settings.get().require_passing_checks == ["smoke", "data_quality"]
    (tmp_path / "train.csv").write_text(ASSET_CSV)
    client.data.create("patients", tmp_path / "train.csv")
    sample = tmp_path / "sample.csv"
    sample.write_text("age,bmi,sex\n35,24.0,f\n")
    early = staging_checks.record(
        client, staging_checks.data_quality(client, sample, "patients:1", "credit:1")
    )
    assert early is not None and early.passed and early.model_version == "1"

    request = client.models.promote("credit", 1, reason="ready")
    with pytest.raises(Conflict, match=r"needs passing staging checks .*smoke: no report since the request; "
                                       r"data_quality: no report since the request"):  # fmt: skip
        client.models.approve(request.id)
    assert client.models.get_promotion(request.id).state.value == "pending"
    assert "production" not in client.models.aliases("credit")

    bad = tmp_path / "bad.csv"
    bad.write_text("age\n900\n")
    staging_checks.record(client, staging_checks.data_quality(client, bad, "patients:1", "credit:1"))
    staging_checks.record(
        client,
        smoke_report("online endpoint staging", 200, "[1]", 1).model_copy(update={"model": "credit:1"}),
    )
    with pytest.raises(Conflict, match=r"UTC\): data_quality: the newest report \(\w+\) failed\. Run them"):
        client.models.approve(request.id)  # smoke passed: only data quality is named

    staging_checks.record(client, staging_checks.data_quality(client, sample, "patients:1", "credit:1"))
    approved = client.models.approve(request.id)
    assert approved.state.value == "approved" and client.models.aliases("credit")["production"] == "1"
    kinds = [r.kind for r in client.models.check_reports("credit", "1")]
    assert kinds.count("data_quality") == 3 and kinds.count("smoke") == 1


@pytest.mark.parametrize("client_backend", ["sqlite", "remote"], indirect=True)
def test_recording_a_check_emits_check_recorded_for_subscriptions(client):
    from sklearn.linear_model import LogisticRegression

    train = _credit_data(rows=50)
    client.models.log(LogisticRegression().fit(train[["income"]], train["approved"]), "credit", "sklearn")
    client.events.subscriptions.create(
        "on-failed-checks", types=["model.check_recorded"], filter={"Passed": "false"},
        webhook="http://127.0.0.1:9/hook",
    )  # fmt: skip
    failed = smoke_report("online endpoint staging", 500, "boom", 1).model_copy(
        update={"model": "credit@latest"}
    )
    record = staging_checks.record(client, failed, "azureml://jobs/j1/artifacts/report", "j1")
    assert record is not None
    [event] = client.events.list(types=["model.check_recorded"])
    assert event.type == "mlyard.model.check_recorded" and event.subject == "models/credit:1"
    assert event.data == {
        "ModelName": "credit", "ModelVersion": "1", "CheckKind": "smoke", "Passed": False,
        "ReportId": record.id, "JobId": "j1", "Location": "azureml://jobs/j1/artifacts/report",
    }  # fmt: skip
    assert matches({"Passed": "false", "CheckKind": "smoke"}, event.subject, event.data)
    # Nothing is recorded, so nothing is announced, for a version that does not exist.
    with pytest.raises(NotFound, match="credit"):
        staging_checks.record(client, failed.model_copy(update={"model": "credit:7"}))
    assert len(client.events.list(types=["model.check_recorded"])) == 1


def test_settings_refuse_an_unknown_check(local_client):
    with pytest.raises(InvalidArgument, match=r"require_passing_checks\.0: .*'smoke'"):
        local_client.settings.update(require_passing_checks=["smoky"])


def test_the_builtin_catalog_resolves_registry_references():
    assert set(CATALOG) == {"smoke", "performance", "data_quality", "responsible_ai"}
    assert is_builtin_ref("azureml://registries/mlyard/components/smoke/labels/latest")
    assert not is_builtin_ref("azureml://registries/shared/components/smoke/labels/latest")
    spec = builtin_component("azureml://registries/mlyard/components/responsible_ai/versions/1")
    assert spec.name == "responsible_ai" and "report" in spec.outputs
    with pytest.raises(NotFound, match="no component 'fairness'; its components are: smoke, performance"):
        builtin_component("azureml://registries/mlyard/components/fairness/labels/latest")


def test_the_checked_deployment_is_the_one_taking_the_traffic_or_the_one_named():
    assert checked_deployment("e", {"blue": 100, "green": 0}, None) == "blue"
    assert checked_deployment("e", {"blue": 90, "green": 10}, "green") == "green"
    with pytest.raises(InvalidArgument, match=r"splits its traffic between blue \(90%\), green \(10%\)"):
        checked_deployment("e", {"green": 10, "blue": 90}, None)
    with pytest.raises(InvalidArgument, match="sends no traffic to any deployment"):
        checked_deployment("e", {"blue": 0}, None)
