"""Schema inference and column profiles of files, folders and MLTable folders."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mlyard.entities.registry.data import ColumnProfile, DataType, TableProfile
from mlyard.services.data_assets.profiling import profile_data

MIXED_CSV = """\
id,name,active,joined,score
1,ann,True,2024-01-31,1.5
2,,False,2024-02-01,
,bob,,,2.5
4,ann,True,2023-12-01,3.0
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def column(profile: TableProfile, name: str) -> ColumnProfile:
    return next(c for c in profile.columns if c.name == name)


def test_diabetes_csv_has_numeric_schema_and_pandas_statistics(diabetes_csv: Path) -> None:
    expected = pd.read_csv(diabetes_csv)

    profile = profile_data(diabetes_csv, DataType.URI_FILE)

    assert profile is not None
    assert profile.row_count == 442
    assert len(profile.columns) == 11
    assert list(profile.schema_) == list(expected.columns)
    assert set(profile.schema_.values()) <= {"integer", "number"}
    for col in profile.columns:
        assert col.null_count == 0
        assert col.distinct_count == expected[col.name].nunique()
        assert col.min == pytest.approx(expected[col.name].min())
        assert col.max == pytest.approx(expected[col.name].max())
        assert col.mean == pytest.approx(expected[col.name].mean())
    assert len(column(profile, "sex").top_values) == 2  # two distinct values: listed
    assert column(profile, "bmi").top_values == []  # many distinct floats: not listed


def test_csv_with_nulls_strings_booleans_and_dates(tmp_path: Path) -> None:
    profile = profile_data(write(tmp_path / "people.csv", MIXED_CSV), DataType.URI_FILE)

    assert profile is not None
    assert profile.row_count == 4
    assert profile.schema_ == {
        "id": "integer",  # whole numbers with a gap, read by pandas as floats
        "name": "string",
        "active": "boolean",
        "joined": "datetime",
        "score": "number",
    }
    ids = column(profile, "id")
    assert (ids.null_count, ids.distinct_count, ids.min, ids.max) == (1, 3, 1.0, 4.0)
    assert ids.top_values[0] == ("1", 1)
    name = column(profile, "name")
    assert (name.null_count, name.distinct_count) == (1, 2)
    assert name.top_values == [("ann", 2), ("bob", 1)]
    assert (name.min, name.max, name.mean) == (None, None, None)
    assert column(profile, "active").top_values == [("True", 2), ("False", 1)]
    joined = column(profile, "joined")
    assert (joined.min, joined.max, joined.mean) == (
        "2023-12-01T00:00:00",
        "2024-02-01T00:00:00",
        None,
    )
    assert column(profile, "score").mean == pytest.approx(7.0 / 3)


def test_parquet_file_keeps_its_types(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    pd.DataFrame(
        {
            "count": [3, 1, 3],
            "kind": pd.Categorical(["a", "b", "a"]),
            "at": pd.to_datetime(["2024-05-01 10:00", None, "2024-05-03 12:30"]),
        }
    ).to_parquet(path)

    profile = profile_data(path, DataType.URI_FILE)

    assert profile is not None
    assert profile.schema_ == {"count": "integer", "kind": "category", "at": "datetime"}
    assert column(profile, "count").top_values == [("3", 2), ("1", 1)]
    assert column(profile, "kind").top_values == [("a", 2), ("b", 1)]
    at = column(profile, "at")
    assert (at.null_count, at.min, at.max) == (1, "2024-05-01T10:00:00", "2024-05-03T12:30:00")


def test_json_lines_file_is_profiled_and_json_document_is_not(tmp_path: Path) -> None:
    lines = write(tmp_path / "rows.jsonl", '{"a": 1, "b": "x"}\n{"a": 2, "b": null}\n')
    config = write(tmp_path / "config.json", '{\n  "learning_rate": 0.1,\n  "epochs": 3\n}\n')

    profile = profile_data(lines, DataType.URI_FILE)

    assert profile is not None
    assert profile.schema_ == {"a": "integer", "b": "string"}
    assert profile_data(config, DataType.URI_FILE) is None


def test_folder_of_csvs_is_profiled_as_one_table(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    write(folder / "a.csv", "x,y\n1,a\n2,b\n")
    write(folder / "more" / "b.csv", "x,y\n3,c\n4,d\n5,e\n")
    write(folder / ".DS_Store", "not a table")  # hidden files are ignored

    profile = profile_data(folder, DataType.URI_FOLDER)

    assert profile is not None
    assert profile.row_count == 5
    assert column(profile, "x").max == 5.0


def test_whole_profile_is_json_serialisable(tmp_path: Path) -> None:
    path = write(tmp_path / "people.csv", MIXED_CSV + "5,cy,False,2024-03-01,inf\n")

    profile = profile_data(path, DataType.URI_FILE)

    assert profile is not None
    text = json.dumps(profile.model_dump(mode="json", by_alias=True), allow_nan=False)
    assert json.loads(text)["schema"]["joined"] == "datetime"
    assert column(profile, "score").max is None  # infinity is not JSON: reported as unknown


def test_a_numeric_column_gets_a_histogram_of_its_finite_values(tmp_path):
    rows = "\n".join(f"{i},{'inf' if i == 3 else ''}{i / 10 if i != 3 else ''},a" for i in range(100))
    profile = profile_data(write(tmp_path / "h.csv", f"n,x,s\n{rows}\n"), DataType.URI_FILE)
    assert profile is not None
    n = column(profile, "n")
    assert len(n.histogram_edges) == len(n.histogram_counts) + 1 == 21
    assert n.histogram_edges[0] == 0 and n.histogram_edges[-1] == 99
    assert sum(n.histogram_counts) == 100
    x = column(profile, "x")
    assert sum(x.histogram_counts) == 99  # the infinite value is left out
    same = column(profile, "s")
    assert same.histogram_edges == [] and same.histogram_counts == []  # text: top values instead


def test_a_constant_numeric_column_has_one_bin(tmp_path):
    profile = profile_data(write(tmp_path / "c.csv", "k\n5\n5\n5\n"), DataType.URI_FILE)
    assert profile is not None
    assert column(profile, "k").histogram_counts == [3]
