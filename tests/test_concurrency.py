"""Eight processes logging into one workspace at once lose nothing (SQLite WAL and PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from mlyard.services.tracking import jobs

PROCESSES = 8
STEPS = 400
KEYS = 5

WRITER = """
import mlyard, mlyard.client.run as r
r.FLUSH_POINTS = 200   # many small transactions, to make the writers collide often
with mlyard.start_run(experiment="concurrent", tags={{"writer": "{index}"}}) as run:
    mlyard.log_param("writer", {index})
    for step in range({steps}):
        mlyard.log_metrics({{f"m{{k}}": step + k for k in range({keys})}}, step=step)
"""


@pytest.mark.slow
def test_eight_writers_lose_no_point(workspace, workspace_path, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLYARD_")}
    env["MLYARD_WORKSPACE"] = str(workspace_path)
    processes = []
    for index in range(PROCESSES):
        script = tmp_path / f"writer{index}.py"
        script.write_text(textwrap.dedent(WRITER.format(index=index, steps=STEPS, keys=KEYS)))
        processes.append(
            subprocess.Popen(
                [sys.executable, str(script)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for process in processes:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr

    found = jobs.search_jobs(workspace, experiments="concurrent")
    assert len(found) == PROCESSES
    assert sorted(j.params["writer"] for j in found) == [str(i) for i in range(PROCESSES)]
    for job in found:
        assert job.status.value == "Completed"
        for key in range(KEYS):
            history = jobs.metric_history(workspace, job.id, f"m{key}")
            assert [p.step for p in history] == list(range(STEPS))
        assert job.metrics["m0"] == STEPS - 1
