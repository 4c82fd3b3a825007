"""The responsible-AI check: fairness of a model's predictions across a sensitive feature (Fairlearn).

Given a labelled test set, the model's predictions on it and one sensitive column:

    binary classification   demographic parity difference (the largest gap in selection rate
                            between groups) and equalized odds difference (the larger of the
                            largest gaps in true and false positive rates), each against its
                            threshold; error rate and selection rate per group
    regression              RMSE per group, and the largest gap between groups against
                            `max_rmse_difference` when one is given

Problems name the group and the measurement, so a failed check says who the model fails.
Fairlearn (the `responsible-ai` extra) and pandas are imported inside the function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from mlyard.entities.governance.validation import CheckReport, ValidationProblem
from mlyard.errors import InvalidArgument

if TYPE_CHECKING:
    import pandas as pd

Task = Literal["classification", "regression"]
DEFAULT_MAX_PARITY = 0.1
DEFAULT_MAX_EQUALIZED_ODDS = 0.1
MIN_GROUP_ROWS = 1


def fairness_report(
    target: str,
    y_true: pd.Series,
    y_pred: Any,
    sensitive: pd.Series,
    task: Task | None = None,
    max_demographic_parity: float = DEFAULT_MAX_PARITY,
    max_equalized_odds: float = DEFAULT_MAX_EQUALIZED_ODDS,
    max_rmse_difference: float | None = None,
) -> CheckReport:
    """The fairness verdict on predictions `y_pred` of labels `y_true`, grouped by `sensitive`."""
    import numpy as np
    import pandas as pd

    predicted = pd.Series(np.asarray(y_pred).reshape(len(y_true), -1)[:, 0], index=y_true.index)
    chosen = task or infer_task(y_true)
    report = CheckReport(kind="responsible_ai", target=target)
    report.details = {"task": chosen, "sensitive_feature": str(sensitive.name), "rows": len(y_true)}
    groups = sensitive.astype(str).fillna("(empty)")
    if groups.nunique() < 2:
        raise InvalidArgument(
            f"sensitive feature {sensitive.name!r} has one group only ({groups.iloc[0]!r}): fairness "
            "compares groups, give a column with two or more values"
        )
    if chosen == "regression":
        _regression(report, y_true, predicted, groups, max_rmse_difference)
    else:
        _classification(report, y_true, predicted, groups, max_demographic_parity, max_equalized_odds)
    return report


def infer_task(labels: pd.Series) -> Task:
    """Two distinct labels, or labels that are not numbers: classification; otherwise regression."""
    from pandas.api import types

    if labels.nunique(dropna=True) <= 2 or not types.is_numeric_dtype(labels.dtype):
        return "classification"
    return "classification" if types.is_integer_dtype(labels.dtype) else "regression"


def _classification(
    report: CheckReport,
    y_true: pd.Series,
    y_pred: pd.Series,
    groups: pd.Series,
    max_parity: float,
    max_odds: float,
) -> None:
    from fairlearn.metrics import (
        MetricFrame,
        demographic_parity_difference,
        equalized_odds_difference,
        selection_rate,
    )

    labels = sorted({*y_true.astype(str).unique()})
    if len(labels) != 2:
        raise InvalidArgument(
            f"demographic parity and equalized odds need two label values; the label column has "
            f"{len(labels)} ({', '.join(labels[:5])}); give --task regression for a numeric target"
        )
    positive = labels[1]  # "1" of 0/1, "yes" of no/yes, "True" of False/True
    truth = (y_true.astype(str) == positive).astype(int)
    predicted = (y_pred.astype(str).str.replace(r"\.0$", "", regex=True) == positive).astype(int)
    frame = MetricFrame(
        metrics={"error_rate": _error_rate, "selection_rate": selection_rate, "count": _count},
        y_true=truth, y_pred=predicted, sensitive_features=groups,
    )  # fmt: skip
    parity = float(demographic_parity_difference(truth, predicted, sensitive_features=groups))
    odds = float(equalized_odds_difference(truth, predicted, sensitive_features=groups))
    report.metrics = {
        "demographic_parity_difference": round(parity, 5),
        "equalized_odds_difference": round(odds, 5),
        "error_rate": round(float(_error_rate(truth, predicted)), 5),
    }
    report.thresholds = {"demographic_parity_difference": max_parity, "equalized_odds_difference": max_odds}
    report.details["positive_label"] = positive
    report.details["by_group"] = _by_group(frame.by_group)
    rates = frame.by_group["selection_rate"]
    if parity > max_parity:
        report.problems.append(
            ValidationProblem(
                check="demographic_parity",
                column=str(groups.name),
                message=f"demographic parity difference {parity:.3f} is above {max_parity:g}: selection "
                f"rate {rates.max():.3f} for {rates.idxmax()!r}, {rates.min():.3f} for {rates.idxmin()!r}",
            )
        )
    if odds > max_odds:
        report.problems.append(
            ValidationProblem(
                check="equalized_odds",
                column=str(groups.name),
                message=f"equalized odds difference {odds:.3f} is above {max_odds:g}: true or false "
                f"positive rates differ that much between groups of {groups.name!r}",
            )
        )


def _regression(
    report: CheckReport, y_true: pd.Series, y_pred: pd.Series, groups: pd.Series, max_gap: float | None
) -> None:
    from fairlearn.metrics import MetricFrame

    frame = MetricFrame(
        metrics={"rmse": _rmse, "count": _count}, y_true=y_true.astype(float), y_pred=y_pred.astype(float),
        sensitive_features=groups,
    )  # fmt: skip
    rmse = frame.by_group["rmse"]
    gap = float(rmse.max() - rmse.min())
    report.metrics = {"rmse": round(float(_rmse(y_true.astype(float), y_pred.astype(float))), 5),
                      "rmse_difference": round(gap, 5)}  # fmt: skip
    report.details["by_group"] = _by_group(frame.by_group)
    if max_gap is not None:
        report.thresholds = {"rmse_difference": max_gap}
        if gap > max_gap:
            report.problems.append(
                ValidationProblem(
                    check="rmse_difference",
                    column=str(groups.name),
                    message=f"RMSE differs by {gap:.3f} between groups (above {max_gap:g}): "
                    f"{rmse.max():.3f} for {rmse.idxmax()!r}, {rmse.min():.3f} for {rmse.idxmin()!r}",
                )
            )


def _by_group(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    return {
        str(group): {str(k): round(float(v), 5) for k, v in values.items()}
        for group, values in frame.to_dict(orient="index").items()
    }


def _error_rate(y_true: Any, y_pred: Any) -> float:
    import numpy as np

    return float(np.mean(np.asarray(y_true) != np.asarray(y_pred)))


def _rmse(y_true: Any, y_pred: Any) -> float:
    import numpy as np

    return float(np.sqrt(np.mean((np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float)) ** 2)))


def _count(y_true: Any, y_pred: Any) -> float:
    return float(len(y_true))
