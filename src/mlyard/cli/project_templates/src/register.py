"""Evaluate the trained model on the test part and register it in the workspace running the job.

Every candidate is registered in dev, with its metric and the job that made it (lineage); which
one reaches production is decided later, by the release workflow and the prod approvers.
"""

import argparse
from pathlib import Path

import joblib
import mlyard
import pandas as pd

from evaluate import features, score


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model_input", required=True)
    parser.add_argument("--test_data", required=True)
    parser.add_argument("--model_name", required=True)
    args = parser.parse_args(argv)

    model = joblib.load(Path(args.model_input, "model.joblib"))
    test = pd.read_csv(Path(args.test_data, "test.csv"))
    value = score(model, test)
    mlyard.log_metric("@{ metric }@", value)
    example = features(test).head(5)
    version = mlyard.log_model(model, name=args.model_name, flavor="sklearn", input_example=example)
    mlyard.set_tag("model_version", version.version)
    print(f"registered {version.ref} (@{ metric }@ {value:.4f})")


if __name__ == "__main__":
    main()
