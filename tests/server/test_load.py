"""Load: 16 clients log metrics through a server process at once for 10 s; every point is kept.

On SQLite (one writer at a time: the server's writes queue for the lock) and on PostgreSQL.
Bounded in time; the counts, not the speed, are what is asserted.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.processes import start_server

pytestmark = pytest.mark.slow
CLIENTS = 16
SECONDS = 10.0
POINTS_PER_BATCH = 20


def _log_for(url: str, job_id: str, stop: threading.Event, sent: list[int], errors: list[str]) -> None:
    with httpx.Client(base_url=f"{url}/api/v1/workspaces/default", timeout=60) as http:
        step = 0
        while not stop.is_set():
            points = [
                {"key": "loss", "value": step + i * 0.001, "step": step + i} for i in range(POINTS_PER_BATCH)
            ]
            response = http.post(f"/jobs/{job_id}/log-batch", json={"metrics": points})
            if response.status_code != 204:
                errors.append(f"{response.status_code}: {response.text}")
                return
            step += POINTS_PER_BATCH
            sent.append(POINTS_PER_BATCH)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_sixteen_clients_logging_for_ten_seconds_lose_no_point(database, tmp_path: Path, request):
    from mlyard.services.workspaces.workspace import create_workspace

    db = request.getfixturevalue("pg_database") if database == "postgresql" else None
    create_workspace(tmp_path / "ws", db=db)
    server = start_server(tmp_path / "ws", tmp_path / "server.log", "--no-worker")
    try:
        with httpx.Client(base_url=f"{server.url}/api/v1/workspaces/default", timeout=30) as http:
            jobs = [http.post("/jobs", json={"experiment": "load"}).json()["id"] for _ in range(CLIENTS)]
            stop = threading.Event()
            sent: list[list[int]] = [[] for _ in jobs]
            errors: list[str] = []
            threads = [
                threading.Thread(target=_log_for, args=(server.url, job_id, stop, sent[i], errors))
                for i, job_id in enumerate(jobs)
            ]
            for thread in threads:
                thread.start()
            time.sleep(SECONDS)
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
            assert not errors, errors[:3]
            total = 0
            for job_id, points in zip(jobs, sent, strict=True):
                history = http.get(f"/jobs/{job_id}/metrics/loss").json()["value"]
                assert len(history) == sum(points), job_id  # not one point lost, none doubled
                assert [p["step"] for p in history] == list(range(sum(points)))
                total += len(history)
        assert total > CLIENTS * POINTS_PER_BATCH  # every client got batches through
        print(f"{database}: {total} points from {CLIENTS} clients in {SECONDS:.0f} s")
    finally:
        server.stop()
