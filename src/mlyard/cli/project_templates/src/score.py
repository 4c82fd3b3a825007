"""The online scoring script (Azure ML's init()/run()): the model from AZUREML_MODEL_DIR, a request
in Azure's `input_data` shape (columns + data), one prediction per row."""

import json
import os
from pathlib import Path

import joblib
import pandas as pd

model = None


def init() -> None:
    global model
    folder = Path(os.environ["AZUREML_MODEL_DIR"])
    model = joblib.load(next(folder.rglob("*.joblib")))


def run(raw_data: str) -> list:  # type: ignore[type-arg]
    table = json.loads(raw_data)["input_data"]
    frame = pd.DataFrame(table["data"], columns=table["columns"])
    return model.predict(frame).tolist()  # type: ignore[union-attr]
