"""Data validation: a table checked against a registered data asset's schema and profile.

The asset's profile (`services/data_assets/profiling.py`) is the expectation. Every rule runs on
every column, so one pass reports every problem, each with the number of rows it affects:

    missing_column     a column of the asset's schema is not in the file (error)
    unexpected_column  the file has a column the asset does not (warning: extra columns are often
                       harmless, e.g. an id, but worth seeing)
    type               present values that are not of the column's type: `integer` (whole
                       numbers), `number`, `boolean` (true/false, 1/0), `datetime` (ISO 8601);
                       `string` and `category` columns take anything
    range              numbers or timestamps below the asset's minimum or above its maximum
    null_rate          empty values in a column the asset has none in, or a share of empty
                       values more than NULL_RATE_TOLERANCE above the asset's
    empty              the file has no rows

pandas is imported inside the functions: the CLI must start fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlyard.entities.governance.validation import ValidationProblem, ValidationReport
from mlyard.entities.registry.data import ColumnProfile, DataAsset, DataType
from mlyard.errors import InvalidArgument, NotFound
from mlyard.services.data_assets.tabular import read_table

if TYPE_CHECKING:
    import pandas as pd

# How far (absolute, as a share of rows) a column's null rate may exceed the asset's: a sample's
# rate wanders around the asset's, but a jump of ten points means a broken feed.
NULL_RATE_TOLERANCE = 0.10
EXAMPLES = 3
_TRUTHY = frozenset({"true", "false", "1", "0", "1.0", "0.0", "yes", "no"})


def validate_data_file(path: Path, asset: DataAsset) -> ValidationReport:
    """Read `path` (a table file, or a folder of them) and check it against `asset`'s profile."""
    if not path.exists():
        raise NotFound(f"data file {path} does not exist")
    if not asset.profile:
        raise InvalidArgument(
            f"data asset {asset.name}:{asset.version} has no table profile to validate against "
            "(it is not a table); give a tabular data asset with --against"
        )
    kind = DataType.URI_FOLDER if path.is_dir() else DataType.URI_FILE
    frame = read_table(path, kind)
    if frame is None:
        raise InvalidArgument(f"data file {path} is not a table: give a .csv, .tsv, .parquet or .jsonl file")
    report = ValidationReport(kind="data", target=str(path), checked_rows=len(frame))
    report.details = {"against": f"{asset.name}:{asset.version}", "columns": len(frame.columns)}
    report.problems = check_frame(frame, asset.profile, asset.row_count)
    return report


def check_frame(
    frame: pd.DataFrame, profile: list[ColumnProfile], asset_rows: int | None
) -> list[ValidationProblem]:
    """Every problem of `frame` against the column profiles, in the asset's column order."""
    rows = len(frame)
    problems: list[ValidationProblem] = []
    if rows == 0:
        problems.append(ValidationProblem(check="empty", message="the file has no rows", rows=0))
    present = {str(name) for name in frame.columns}
    for column in profile:
        if column.name not in present:
            problems.append(
                ValidationProblem(
                    check="missing_column",
                    column=column.name,
                    rows=rows,
                    message=f"column {column.name!r} ({column.type}) is missing",
                )
            )
            continue
        values = frame[column.name]
        problems += _null_problems(column, values, asset_rows)
        if rows:
            problems += _type_and_range_problems(column, values)
    expected = {c.name for c in profile}
    for name in (str(n) for n in frame.columns if str(n) not in expected):
        problems.append(
            ValidationProblem(
                check="unexpected_column",
                column=name,
                rows=rows,
                severity="warning",
                message=f"column {name!r} is not in the data asset",
            )
        )
    return problems


