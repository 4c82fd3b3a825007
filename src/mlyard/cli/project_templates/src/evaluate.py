"""The model's @{ metric }@ on a table with a target column (@{ goal }@ it)."""

import numpy as np
import pandas as pd

TARGET = "target"


def score(model, table: pd.DataFrame) -> float:  # type: ignore[no-untyped-def]
    predictions = model.predict(table.drop(columns=TARGET))
@%- if task == "regression" %@
    return float(np.sqrt(np.mean((table[TARGET].to_numpy() - predictions) ** 2)))
@%- else %@
    return float(np.mean(table[TARGET].to_numpy() == predictions))
@%- endif %@
