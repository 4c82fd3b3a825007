"""Reading files, folders and MLTable folders into DataFrames, and refusing bad ones."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from mlyard.entities.registry.data import DataType
from mlyard.errors import InvalidArgument, InvalidSpec
from mlyard.services.data_assets.tabular import read_mltable, read_table


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_folder_mixing_csv_and_images_is_not_tabular(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    write(folder / "labels.csv", "file,label\nimg.png,cat\n")
    (folder / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n")

    assert read_table(folder, DataType.URI_FOLDER) is None


def test_non_tabular_file_is_not_read_as_a_table(tmp_path: Path) -> None:
    model = tmp_path / "model.pkl"
    model.write_bytes(os.urandom(64))

    assert read_table(model, DataType.URI_FILE) is None


def test_corrupt_parquet_is_an_invalid_argument_naming_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(os.urandom(256))

    with pytest.raises(InvalidArgument, match=r"broken\.parquet.*as parquet"):
        read_table(broken, DataType.URI_FILE)


def test_malformed_csv_is_an_invalid_argument_with_the_parser_reason(tmp_path: Path) -> None:
    broken = write(tmp_path / "ragged.csv", "a,b\n1,2\n3,4,5,6\n")

    with pytest.raises(InvalidArgument, match=r"ragged\.csv.*Expected 2 fields"):
        read_table(broken, DataType.URI_FILE)


def test_mltable_read_delimited_honours_the_delimiter(tmp_path: Path) -> None:
    folder = tmp_path / "table"
    write(folder / "data.csv", "a;b\n1;x\n2;y\n3;x\n")
    write(
        folder / "MLTable",
        "paths:\n  - file: ./data.csv\ntransformations:\n  - read_delimited:\n"
        "      delimiter: ';'\n      encoding: 'utf8'\n      header: all_files_same_headers\n",
    )

    frame = read_table(folder, DataType.MLTABLE)

    assert frame is not None
    assert len(frame) == 3
    assert list(frame.columns) == ["a", "b"]
    assert pd.api.types.is_integer_dtype(frame["a"]) and pd.api.types.is_string_dtype(frame["b"])
    assert frame["a"].tolist() == [1, 2, 3]
    assert read_mltable(folder)["b"].tolist() == ["x", "y", "x"]


def test_mltable_pattern_selects_matching_files(tmp_path: Path) -> None:
    folder = tmp_path / "table"
    write(folder / "dir" / "jan.csv", "a,b\n1,x\n")
    write(folder / "dir" / "feb.csv", "a,b\n2,y\n3,z\n")
    write(folder / "dir" / "notes.txt", "not part of the table")
    write(folder / "MLTable", "paths:\n  - pattern: ./dir/*.csv\n")  # no read step: CSV

    frame = read_table(folder, DataType.MLTABLE)

    assert frame is not None
    assert len(frame) == 3
    assert sorted(read_mltable(folder)["a"].tolist()) == [1, 2, 3]


def test_mltable_read_parquet_with_column_steps(tmp_path: Path) -> None:
    folder = tmp_path / "table"
    folder.mkdir()
    pd.DataFrame({"a": [1, 2, 3], "b": [0.5, 1.5, 2.5], "c": ["x", "y", "z"]}).to_parquet(
        folder / "part.parquet"
    )
    write(
        folder / "MLTable",
        "paths:\n  - folder: .\ntransformations:\n  - read_parquet\n  - drop_columns: c\n  - take: 2\n",
    )

    frame = read_mltable(folder)

    assert frame.to_dict("list") == {"a": [1, 2], "b": [0.5, 1.5]}


def test_missing_mltable_file_names_the_expected_path(tmp_path: Path) -> None:
    folder = tmp_path / "table"
    folder.mkdir()

    with pytest.raises(InvalidSpec, match=r"MLTable file not found: expected .*table[/\\]MLTable"):
        read_table(folder, DataType.MLTABLE)


def test_mltable_path_escaping_the_folder_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "secret.csv", "a\n1\n")
    folder = tmp_path / "table"
    write(folder / "MLTable", "paths:\n  - file: ./data.csv\n  - file: ../secret.csv\n")
    write(folder / "data.csv", "a\n2\n")

    with pytest.raises(InvalidSpec, match=r"MLTable: paths\[1\]\.file '\.\./secret\.csv' escapes"):
        read_table(folder, DataType.MLTABLE)


def test_malformed_mltable_yaml_names_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "table"
    write(folder / "MLTable", "paths:\n  - file: [unclosed\n")

    with pytest.raises(InvalidSpec, match=r"table[/\\]MLTable is not valid YAML"):
        read_table(folder, DataType.MLTABLE)


def test_unsupported_mltable_step_is_refused_with_the_supported_ones(tmp_path: Path) -> None:
    folder = tmp_path / "table"
    write(folder / "data.csv", "a\n1\n")
    write(folder / "MLTable", "paths:\n  - file: data.csv\ntransformations:\n  - filter: 'a > 1'\n")

    with pytest.raises(InvalidSpec, match=r"transformations\[0\]: unsupported step 'filter'"):
        read_mltable(folder)