def _null_problems(
    column: ColumnProfile, values: pd.Series, asset_rows: int | None
) -> list[ValidationProblem]:
    nulls = int(values.isna().sum())
    if nulls == 0 or not len(values):
        return []
    rate = nulls / len(values)
    expected_rate = column.null_count / asset_rows if asset_rows else 0.0
    if column.null_count == 0:
        message = f"column {column.name!r}: {nulls} of {len(values)} rows are empty (the data asset has none)"
    elif rate > expected_rate + NULL_RATE_TOLERANCE:
        message = (
            f"column {column.name!r}: {nulls} of {len(values)} rows are empty ({rate:.0%}, "
            f"the data asset has {expected_rate:.0%})"
        )
    else:
        return []
    return [ValidationProblem(check="null_rate", column=column.name, rows=nulls, message=message)]


def _type_and_range_problems(column: ColumnProfile, values: pd.Series) -> list[ValidationProblem]:
    """Values of the wrong type, then values of the right type outside the asset's range."""
    present = values.dropna()
    parsed, wrong = _parse(column.type, present)
    problems: list[ValidationProblem] = []
    if wrong is not None and bool(wrong.any()):
        bad = present[wrong]
        problems.append(
            ValidationProblem(
                check="type",
                column=column.name,
                rows=len(bad),
                message=f"column {column.name!r}: {len(bad)} of {len(values)} rows are not "
                f"{_type_phrase(column.type)} (e.g. {_examples(bad)})",
            )
        )
    if parsed is not None and column.min is not None and column.max is not None:
        problems += _range_problems(column, values, parsed[~wrong] if wrong is not None else parsed)
    return problems


def _parse(kind: str, present: pd.Series) -> tuple[pd.Series | None, pd.Series | None]:
    """The present values parsed as `kind` (for range checks), and a mask of those that are not
    of it; (None, None) for kinds that take anything."""
    import pandas as pd
    from pandas.api import types

    if kind in ("integer", "number"):
        if types.is_bool_dtype(present.dtype):
            return None, pd.Series(True, index=present.index)
        numbers = pd.to_numeric(present, errors="coerce").astype("float64")
        wrong = numbers.isna()
        if kind == "integer":
            wrong |= (numbers % 1) != 0
        return numbers, wrong
    if kind == "boolean":
        if types.is_bool_dtype(present.dtype):
            return None, None
        return None, ~present.astype(str).str.strip().str.lower().isin(_TRUTHY)
    if kind == "datetime":
        try:
            stamps = pd.to_datetime(present, format="ISO8601", errors="coerce", utc=True)
        except (ValueError, TypeError):  # e.g. values that are not text at all
            stamps = pd.Series(pd.NaT, index=present.index, dtype="datetime64[ns, UTC]")
        return stamps, stamps.isna()
    return None, None


def _range_problems(column: ColumnProfile, values: pd.Series, parsed: pd.Series) -> list[ValidationProblem]:
    import pandas as pd

    if column.type == "datetime":
        low: Any = pd.Timestamp(str(column.min))
        high: Any = pd.Timestamp(str(column.max))
        low = low.tz_localize("UTC") if low.tzinfo is None else low
        high = high.tz_localize("UTC") if high.tzinfo is None else high
    else:
        low, high = float(column.min), float(column.max)  # type: ignore[arg-type]
    outside = parsed[(parsed < low) | (parsed > high)]
    if outside.empty:
        return []
    return [
        ValidationProblem(
            check="range",
            column=column.name,
            rows=len(outside),
            message=f"column {column.name!r}: {len(outside)} of {len(values)} rows are outside "
            f"the data asset's range [{_shown(column.min)}, {_shown(column.max)}] "
            f"(from {_shown(outside.min())} to {_shown(outside.max())})",
        )
    ]


def _type_phrase(kind: str) -> str:
    return {
        "integer": "whole numbers",
        "number": "numbers",
        "boolean": "true/false",
        "datetime": "ISO 8601 dates",
    }[kind]


def _examples(bad: pd.Series) -> str:
    return ", ".join(repr(str(v)) for v in bad.drop_duplicates().head(EXAMPLES).tolist())


def _shown(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
