"""The online scoring script (Azure ML's init()/run()): the model from AZUREML_MODEL_DIR, a request
in Azure's `input_data` shape (columns + data), one prediction per row."""

import glob
import json
import os

import joblib
import pandas as pd

model = None


def init() -> None:
    global model
    # glob, not Path.rglob: the model folder may be a link, and rglob does not follow links
    found = glob.glob(os.path.join(os.environ["AZUREML_MODEL_DIR"], "**", "*.joblib"), recursive=True)
    model = joblib.load(found[0])


def run(raw_data: str) -> list:  # type: ignore[type-arg]
    table = json.loads(raw_data)["input_data"]
    frame = pd.DataFrame(table["data"], columns=table["columns"])
    return model.predict(frame).tolist()  # type: ignore[union-attr]
