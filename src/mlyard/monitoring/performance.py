"""Model performance metrics on predictions joined with ground truth on a correlation id.

Each is a `Metric` whose compute takes one `Outcomes` and returns a float (None when the rows hold
nothing to measure). Azure sets no default threshold for these: a metric breaches only against a
threshold the user gives — scores (accuracy …, auc) *below* it, errors (mae …) *above* it.

Classification: with two labels the positive one is `positive_label` or else the larger label
(1 of {0, 1}, as scikit-learn's `pos_label=1`); with more, precision, recall and F1 are macro
averages. `auc` needs two labels and ranks the `score` column (a probability) when given, else
the predictions. Regression: `mape` leaves out rows whose actual value is 0 (it is undefined
there; seed 004 measures them separately as `rmse_zero_target`, the RMSE on exactly those rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mlyard.errors import InvalidArgument
from mlyard.monitoring.contract import Metric

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class Outcomes:
    """Matched rows: what happened (`actual`), what the model said, and its score if any."""

    actual: np.ndarray
    predicted: np.ndarray
    score: np.ndarray | None = None
    positive_label: Any = None


def join_outcomes(
    predictions: pa.Table,
    ground_truth: pa.Table,
    *,
    correlation_id: str,
    prediction: str,
    actual: str,
    score: str | None = None,
    positive_label: Any = None,
) -> Outcomes:
    """Predictions and ground truth matched on `correlation_id` (rows without a match are left out)."""
    for table, side, columns in (
        (predictions, "production data", [correlation_id, prediction] + ([score] if score else [])),
        (ground_truth, "ground truth", [correlation_id, actual]),
    ):
        missing = [c for c in columns if c not in table.column_names]
        if missing:
            raise InvalidArgument(
                f"model_performance: column {missing[0]!r} is not in the {side} "
                f"(columns: {', '.join(table.column_names)}); set data_column_names to the right name"
            )
    left = predictions.select([correlation_id, prediction] + ([score] if score else []))
    left = left.rename_columns(["id", "predicted"] + (["score"] if score else []))
    right = ground_truth.select([correlation_id, actual]).rename_columns(["id", "actual"])
    left, right = _plain_keys(left, right)
    joined = left.join(right, "id", join_type="inner").drop_null()
    return Outcomes(
        actual=joined.column("actual").to_numpy(),
        predicted=joined.column("predicted").to_numpy(),
        score=joined.column("score").to_numpy().astype(np.float64) if score else None,
        positive_label=positive_label,
    )


def _plain_keys(left: pa.Table, right: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Join keys of one plain type: collected request ids are dictionary-encoded per file (Arrow
    cannot join differing dictionaries), and ids may be numbers on one side, text on the other."""
    import pyarrow as pa

    def plain(table: pa.Table) -> pa.Table:
        column = table.column("id")
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        return table.set_column(0, "id", column)

    left, right = plain(left), plain(right)
    if left.schema.field("id").type != right.schema.field("id").type:
        left = left.set_column(0, "id", left.column("id").cast(pa.string()))
        right = right.set_column(0, "id", right.column("id").cast(pa.string()))
    return left, right


def _labels(outcomes: Outcomes) -> np.ndarray:
    return np.asarray(np.unique(np.concatenate([outcomes.actual, outcomes.predicted])))


def _positive(outcomes: Outcomes, labels: np.ndarray) -> Any:
    return outcomes.positive_label if outcomes.positive_label is not None else labels[-1]


def _per_label(outcomes: Outcomes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True positives, predicted positives and actual positives for each label scored."""
    labels = _labels(outcomes)
    scored = np.array([_positive(outcomes, labels)]) if len(labels) <= 2 else labels
    actual, predicted = outcomes.actual[:, None], outcomes.predicted[:, None]
    true_positive = ((actual == scored) & (predicted == scored)).sum(axis=0)
    return true_positive, (predicted == scored).sum(axis=0), (actual == scored).sum(axis=0)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    # A label never predicted (or never present) scores 0, as scikit-learn's zero_division default.
    ratio = np.zeros(len(numerator))
    np.divide(numerator, denominator, out=ratio, where=denominator > 0)
    return ratio


def _accuracy(outcomes: Outcomes) -> float | None:
    return float(np.mean(outcomes.actual == outcomes.predicted)) if len(outcomes.actual) else None


def _precision(outcomes: Outcomes) -> float | None:
    if not len(outcomes.actual):
        return None
    true_positive, predicted, _ = _per_label(outcomes)
    return float(_ratio(true_positive, predicted).mean())


def _recall(outcomes: Outcomes) -> float | None:
    if not len(outcomes.actual):
        return None
    true_positive, _, actual = _per_label(outcomes)
    return float(_ratio(true_positive, actual).mean())


def _f1(outcomes: Outcomes) -> float | None:
    if not len(outcomes.actual):
        return None
    true_positive, predicted, actual = _per_label(outcomes)
    return float(_ratio(2 * true_positive, predicted + actual).mean())


def _auc(outcomes: Outcomes) -> float | None:
    """The area under the ROC curve as the Mann-Whitney U statistic (ties count half)."""
    from scipy.stats import rankdata

    labels = np.unique(outcomes.actual)
    if len(labels) != 2:
        return None
    positive = outcomes.actual == _positive(outcomes, labels)
    score = outcomes.score if outcomes.score is not None else outcomes.predicted.astype(np.float64)
    ranks = rankdata(score)
    n_positive, n_negative = int(positive.sum()), int((~positive).sum())
    return float((ranks[positive].sum() - n_positive * (n_positive + 1) / 2) / (n_positive * n_negative))


def _errors(outcomes: Outcomes) -> np.ndarray:
    return outcomes.predicted.astype(np.float64) - outcomes.actual.astype(np.float64)


def _mae(outcomes: Outcomes) -> float | None:
    return float(np.mean(np.abs(_errors(outcomes)))) if len(outcomes.actual) else None


def _mse(outcomes: Outcomes) -> float | None:
    return float(np.mean(_errors(outcomes) ** 2)) if len(outcomes.actual) else None


def _rmse(outcomes: Outcomes) -> float | None:
    mse = _mse(outcomes)
    return float(np.sqrt(mse)) if mse is not None else None


def _mape(outcomes: Outcomes) -> float | None:
    actual = outcomes.actual.astype(np.float64)
    nonzero = actual != 0
    if not nonzero.any():
        return None
    return float(np.mean(np.abs(_errors(outcomes)[nonzero] / actual[nonzero])))


def _rmse_zero_target(outcomes: Outcomes) -> float | None:
    zero = outcomes.actual.astype(np.float64) == 0
    return float(np.sqrt(np.mean(_errors(outcomes)[zero] ** 2))) if zero.any() else None


accuracy = Metric("accuracy", _accuracy, None, direction="below")
precision = Metric("precision", _precision, None, direction="below")
recall = Metric("recall", _recall, None, direction="below")
f1_score = Metric("f1_score", _f1, None, direction="below")
auc = Metric("auc", _auc, None, direction="below")
mae = Metric("mae", _mae, None)
mse = Metric("mse", _mse, None)
rmse = Metric("rmse", _rmse, None)
mape = Metric("mape", _mape, None)
rmse_zero_target = Metric("rmse_zero_target", _rmse_zero_target, None)
