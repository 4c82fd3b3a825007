"""`make demo`'s pipeline example: prep → train → register-if-better, and reuse on the second run."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlyard.entities.jobs.job import JobStatus

PIPELINE = Path(__file__).resolve().parents[1] / "examples" / "diabetes" / "pipeline" / "pipeline.yml"


@pytest.mark.slow
@pytest.mark.parametrize("client_backend", ["sqlite", "remote"], indirect=True)
def test_the_diabetes_pipeline_registers_once_then_reuses_prep_and_train(client, diabetes_csv):
    client.data.create(name="diabetes", path=diabetes_csv)
    first = client.jobs.create(PIPELINE, wait=True)
    assert first.experiment == "diabetes-pipeline"
    assert client.models.get("diabetes-ridge@production").version == "1"
    second = client.jobs.create(PIPELINE, wait=True)
    steps = {step.display_name: step for step in client.jobs.children(second.id)}
    assert steps["prep"].reused_from and steps["train"].reused_from
    assert steps["gate"].reused_from is None and steps["gate"].status == JobStatus.COMPLETED
    assert steps["gate"].tags.get("registered") == "no"  # not better than itself: a normal outcome
    assert [v.version for v in client.models.list("diabetes-ridge")] == ["1"]
