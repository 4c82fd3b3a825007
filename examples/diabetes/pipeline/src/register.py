"""Evaluate the candidate and register it only if it beats production; losing is a normal outcome.

`--promotion direct` moves `production` to the winner (a protected alias, through a team server:
a promotion request instead); `--promotion request` (retraining started by a monitor's alert)
never moves it: the winner becomes `challenger` and a promotion request to `production` awaits an
operator's approval (`mlyard model approve`).
"""

import argparse
import pickle
from pathlib import Path

import pandas as pd
from sklearn.metrics import mean_squared_error

import mlyard
from mlyard.errors import PermissionDenied

parser = argparse.ArgumentParser()
parser.add_argument("--model_input")
parser.add_argument("--test_data")
parser.add_argument("--model_name")
parser.add_argument("--promotion", choices=["direct", "request"], default="direct")
args = parser.parse_args()

model = pickle.loads(Path(args.model_input, "model.pkl").read_bytes())
test = pd.read_parquet(Path(args.test_data, "test.parquet"))
features = test.drop(columns="target")
mse = float(mean_squared_error(test["target"], model.predict(features)))
mlyard.log_metric("mse", mse)
mlyard.log_param("alpha", model.alpha)

client = mlyard.MLClient()
run = mlyard.Run.get_context()
verdict = client.models.is_better(run, than=f"{args.model_name}@production", metric="mse", goal="minimize")
if not verdict:
    mlyard.set_tag("registered", "no")
    print(f"not registered ({verdict.reason})")
else:
    version = mlyard.log_model(model, name=args.model_name, flavor="sklearn", input_example=features.head(5))
    if args.promotion == "request":
        client.models.set_alias(args.model_name, "challenger", version.version)
        request = client.models.promote(
            args.model_name, version.version, to="production", reason=verdict.reason
        )
        mlyard.set_tag("promotion", request.id)
        print(f"registered {version.ref} as challenger; promotion to production requested ({request.id})")
    else:
        try:
            client.models.set_alias(args.model_name, "production", version.version)
            print(f"registered {version.ref} as production ({verdict.reason})")
        except PermissionDenied:  # a protected alias, through a team server: ask for approval instead
            request = client.models.promote(
                args.model_name, version.version, to="production", reason=verdict.reason
            )
            mlyard.set_tag("promotion", request.id)
            print(
                f"registered {version.ref}; promotion to production requested ({request.id}), "
                "awaiting approval"
            )
