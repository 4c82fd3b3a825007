"""Request bodies → batches, in-process: every accepted shape, and 422s that name the column."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlyard.errors import InputMismatch, MalformedRequest
from mlyard.serving.inputs import parse_scoring_request
from mlyard.serving.schema import Column, InputSchema, schema_from_mlmodel
from mlyard.serving.v2 import parse_infer_request

COLUMNS = InputSchema(columns=(Column("age", "number"), Column("sex", "integer"), Column("bmi", "number")))
MIXED = InputSchema(columns=(Column("age", "number"), Column("city", "string"), Column("smoker", "boolean")))
TENSOR = InputSchema(shape=(None, 3), dtype="float64")
ROWS = [[41.0, 1, 22.5], [52.5, 2, 31.0]]
EXPECTED = np.array(ROWS, dtype=np.float64)


def _parse(body: object, schema: InputSchema | None = COLUMNS):  # type: ignore[no-untyped-def]
    return parse_scoring_request(json.dumps(body).encode(), schema)


@pytest.mark.parametrize(
    "body",
    [
        {"input_data": {"columns": ["age", "sex", "bmi"], "index": [0, 1], "data": ROWS}},
        {"input_data": {"columns": ["bmi", "age", "sex"], "data": [[22.5, 41.0, 1], [31.0, 52.5, 2]]}},
        {"input_data": ROWS},
        {"input_data": {"age": [41.0, 52.5], "sex": [1, 2], "bmi": [22.5, 31.0]}},
        {"dataframe_split": {"columns": ["age", "sex", "bmi"], "data": ROWS}},
        {"dataframe_records": [{"age": 41.0, "sex": 1, "bmi": 22.5}, {"bmi": 31.0, "sex": 2, "age": 52.5}]},
        {"instances": ROWS},
        {"instances": [{"age": 41.0, "sex": 1, "bmi": 22.5}, {"age": 52.5, "sex": 2, "bmi": 31.0}]},
        {"inputs": ROWS},
        {"inputs": {"age": [41.0, 52.5], "sex": [1, 2], "bmi": [22.5, 31.0]}},
        {"data": ROWS},
        {"dataframe_split": {"columns": ["age", "sex", "bmi"], "data": ROWS}, "params": {"x": 1}},
    ],
    ids=lambda body: next(iter(body)) + ("-" + type(next(iter(body.values()))).__name__),
)
def test_every_request_shape_gives_the_same_numeric_batch_in_schema_order(body: object) -> None:
    batch = _parse(body)
    assert batch.names == ("age", "sex", "bmi")
    assert batch.array is not None and batch.array.dtype == np.float64
    np.testing.assert_array_equal(batch.array, EXPECTED)


def test_a_tensor_request_to_a_tensor_model_is_one_float_array() -> None:
    batch = _parse({"input_data": [[1, 2, 3]]}, TENSOR)
    assert batch.array is not None and batch.array.dtype == np.float64 and batch.array.shape == (1, 3)


def test_without_a_schema_numbers_pass_through_as_an_array() -> None:
    batch = _parse({"inputs": [[1.5, 2.0], [3.0, 4.0]]}, None)
    assert batch.array is not None
    np.testing.assert_array_equal(batch.array, [[1.5, 2.0], [3.0, 4.0]])


def test_mixed_columns_stay_columns_with_their_types() -> None:
    batch = _parse({"dataframe_records": [{"age": 41.0, "city": "Oslo", "smoker": True}]}, MIXED)
    assert batch.array is None and batch.columns is not None
    assert list(batch.columns) == ["age", "city", "smoker"]
    frame = batch.frame(MIXED)
    assert list(frame.columns) == ["age", "city", "smoker"]
    assert frame["city"].tolist() == ["Oslo"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"input_data": {"columns": ["age", "sex"], "data": [[41.0, 1]]}},
            r"^missing column 'bmi' in input_data\.columns; the model takes: age, sex, bmi$",
        ),
        (
            {"input_data": {"columns": ["age", "sex", "bmx"], "data": [[41.0, 1, 2.0]]}},
            r"^unknown column 'bmx' in input_data\.columns; the model takes: age, sex, bmi$",
        ),
        (
            {"input_data": {"columns": ["age", "sex", "bmi"], "data": [["old", 1, 2.0]]}},
            r"^column 'age' expects number values, got 'old' \(string\) in row 0$",
        ),
        (
            {"input_data": {"columns": ["age", "sex", "bmi"], "data": [[41.0, 1.5, 2.0]]}},
            r"^column 'sex' expects integer values, got 1\.5 in row 0$",
        ),
        (
            {"dataframe_records": [{"age": 41.0, "sex": 1}]},
            r"^missing column 'bmi' in dataframe_records\[0\]; the model takes",
        ),
        (
            {"dataframe_records": [{"age": 41.0, "sex": 1, "bmi": 2.0, "x": 1}]},
            r"^unknown column 'x' in dataframe_records\[0\]",
        ),
        ({"inputs": {"age": [41.0], "sex": [1]}}, r"^missing column 'bmi' in inputs"),
        (
            {"inputs": {"age": [41.0], "sex": [1], "bmi": ["fat"]}},
            r"^column 'bmi' expects number values, got 'fat' \(string\) in row 0$",
        ),
        (
            {"input_data": [[41.0, 1]]},
            r"^input_data\[0\] has 2 values; the model takes 3 columns: age, sex, bmi$",
        ),
        ({"input_data": []}, r"^input_data has no rows$"),
        (
            {"rows": ROWS},
            r"^a scoring request is a JSON object with one of input_data, .*got an object with none of them$",
        ),
        ({"inputs": ROWS, "instances": ROWS}, r"got an object with several: instances, inputs$"),
        ([1, 2], r"got a JSON list$"),
        ({"dataframe_split": ROWS}, r"^dataframe_split must be an object with 'columns' and 'data'$"),
        ({"input_data": 3}, r"^input_data must be a list of rows or an object, not a JSON number$"),
    ],
)
def test_a_request_that_does_not_fit_is_a_422_naming_what_is_wrong(body: object, message: str) -> None:
    with pytest.raises(InputMismatch, match=message) as raised:
        _parse(body)
    assert raised.value.http_status == 422


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"input_data": [[1, 2]]}, r"^input_data has shape \[1, 2\]; the model takes shape \[-1, 3\]$"),
        ({"input_data": [[1, 2, 3], [4, 5]]}, r"^input_data is ragged"),
        ({"input_data": [[1, "x", 3]]}, r"^input_data must hold numbers; input_data\[0\]\[1\] is 'x'$"),
        ({"input_data": [[1, None, 3]]}, r"^input_data must hold numbers; input_data\[0\]\[1\] is null$"),
    ],
)
def test_a_tensor_of_the_wrong_shape_or_kind_is_a_422(body: object, message: str) -> None:
    with pytest.raises(InputMismatch, match=message):
        _parse(body, TENSOR)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "the request has no body"),
        (b'{"input_data": [[1, 2', "the request body is not valid JSON: "),
        (b"\xff", "not valid JSON"),
    ],
)
def test_malformed_json_is_a_400(body: bytes, message: str) -> None:
    with pytest.raises(MalformedRequest, match=message) as raised:
        parse_scoring_request(body, COLUMNS)
    assert raised.value.http_status == 400


def test_mlmodel_signatures_become_schemas() -> None:
    tensor = schema_from_mlmodel(
        {"inputs": '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 10]}}]'}
    )
    assert tensor == InputSchema(shape=(None, 10), dtype="float64")
    columns = schema_from_mlmodel(
        {
            "inputs": '[{"type": "double", "name": "age"}, {"type": "long", "name": "n"}, '
            '{"type": "string", "name": "c"}]'
        }
    )
    assert columns is not None and columns.columns == (
        Column("age", "number"),
        Column("n", "integer"),
        Column("c", "string"),
    )


# --- V2 -----------------------------------------------------------------------------------------


def test_v2_one_tensor_input_is_the_rows() -> None:
    body = {
        "id": "7",
        "inputs": [
            {"name": "x", "shape": [2, 3], "datatype": "FP64", "data": [41.0, 1, 22.5, 52.5, 2, 31.0]}
        ],
    }
    batch, request_id = parse_infer_request(json.dumps(body).encode(), COLUMNS)
    assert request_id == "7"
    np.testing.assert_array_equal(batch.array, EXPECTED)


def test_v2_one_input_per_column_is_matched_by_name() -> None:
    inputs = [
        {"name": "bmi", "shape": [2], "datatype": "FP64", "data": [22.5, 31.0]},
        {"name": "age", "shape": [2, 1], "datatype": "FP64", "data": [[41.0], [52.5]]},
        {"name": "sex", "shape": [2], "datatype": "INT64", "data": [1, 2]},
    ]
    batch, _ = parse_infer_request(json.dumps({"inputs": inputs}).encode(), COLUMNS)
    np.testing.assert_array_equal(batch.array, EXPECTED)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (
            [{"name": "x", "shape": [2, 3], "datatype": "FP64", "data": [1, 2, 3]}],
            r"^input 'x': shape \[2, 3\] needs 6 values, data has 3$",
        ),
        (
            [{"name": "x", "shape": [1, 3], "datatype": "FP99", "data": [1, 2, 3]}],
            r"^input 'x': unknown datatype 'FP99'; valid ones are: BOOL, ",
        ),
        ([{"name": "x", "shape": [1, 3], "data": [1, 2, 3]}], r"^input 'x' needs 'datatype'$"),
        (
            [{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": ["a", "b", "c"]}],
            r"^input 'x': datatype FP64 needs numbers in data$",
        ),
        (
            [
                {"name": "age", "shape": [1], "datatype": "FP64", "data": [1]},
                {"name": "zzz", "shape": [1], "datatype": "FP64", "data": [1]},
            ],
            r"^unknown column 'zzz' in inputs",
        ),
    ],
)
def test_v2_requests_that_do_not_fit_are_422s(inputs: list[object], message: str) -> None:
    with pytest.raises(InputMismatch, match=message):
        parse_infer_request(json.dumps({"inputs": inputs}).encode(), COLUMNS)
