"""Starting a runner process — light enough to import before anything else, so it starts early.

`mlyard job create` starts the runner first, then checks and records the job while the runner
does its own half second of imports; `assign` then hands it the job id on its stdin. A runner
whose submission failed reads nothing and exits.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from mlyard.services.workspaces.workspace_location import ENV_ARTIFACTS, ENV_DB, ENV_WORKSPACE

if TYPE_CHECKING:
    from mlyard.services.workspaces.workspace import Workspace

ENV_SCRATCH = "MLYARD_SCRATCH"
WAIT_FOR_JOB = "--wait-for-job"


def scratch_root() -> Path:
    """Where jobs get their working folders: `MLYARD_SCRATCH`, or the system's temporary folder."""
    configured = os.environ.get(ENV_SCRATCH)
    return Path(configured) if configured else Path(tempfile.gettempdir()) / "mlyard-jobs"


def runner_log(job_id: str) -> Path:
    """What a job's runner process itself printed (its job's own log is in the artifact store)."""
    return scratch_root() / "runners" / f"{job_id}.log"


class PendingRunner:
    """A runner process started before its job exists; `assign` hands it the job, `abandon` ends it.

    with PendingRunner(folder) as runner:
        job = submit_job_file(...)     # an error here abandons the runner
        runner.assign(workspace, job.id)
    """

    def __init__(self, folder: Path, db: str | None = None, artifacts: str | None = None) -> None:
        logs = scratch_root() / "runners"
        logs.mkdir(parents=True, exist_ok=True)
        self.log_path = logs / f"pending-{uuid.uuid4().hex}.log"
        env = dict(os.environ)
        env[ENV_WORKSPACE] = str(folder)
        for name, value in ((ENV_DB, db), (ENV_ARTIFACTS, artifacts)):
            if value:
                env[name] = value
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "mlyard.runtime.launch", WAIT_FOR_JOB],
                env=env,
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C on the submitting terminal does not stop the job
                close_fds=True,
            )
        self.assigned: str | None = None

    def assign(self, workspace: Workspace, job_id: str) -> int:
        """Give the runner its queued job; returns the runner's pid, which the job records."""
        from mlyard.services.execution.job_runs import note_runner

        self.log_path = self.log_path.rename(runner_log(job_id))
        note_runner(workspace, job_id, self.process.pid)
        self._send(f"{job_id}\n")
        self.assigned = job_id
        return self.process.pid

    def abandon(self) -> None:
        """No job after all (the submission failed): the runner reads nothing and exits."""
        self._send("")
        self.log_path.unlink(missing_ok=True)

    def _send(self, text: str) -> None:
        assert self.process.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.process.stdin.write(text.encode())
            self.process.stdin.close()
        # Reap it when it ends, so a long-lived submitter (a notebook, a server) collects no zombies.
        threading.Thread(target=self.process.wait, name=f"reap-{self.process.pid}", daemon=True).start()

    def __enter__(self) -> PendingRunner:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if self.assigned is None:
            self.abandon()
