"""`compare()` end to end: files in, verdicts out; merged per-file summaries; bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from mlyard.errors import InvalidArgument
from mlyard.monitoring.compare import compare
from mlyard.monitoring.layout import learn_layout
from mlyard.monitoring.summaries import merge_summaries, summarize

ROWS = 20_000


def _table(seed: int, *, drift: bool) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "age": rng.normal(50 + (8 if drift else 0), 10, ROWS),
            "income": rng.lognormal(10, 0.5, ROWS),
            "plan": rng.choice(
                ["basic", "plus", "pro"], ROWS, p=[0.2, 0.3, 0.5] if drift else [0.6, 0.3, 0.1]
            ),
            "region": rng.choice(["north", "south"], ROWS),
        }
    )


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """A reference Parquet file and a production folder of two files: one Parquet, one CSV."""
    pq.write_table(_table(1, drift=False), tmp_path / "reference.parquet")
    production = tmp_path / "production"
    production.mkdir()
    drifted = _table(2, drift=True)
    pq.write_table(drifted.slice(0, ROWS // 2), production / "part-0.parquet")
    pa_csv.write_csv(drifted.slice(ROWS // 2), production / "part-1.csv")
    return tmp_path / "reference.parquet", production


def test_drifted_columns_are_flagged_and_the_others_are_not(files: tuple[Path, Path]) -> None:
    reference, production = files
    results = compare(reference, production, {"drift": {"type": "data_drift"}})
    verdicts = {(r.feature, r.metric): r.breached for r in results}
    assert verdicts == {
        ("age", "normalized_wasserstein_distance"): True,
        ("income", "normalized_wasserstein_distance"): False,
        ("plan", "jensen_shannon_distance"): True,
        ("region", "jensen_shannon_distance"): False,
    }
    age = next(r for r in results if r.feature == "age")
    assert age.threshold == 0.1 and age.value == pytest.approx(0.8, abs=0.05)  # 8 / std 10
    assert age.reference_histogram is not None and age.production_histogram is not None
    assert sum(age.production_histogram.counts) == ROWS and len(age.production_histogram.bins) == 22
    json.dumps([r.to_dict() for r in results])  # what the monitor job stores and the CLI prints


def test_no_signals_means_data_drift_and_data_quality_of_every_shared_column(
    files: tuple[Path, Path],
) -> None:
    results = compare(*files)
    assert {r.signal_type for r in results} == {"data_drift", "data_quality"}
    assert {r.feature for r in results} == {"age", "income", "plan", "region"}
    quality = {(r.feature, r.metric): r for r in results if r.signal_type == "data_quality"}
    assert quality[("region", "null_value_rate")].value == 0.0
    assert not quality[("region", "out_of_bounds_rate")].breached
    assert quality[("age", "out_of_bounds_rate")].breached  # ages above the reference's maximum


def test_summaries_of_separate_files_merge_into_the_summary_of_all_rows() -> None:
    table = _table(3, drift=False)
    layouts = {name: learn_layout(table.column(name), name) for name in table.column_names}
    whole = summarize(table, layouts)
    merged = merge_summaries(summarize(table.slice(start, 5_000), layouts) for start in range(0, ROWS, 5_000))
    for name, summary in whole.items():
        parts = merged[name]
        assert (parts.rows, parts.count, parts.categories) == (
            summary.rows,
            summary.count,
            summary.categories,
        )
        assert np.array_equal(parts.histogram, summary.histogram)
        assert parts.mean == pytest.approx(summary.mean) and parts.std == pytest.approx(summary.std)


def test_histogram_bins_are_the_binary_search_bins_everywhere() -> None:
    """The lookup that replaces the binary search gives the same bin for every value: on the
    edges themselves, just beside them, outside the reference range, and on skewed data."""
    rng = np.random.default_rng(5)
    for reference in (rng.normal(size=50_000), rng.lognormal(0, 2, 50_000), rng.integers(0, 5, 50_000) * 1.0):
        layout = learn_layout(pa.chunked_array([reference]), "x")
        edges = layout.edges
        probes = np.concatenate(
            [
                rng.normal(size=100_000) * reference.std() * 3,
                edges,
                np.nextafter(edges, -np.inf),
                np.nextafter(edges, np.inf),
                [reference.min() - 1e9, reference.max() + 1e9],
            ]
        )
        assert np.array_equal(layout.bins(probes), np.searchsorted(edges, probes, side="right"))


def test_text_in_a_numerical_column_counts_as_type_errors(tmp_path: Path) -> None:
    (tmp_path / "production.csv").write_text("age,plan\n30,a\nabc,a\n,a\n40,a\n50,a\n")
    results = compare(
        pa.table({"age": [20.0, 35.0, 60.0]}),
        tmp_path / "production.csv",
        {"q": {"type": "data_quality", "features": ["age"]}},
    )
    values = {r.metric: r.value for r in results}
    assert values == {"null_value_rate": 0.2, "data_type_error_rate": 0.2, "out_of_bounds_rate": 0.0}


def test_model_performance_joins_predictions_and_ground_truth_on_the_correlation_id() -> None:
    predictions = pa.table({"request_id": ["a", "b", "c", "d"], "score": [3.0, 0.5, 2.0, 9.0]})
    ground_truth = pa.table({"request_id": ["d", "c", "b", "x"], "sales": [10.0, 2.0, 0.0, 1.0]})
    signal = {
        "type": "model_performance",
        "data_column_names": {"correlation_id": "request_id", "prediction": "score", "actual": "sales"},
        "metric_thresholds": {"regression": {"mae": 0.4, "rmse_zero_target": 1.0}},
    }
    results = {r.metric: r for r in compare(ground_truth, predictions, {"perf": signal})}
    assert results["mae"].value == pytest.approx((1.0 + 0.0 + 0.5) / 3) and results["mae"].breached
    assert (
        results["rmse_zero_target"].value == pytest.approx(0.5) and not results["rmse_zero_target"].breached
    )


def test_collected_request_ids_from_many_files_join_the_ground_truth(tmp_path: Path) -> None:
    # Each collected file encodes its request ids as its own dictionary; Arrow cannot join those.
    for index in range(3):
        part = pa.table({"request_id": [f"r{index}a", f"r{index}b"], "prediction": [1.0, 2.0]})
        pq.write_table(part, tmp_path / f"{index}.parquet")
    ground_truth = pa.table({"request_id": ["r0a", "r1b", "r2a", "zz"], "actual": [1.0, 4.0, 1.0, 0.0]})
    signal = {"type": "model_performance", "data_column_names": {"correlation_id": "request_id"},
              "metric_thresholds": {"regression": {"mae": 1.0}}}  # fmt: skip
    [mae] = compare(ground_truth, tmp_path, {"perf": signal})
    assert mae.value == pytest.approx(2.0 / 3) and not mae.breached


@pytest.mark.parametrize(
    ("signals", "message"),
    [
        (
            {
                "d": {
                    "type": "data_drift",
                    "metric_thresholds": {"numerical": {"jensen_shanon_distance": 0.1}},
                }
            },
            r"monitoring_signals\.d\.metric_thresholds\.numerical: unknown numerical metric "
            r"'jensen_shanon_distance' \(did you mean 'jensen_shannon_distance'\?\)",
        ),
        (
            {
                "d": {
                    "type": "data_drift",
                    "metric_thresholds": {"categorical": {"pearsons_chi_squared_test": "high"}},
                }
            },
            r"monitoring_signals\.d\.metric_thresholds\.categorical\.pearsons_chi_squared_test: "
            r"expected a number, got 'high'",
        ),
        (
            {"d": {"type": "data_drfit"}},
            r"monitoring_signals\.d\.type: unknown signal type 'data_drfit' \(did you mean 'data_drift'\?\)",
        ),
        (
            {"d": {"type": "data_drift", "metric_thresholds": {"numeric": {}}}},
            r"monitoring_signals\.d\.metric_thresholds\.numeric: unknown key \(did you mean 'numerical'\?\)",
        ),
        (
            {"d": {"type": "data_drift", "features": ["age", "salary"]}},
            r"monitoring_signals\.d\.features: column 'salary' is not in the reference data",
        ),
    ],
)
def test_bad_signals_are_refused_with_the_field_named(signals: dict, message: str) -> None:
    reference = pa.table({"age": [1.0, 2.0]})
    with pytest.raises(InvalidArgument, match=message):
        compare(reference, reference, signals)


def test_a_feature_missing_from_the_production_data_is_named() -> None:
    reference = pa.table({"age": [1.0, 2.0], "plan": ["a", "b"]})
    production = pa.table({"age": [1.0, 2.0]})
    with pytest.raises(
        InvalidArgument, match=r"column 'plan' is not in the production data \(its columns: age\)"
    ):
        compare(reference, production, {"d": {"type": "data_drift", "features": ["age", "plan"]}})


def test_wasserstein_beyond_the_reference_range_is_exact() -> None:
    """Values outside the reference's range are not smeared over an open bin: a constant
    reference against half its values moved by 1 is 0.5 (plain, as the reference has no spread),
    and a far shift matches SciPy."""
    from scipy.stats import wasserstein_distance

    constant = compare(
        pa.table({"x": [1.0] * 100}), pa.table({"x": [1.0] * 50 + [2.0] * 50}), {"d": {"type": "data_drift"}}
    )
    assert constant[0].value == pytest.approx(0.5)
    rng = np.random.default_rng(9)
    reference, production = rng.normal(0, 1, 20_000), rng.normal(4, 2, 20_000)
    far = compare(pa.table({"x": reference}), pa.table({"x": production}), {"d": {"type": "data_drift"}})
    assert far[0].value == pytest.approx(
        wasserstein_distance(reference, production) / reference.std(), abs=0.01
    )


def test_a_later_production_file_without_a_monitored_column_is_named(tmp_path: Path) -> None:
    pq.write_table(pa.table({"age": [1.0, 2.0], "plan": ["a", "b"]}), tmp_path / "part-0.parquet")
    pq.write_table(pa.table({"age": [1.0, 2.0]}), tmp_path / "part-1.parquet")
    reference = pa.table({"age": [1.0, 2.0], "plan": ["a", "b"]})
    with pytest.raises(
        InvalidArgument, match=r"column 'plan' is not in the production data \(its columns: age\)"
    ):
        compare(reference, tmp_path)
