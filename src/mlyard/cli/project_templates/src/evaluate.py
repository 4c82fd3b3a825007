"""The model's @{ metric }@ on a table with a target column (@{ goal }@ it)."""

import numpy as np
import pandas as pd

TARGET = "target"
@%- if sensitive_feature %@
SENSITIVE = "@{ sensitive_feature }@"  # for the fairness check only: never a feature of the model
NOT_FEATURES = [TARGET, SENSITIVE]
@%- else %@
NOT_FEATURES = [TARGET]
@%- endif %@


def features(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=[name for name in NOT_FEATURES if name in table.columns])


def score(model, table: pd.DataFrame) -> float:  # type: ignore[no-untyped-def]
    predictions = model.predict(features(table))
@%- if task == "regression" %@
    return float(np.sqrt(np.mean((table[TARGET].to_numpy() - predictions) ** 2)))
@%- else %@
    return float(np.mean(table[TARGET].to_numpy() == predictions))
@%- endif %@
