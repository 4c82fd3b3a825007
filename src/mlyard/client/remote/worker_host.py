"""A worker on another machine: claims jobs from a team server and reports everything over HTTP.

`RemoteJobSource` claims (long polls) from `POST queue/claim`; `RemoteJobHost` is the runtime's
`JobHost` for one claimed job: lease renewals, the log (sent as it grows, from the last byte the
server has), inputs and code fetched into this machine's cache, outputs staged in uploads. The
job's own process logs to the server too (`MLYARD_URL`, `MLYARD_KEY`).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mlyard.client.remote.session import RemoteSession
from mlyard.entities.jobs.job import DataInput, JobOutputInfo, JobStatus, RunSummary
from mlyard.entities.jobs.job_spec import JobOutput, ResolvedInput
from mlyard.errors import LeaseLost, NotFound
from mlyard.runtime.mlflow_tracking import MlflowTarget
from mlyard.services.execution.queue import ClaimedJob
from mlyard.services.workspaces.workspace import Workspace

LOG_PIECE = 8 * 2**20


class RemoteJobSource:
    def __init__(self, session: RemoteSession) -> None:
        self.session = session

    def claim(self, worker_id: str, computes: Any, wait_seconds: float) -> ClaimedJob | None:
        wait = max(wait_seconds, 5.0)  # a long poll: the server answers as soon as a job is queued
        body = {"worker_id": worker_id, "computes": list(computes), "wait_seconds": wait}
        response = self.session.request("POST", "queue/claim", json=body, timeout=wait + 30)
        if response.status_code == 204:
            return None
        found = response.json()
        return ClaimedJob(
            found["job_id"], found["job_type"], found["spec"], found["attempt"], found["lease_seconds"],
            found.get("compute_kind", "local"),
        )  # fmt: skip

    def host_for(self, claimed: ClaimedJob, worker_id: str) -> RemoteJobHost:
        return RemoteJobHost(self.session, worker_id, claimed.lease_seconds)


class RemoteJobHost:
    guards_processes = True  # the job dies with this worker (runtime/process_guard.py)

    def __init__(self, session: RemoteSession, worker_id: str, lease_seconds: float = 30.0) -> None:
        from mlyard.runtime.worker import lease_heartbeat

        self.session = session
        self.worker_id = worker_id
        self.lease_seconds = lease_seconds
        self.heartbeat_seconds = lease_heartbeat(lease_seconds)
        self._status = JobStatus.RUNNING
        self._sent: dict[str, int] = {}  # bytes of each job's log the server has
        self._lock = threading.Lock()

    def _queue(self, job_id: str, what: str) -> str:
        return f"queue/jobs/{quote(job_id, safe='')}/{what}"

    def claim(self, job_id: str) -> None:
        return None  # claimed from the queue already

    def check(self, job_id: str, heartbeat: bool) -> JobStatus:
        if not heartbeat:  # a renewal carries the status; between them, the last one known
            return self._status
        try:
            found = self.session.post_json(self._queue(job_id, "lease"), {"worker_id": self.worker_id})
        except LeaseLost:
            return JobStatus.CANCELED  # the job is another worker's now: stop its process
        self._status = JobStatus(found["status"])
        return self._status

    def set_code(self, job_id: str, code: dict[str, Any]) -> None:
        self.session.post_json(self._queue(job_id, "code"), {"worker_id": self.worker_id, "code": code})

    def record_input(self, job_id: str, edge: DataInput) -> None:
        body = {"kind": edge.kind, "name": edge.name, "version": edge.version}
        self.session.post_json(f"jobs/{quote(job_id, safe='')}/inputs", body)

    def input_path(self, given: ResolvedInput, cache: Path) -> Path:
        if given.source == "local" and given.artifact_path is None:
            assert given.path is not None
            return Path(given.path)  # only on the machine that submitted it
        if given.source == "data":
            found = self.session.get_json(f"data/{quote(str(given.name), safe='')}/versions/{given.version}")
            prefix, digest, kind = found["artifact_path"], found["content_hash"], "data"
        elif given.source == "model":
            found = self.session.get_json(
                f"models/{quote(str(given.name), safe='')}/versions/{given.version}"
            )
            prefix, digest, kind = found["artifact_path"], found["content_hash"], "models"
        elif given.source == "job_output":
            outputs = self.session.get_json(f"jobs/{quote(str(given.job_id), safe='')}/outputs")["value"]
            output = next((o for o in outputs if o["name"] == given.output), None)
            if output is None:
                raise NotFound(f"job {given.job_id} has no output {given.output!r}")
            prefix, digest, kind = output["artifact_path"], output["content_hash"], "outputs"
        else:
            assert given.artifact_path is not None and given.content_hash is not None
            prefix, digest, kind = given.artifact_path, given.content_hash, "snapshots"
        folder = self._fetch(prefix, digest, kind, cache)
        if given.type == "uri_file":
            files = sorted(p for p in folder.rglob("*") if p.is_file())
            if len(files) == 1:
                return files[0]
        return folder

    def _fetch(self, prefix: str, digest: str, kind: str, cache: Path) -> Path:
        try:
            return self.session.cached_download(prefix, digest, kind)
        except NotFound:  # an output the producing job left empty
            cache.mkdir(parents=True, exist_ok=True)
            return cache

    def code_folder(self, artifact_path: str, digest: str, cache: Path) -> Path:
        return self.session.cached_download(artifact_path, digest, "code")

    def store_output(self, job_id: str, name: str, output: JobOutput, written: Path) -> JobOutputInfo:
        folder = written.parent if output.type == "uri_file" else written
        upload, path = (None, "")
        if folder.is_dir() and any(folder.iterdir()):
            upload, path = self.session.upload_path(folder, name)
        body = {"worker_id": self.worker_id, "name": name, "upload": upload, "path": path}
        return JobOutputInfo.model_validate(self.session.post_json(self._queue(job_id, "outputs"), body))

    def sync_log(self, job_id: str, local_log: Path) -> None:
        with self._lock, open(local_log, "rb") as log:
            sent = self._sent.get(job_id, 0)
            log.seek(sent)
            while piece := log.read(LOG_PIECE):
                params = {"worker_id": self.worker_id, "offset": sent}
                self.session.request("PUT", self._queue(job_id, "log"), params=params, content=piece)
                sent += len(piece)
            self._sent[job_id] = sent

    def end(
        self, job_id: str, status: JobStatus, error: str | None, summary: RunSummary | None = None
    ) -> None:
        body: dict[str, Any] = {"worker_id": self.worker_id, "status": status.value, "error": error}
        if summary is not None:
            body |= {
                "params": summary.params,
                "metrics": [metric.to_dict() for metric in summary.metrics],
                "tags": summary.tags,
            }
        self.session.post_json(self._queue(job_id, "finish"), body)

    def process_environment(self, job_id: str) -> dict[str, str]:
        from mlyard.client.mlclient import ENV_KEY, ENV_URL, ENV_WORKSPACE_NAME

        variables = {ENV_URL: self.session.base_url, ENV_WORKSPACE_NAME: self.session.workspace}
        if self.session.key:
            variables[ENV_KEY] = self.session.key
        return variables

    def build_log_workspace(self) -> Workspace | None:
        return None

    def mlflow_target(self) -> MlflowTarget:
        """The team server's MLflow API, reached with the worker's key."""
        return MlflowTarget(f"{self.session.base_url}/mlflow/{self.session.workspace}", self.session.key)

    def describe(self) -> dict[str, Any]:
        arguments = {
            "url": self.session.base_url, "key": self.session.key, "workspace": self.session.workspace,
            "worker_id": self.worker_id, "lease_seconds": self.lease_seconds,
        }  # fmt: skip
        return {"factory": "mlyard.client.remote.worker_host.remote_host", "arguments": arguments}


def remote_host(
    url: str, key: str | None, workspace: str, worker_id: str, lease_seconds: float
) -> RemoteJobHost:
    """A `RemoteJobHost` rebuilt in a Ray task on another node."""
    return RemoteJobHost(RemoteSession(url, key, workspace), worker_id, lease_seconds)
