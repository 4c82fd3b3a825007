"""Fit the @{ task }@ model on the train part and save it as model.joblib."""

import argparse
from pathlib import Path

import joblib
import pandas as pd
@{ estimator_import }@

from evaluate import TARGET, features


def fit(train: pd.DataFrame, alpha: float):  # type: ignore[no-untyped-def]
    model = @{ estimator }@
    return model.fit(features(train), train[TARGET])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--training_data", required=True)
    parser.add_argument("--alpha", type=float, default=@{ alpha }@)
    parser.add_argument("--model_output", required=True)
    args = parser.parse_args(argv)

    train = pd.read_csv(Path(args.training_data, "train.csv"))
    model = fit(train, args.alpha)
    folder = Path(args.model_output)
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, folder / "model.joblib")
    print(f"trained {type(model).__name__} (alpha={args.alpha}) on {len(train)} rows")


if __name__ == "__main__":
    main()
