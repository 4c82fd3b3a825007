"""The diabetes quickstart: train, compare with production, register only if better, promote.

Three runs of a Ridge regression with a random alpha on scikit-learn's bundled diabetes data
(no download). Each run logs `alpha` and `mse`; the model is registered only when it beats the
model behind `diabetes-ridge@production` (the first run always does), and the alias moves to it.

    python examples/diabetes/quickstart.py [--workspace PATH] [--runs 3] [--seed N]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

import mlyard

MODEL_NAME = "diabetes-ridge"
EXPERIMENT = "diabetes"


def register_data(client: mlyard.MLClient) -> str:
    """Write the bundled diabetes table to CSV and register it (identical content is reused)."""
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "diabetes.csv"
        frame.to_csv(path, index=False)
        registration = client.data.create(
            name="diabetes",
            path=path,
            type="uri_file",
            description="scikit-learn diabetes data (442 patients)",
        )
    print(registration.message)
    return registration.asset.ref


def train_once(client: mlyard.MLClient, data_ref: str, alpha: float) -> None:
    import pandas as pd
    from sklearn.linear_model import Ridge
    from sklearn.metrics import mean_squared_error
    from sklearn.model_selection import train_test_split

    with mlyard.start_run(experiment=EXPERIMENT, tags={"example": "quickstart"}) as run:
        frame = pd.read_csv(mlyard.use_data(data_ref))
        features, target = frame.drop(columns="target"), frame["target"]
        x_train, x_test, y_train, y_test = train_test_split(features, target, test_size=0.2, random_state=0)
        model = Ridge(alpha=alpha).fit(x_train, y_train)
        mse = float(mean_squared_error(y_test, model.predict(x_test)))
        mlyard.log_param("alpha", alpha)
        mlyard.log_metric("mse", mse)

        verdict = client.models.is_better(run, than=f"{MODEL_NAME}@production", metric="mse", goal="minimize")
        if verdict:
            version = mlyard.log_model(
                model,
                name=MODEL_NAME,
                flavor="sklearn",
                input_example=x_test.head(5),
                tags={"alpha": str(alpha)},
            )
            assert isinstance(version, mlyard.ModelVersion)
            client.models.set_alias(MODEL_NAME, "production", version.version)
            print(
                f"run {run.id}: alpha={alpha} mse={mse:.1f} → registered {version.ref} "
                f"as production ({verdict.reason})"
            )
        else:
            mlyard.set_tag("registered", "no")
            print(f"run {run.id}: alpha={alpha} mse={mse:.1f} → not registered ({verdict.reason})")


def report(client: mlyard.MLClient) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    runs = Table(title="runs of experiment 'diabetes' (newest first)", title_justify="left")
    for column in ("job", "status", "alpha", "mse"):
        runs.add_column(column)
    for job in client.jobs.search(experiments=EXPERIMENT, max_results=20):
        runs.add_row(
            job.id,
            job.status.value,
            job.params.get("alpha", ""),
            f"{job.metrics['mse']:.1f}" if "mse" in job.metrics else "",
        )
    console.print(runs)

    versions = Table(title=f"model {MODEL_NAME}", title_justify="left")
    for column in ("version", "aliases", "mse", "alpha", "job"):
        versions.add_column(column)
    for row in client.models.compare(MODEL_NAME):
        versions.add_row(
            row.model.version,
            ", ".join(row.model.aliases),
            f"{row.metrics.get('mse', float('nan')):.1f}",
            row.params.get("alpha", ""),
            row.job_id or "",
        )
    console.print(versions)
    production = client.models.get(f"{MODEL_NAME}@production")
    workspace = client.workspace
    console.print(f"production model: [bold]{production.ref}[/]")
    console.print(f"workspace: {workspace['path']}  (database {workspace['database']})")
    cli = "mlyard" if shutil.which("mlyard") else str(Path(sys.executable).parent / "mlyard")
    if os.environ.get("MLYARD_WORKSPACE"):
        cli += f" --workspace {workspace['path']}"
    console.print("look around:", highlight=False)
    for command in ("job list --experiment diabetes", f"model list {MODEL_NAME}",
                    f"model show {MODEL_NAME}@production", f"model compare {MODEL_NAME}",
                    "data show diabetes@latest"):  # fmt: skip
        console.print(f"  {cli} {command}", highlight=False, soft_wrap=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default=None, help="workspace folder (default ./.mlyard)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()

    client = mlyard.MLClient(workspace=args.workspace, create=True)
    if args.workspace:
        os.environ["MLYARD_WORKSPACE"] = args.workspace  # the active-run API uses it too
    data_ref = register_data(client)
    rng = random.Random(args.seed)
    for _ in range(args.runs):
        train_once(client, data_ref, alpha=round(10 ** rng.uniform(-3, 0.5), 4))
    report(client)


if __name__ == "__main__":
    main()
