"""Split the diabetes table into train and test parts (fixed seed: the same data, the same split)."""

import argparse
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

parser = argparse.ArgumentParser()
parser.add_argument("--raw_data")
parser.add_argument("--test_size", type=float)
parser.add_argument("--split_data")
args = parser.parse_args()

frame = pd.read_csv(args.raw_data)
train, test = train_test_split(frame, test_size=args.test_size, random_state=0)
train.to_parquet(Path(args.split_data, "train.parquet"), index=False)
test.to_parquet(Path(args.split_data, "test.parquet"), index=False)
print(f"split {len(frame)} rows into {len(train)} train and {len(test)} test rows")
