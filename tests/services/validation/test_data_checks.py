"""Data validation against a registered data asset's profile, on SQLite and PostgreSQL workspaces:
every problem of a file found in one pass, each with the rows it affects."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlyard.entities.governance.validation import ValidationReport
from mlyard.errors import InvalidArgument, NotFound
from mlyard.services.data_assets.data import create_data_asset
from mlyard.services.validation.data_checks import validate_data_file

ASSET_CSV = """age,bmi,sex,smoker,seen,target
30,22.5,m,true,2024-01-01,1
40,30.1,f,false,2024-02-01,0
50,27.0,m,true,2024-03-01,1
60,,f,false,2024-04-01,0
"""


@pytest.fixture
def asset(workspace, tmp_path: Path):  # type: ignore[no-untyped-def]
    source = tmp_path / "train.csv"
    source.write_text(ASSET_CSV)
    return create_data_asset(workspace, "patients", source).asset


def _validated(asset, tmp_path: Path, text: str) -> ValidationReport:  # type: ignore[no-untyped-def]
    sample = tmp_path / "sample.csv"
    sample.write_text(text)
    return validate_data_file(sample, asset)


def _by_check(report: ValidationReport) -> dict[tuple[str, str | None], tuple[int | None, str]]:
    return {(p.check, p.column): (p.rows, p.message) for p in report.problems}


def test_a_sample_like_the_asset_passes(asset, tmp_path: Path) -> None:
    report = _validated(asset, tmp_path, ASSET_CSV)
    assert report.passed and report.problems == [] and report.checked_rows == 4


def test_every_problem_of_a_bad_file_is_reported_with_its_row_count(asset, tmp_path: Path) -> None:
    report = _validated(
        asset,
        tmp_path,
        "age,bmi,smoker,seen,extra\n"
        "31,22.6,true,2024-01-02,x\n"
        "abc,23.0,maybe,2024-01-03,x\n"  # age not a number, smoker not true/false
        "4.5,99.0,false,notadate,x\n"  # age not whole, bmi above range, seen not a date
        "70,20.0,true,2023-06-01,x\n",  # age above, bmi below, seen before the asset's range
    )
    found = _by_check(report)
    assert not report.passed
    assert found[("missing_column", "sex")][0] == 4
    assert found[("missing_column", "target")][0] == 4
    assert found[("type", "age")] == (
        2,
        "column 'age': 2 of 4 rows are not whole numbers (e.g. 'abc', '4.5')",
    )
    assert found[("range", "age")][0] == 1
    assert "outside the data asset's range [30, 60]" in found[("range", "age")][1]
    assert found[("range", "bmi")][0] == 2
    assert found[("type", "smoker")][0] == 1
    assert found[("type", "seen")][0] == 1
    assert found[("range", "seen")][0] == 1
    extra = next(p for p in report.problems if p.check == "unexpected_column")
    assert extra.severity == "warning" and extra.column == "extra"
    assert len(report.errors) == 8


def test_empty_values_in_a_column_the_asset_always_fills_are_counted(asset, tmp_path: Path) -> None:
    report = _validated(asset, tmp_path, ASSET_CSV.replace("\n30,", "\n,").replace("\n40,", "\n,"))
    (problem,) = report.problems
    assert (problem.check, problem.column, problem.rows) == ("null_rate", "age", 2)
    assert problem.message == "column 'age': 2 of 4 rows are empty (the data asset has none)"


def test_a_null_rate_near_the_assets_passes_and_far_above_it_fails(asset, tmp_path: Path) -> None:
    """bmi is empty in 1 of 4 asset rows (25%): one in four passes, three in four does not."""
    assert _validated(asset, tmp_path, ASSET_CSV).passed
    worse = ASSET_CSV.replace("22.5", "").replace("30.1", "")
    report = _validated(asset, tmp_path, worse)
    (problem,) = report.problems
    assert (problem.check, problem.column, problem.rows) == ("null_rate", "bmi", 3)
    assert "(75%, the data asset has 25%)" in problem.message


def test_a_file_with_no_rows_fails(asset, tmp_path: Path) -> None:
    report = _validated(asset, tmp_path, ASSET_CSV.splitlines()[0] + "\n")
    assert [p.check for p in report.errors] == ["empty"]


def test_a_missing_file_or_one_that_is_no_table_is_the_callers_error(asset, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"data file .*nope.csv does not exist"):
        validate_data_file(tmp_path / "nope.csv", asset)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InvalidArgument, match=r"notes.txt is not a table"):
        validate_data_file(tmp_path / "notes.txt", asset)


def test_an_asset_without_a_table_profile_cannot_be_validated_against(workspace, tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("not a table")
    asset = create_data_asset(workspace, "notes", tmp_path / "readme.txt").asset
    (tmp_path / "sample.csv").write_text(ASSET_CSV)
    with pytest.raises(InvalidArgument, match=r"data asset notes:1 has no table profile"):
        validate_data_file(tmp_path / "sample.csv", asset)
