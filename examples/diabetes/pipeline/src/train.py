"""Fit a Ridge regression and save it with the sklearn flavor (model.pkl + mlyard-model.yaml)."""

import argparse
import pickle
from pathlib import Path

import pandas as pd
from sklearn.linear_model import Ridge

import mlyard

parser = argparse.ArgumentParser()
parser.add_argument("--training_data")
parser.add_argument("--alpha", type=float)
parser.add_argument("--model_output")
args = parser.parse_args()

train = pd.read_parquet(Path(args.training_data, "train.parquet"))
model = Ridge(alpha=args.alpha).fit(train.drop(columns="target"), train["target"])
Path(args.model_output, "model.pkl").write_bytes(pickle.dumps(model))
mlyard.log_param("alpha", args.alpha)
print(f"trained Ridge(alpha={args.alpha}) on {len(train)} rows")
