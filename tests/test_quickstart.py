"""`make demo`'s quickstart, run as a user runs it, and what it leaves in the workspace."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import mlyard

QUICKSTART = Path(__file__).resolve().parents[1] / "examples" / "diabetes" / "quickstart.py"


@pytest.mark.slow
def test_quickstart_registers_only_winners_and_moves_production(tmp_path):
    workspace = tmp_path / "ws"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLYARD_")}
    env["COLUMNS"] = "200"
    for seed in (1, 2):  # a second round reuses the data asset and competes with the champion
        done = subprocess.run(
            [sys.executable, str(QUICKSTART), "--workspace", str(workspace), "--seed", str(seed)],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "identical content is already registered as diabetes:1" in out
    assert "production model: diabetes-ridge:" in out and str(workspace) in out

    client = mlyard.MLClient(workspace=workspace)
    runs = client.jobs.search(experiments="diabetes")
    assert len(runs) == 6 and all(r.status == mlyard.JobStatus.COMPLETED for r in runs)
    assert all({"alpha"} <= set(r.params) and "mse" in r.metrics for r in runs)
    assert all(r.inputs[0].name == "diabetes" for r in runs)

    versions = client.models.list("diabetes-ridge")
    production = client.models.get("diabetes-ridge@production")
    best = min(runs, key=lambda r: r.metrics["mse"])
    assert production.job_id == best.id  # the champion is the best run so far
    # Registered versions improve monotonically: each beat the production model of its time.
    by_version = sorted(client.models.compare("diabetes-ridge"), key=lambda row: int(row.model.version))
    mses = [row.metrics["mse"] for row in by_version]
    assert mses == sorted(mses, reverse=True) and len(set(mses)) == len(mses)
    assert len(versions) == len(mses)
    losers = [r for r in runs if r.tags.get("registered") == "no"]
    assert len(losers) + len(versions) == 6
