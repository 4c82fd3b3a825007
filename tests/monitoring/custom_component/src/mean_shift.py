"""Per numerical column: how far production's mean moved, in reference standard deviations.

`--shape bad` writes a table without `metric_value` (a malformed output); `--shape fail` exits 1.
"""

import argparse
import sys
from pathlib import Path

import pandas as pd


def read(folder: str) -> pd.DataFrame:
    files = sorted(Path(folder).rglob("*.parquet"))
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


parser = argparse.ArgumentParser()
for name in ("--production", "--reference", "--shape", "--std-threshold", "--out"):
    parser.add_argument(name)
args = parser.parse_args()
if args.shape == "fail":
    sys.exit("mean_shift: asked to fail")
production, reference = read(args.production), read(args.reference)
rows = []
for column in reference.select_dtypes("number").columns:
    shift = abs(production[column].mean() - reference[column].mean()) / reference[column].std()
    rows.append(
        {
            "group": column,
            "metric_name": "mean_shift_std",
            "metric_value": float(shift),
            "threshold_value": float(args.std_threshold),
        }
    )
    rows.append(
        {
            "group": column,
            "metric_name": "row_count",
            "metric_value": float(len(production)),
            "threshold_value": None,
        }
    )
table = pd.DataFrame(rows)
if args.shape == "bad":
    table = table.drop(columns=["metric_value"])
Path(args.out).mkdir(parents=True, exist_ok=True)
table.to_parquet(Path(args.out) / "signal_metrics.parquet")
print(f"mean_shift: {len(table)} rows")
