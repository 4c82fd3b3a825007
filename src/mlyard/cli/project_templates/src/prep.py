"""Split the table into train and test parts (a fixed seed: the same data gives the same split)."""

import argparse
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split


def split(frame: pd.DataFrame, test_size: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    train, test = train_test_split(frame, test_size=test_size, random_state=0)
    return train, test


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--raw_data", required=True)
    parser.add_argument("--test_size", type=float, default=0.2)
    parser.add_argument("--split_data", required=True)
    args = parser.parse_args(argv)

    frame = pd.read_csv(args.raw_data)
    train, test = split(frame, args.test_size)
    folder = Path(args.split_data)
    folder.mkdir(parents=True, exist_ok=True)
    train.to_csv(folder / "train.csv", index=False)
    test.to_csv(folder / "test.csv", index=False)
    print(f"split {len(frame)} rows into {len(train)} train and {len(test)} test rows")


if __name__ == "__main__":
    main()
