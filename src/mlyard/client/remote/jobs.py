"""`client.jobs` over a team server: the same operations as `LocalJobOperations`, as REST calls."""

from __future__ import annotations

import builtins
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mlyard.artifacts import ArtifactInfo, safe_relpath
from mlyard.client.jobs import JobOperations, LogWriter, apply_submission_options, print_raw
from mlyard.client.remote.closure import spec_closure
from mlyard.client.remote.session import RemoteSession
from mlyard.client.run_buffer import flush_pending
from mlyard.entities.jobs.job import (
    ENV_JOB_ID,
    CodeSnapshot,
    Job,
    JobOutputInfo,
    JobStatus,
    Metric,
    RuntimeInfo,
)
from mlyard.errors import NotFound

FIRST_POLL_SECONDS = 0.05
POLL_SECONDS = 0.3
MAX_POLL_SECONDS = 1.5  # a quiet job is asked less often: each poll is a request the server serves
QUICK_POLLING_SECONDS = 5.0


def _artifact_file(folder: str | None, name: str) -> str:
    """The artifact path of `name` inside `folder`, checked as the local call checks it."""
    parts = [safe_relpath(folder, allow_root=True)] if folder else []
    return "/".join([*[p for p in parts if p], safe_relpath(name)])


def _listing(values: Any) -> list[str] | None:
    if values is None:
        return None
    return [values] if isinstance(values, str) else list(values)


class RemoteJobOperations(JobOperations):
    def __init__(self, session: RemoteSession) -> None:
        self._session = session

    def get(self, job_id: str) -> Job:
        flush_pending()
        return Job.model_validate(self._session.get_json(f"jobs/{quote(job_id)}"))

    def search(
        self,
        filter: str | None = None,
        order_by: Sequence[str] | str | None = None,
        experiments: Sequence[str] | str | None = None,
        max_results: int = 1000,
        parent_job_name: str | None = None,
    ) -> builtins.list[Job]:
        flush_pending()
        found = self._session.get_json(
            "jobs", filter=filter, order_by=_listing(order_by), experiment=_listing(experiments),
            max_results=max_results, parent_job_name=parent_job_name,
        )  # fmt: skip
        return [Job.model_validate(job) for job in found["value"]]

    def metric_history(self, job_id: str, key: str) -> builtins.list[Metric]:
        flush_pending()
        found = self._session.get_json(f"jobs/{quote(job_id)}/metrics/{quote(key)}")
        return [
            Metric(p["key"], float(p["value"]), int(p["step"]), int(p["timestamp"])) for p in found["value"]
        ]

    def experiments(self) -> builtins.list[tuple[str, int]]:
        found = self._session.get_json("experiments")
        return [(item["name"], int(item["job_count"])) for item in found["value"]]

    def list_artifacts(self, job_id: str) -> builtins.list[ArtifactInfo]:
        found = self._session.get_json(f"jobs/{quote(job_id)}/artifacts")
        return [ArtifactInfo(path=e["path"], is_dir=e["is_dir"], size=e["size"]) for e in found["value"]]

    def download(
        self,
        job_id: str,
        download_path: str | os.PathLike[str] = ".",
        artifact_path: str | None = None,
        output_name: str | None = None,
    ) -> Path:
        destination = Path(download_path)
        root = f"jobs/{job_id}"
        if artifact_path is not None:
            self.get(job_id)  # NotFound names the job
            try:
                return self._session.download(f"{root}/artifacts/{artifact_path.strip('/')}", destination)
            except NotFound:
                raise NotFound(f"job {job_id} has no artifact {artifact_path!r}") from None
        if output_name is not None:
            found = {output.name: output for output in self.outputs(job_id)}
            if output_name not in found:
                declared = ", ".join(sorted(found)) or "none"
                raise NotFound(f"job {job_id} has no output {output_name!r} (outputs: {declared})")
            target = destination / "outputs" / output_name
            try:
                return self._session.download(found[output_name].artifact_path, target)
            except NotFound:
                target.mkdir(parents=True, exist_ok=True)  # the job wrote nothing to it
                return target
        self.get(job_id)
        fetched = False
        for part in ("logs", "outputs", "artifacts"):
            try:
                self._session.download(f"{root}/{part}", destination / part)
                fetched = True
            except NotFound:
                continue
        if not fetched:
            raise NotFound(f"job {job_id} has no logs, outputs or artifacts yet")
        return destination

    def outputs(self, job_id: str) -> builtins.list[JobOutputInfo]:
        found = self._session.get_json(f"jobs/{quote(job_id)}/outputs")
        return [JobOutputInfo.model_validate(item) for item in found["value"]]

    def children(self, job_id: str) -> builtins.list[Job]:
        found = self._session.get_json(f"jobs/{quote(job_id)}/children")
        return [Job.model_validate(job) for job in found["value"]]

    # --- tracked runs --------------------------------------------------------------------------

    def create_run(
        self,
        experiment: str | None = None,
        display_name: str | None = None,
        tags: dict[str, Any] | None = None,
        parent_job_id: str | None = None,
        code: CodeSnapshot | None = None,
        runtime: RuntimeInfo | None = None,
    ) -> Job:
        body: dict[str, Any] = {
            "experiment": experiment, "display_name": display_name, "tags": tags or {},
            "parent_job_id": parent_job_id,
            "code": code.model_dump(mode="json") if code else None,
            "runtime": runtime.model_dump(mode="json") if runtime else None,
        }  # fmt: skip
        return Job.model_validate(self._session.post_json("jobs", body))

    def log_batch(
        self,
        job_id: str,
        params: dict[str, str] | None = None,
        metrics: Sequence[Metric] = (),
        tags: dict[str, str] | None = None,
    ) -> None:
        body = {"params": params or {}, "metrics": [m.to_dict() for m in metrics], "tags": tags or {}}
        self._session.post_json(f"jobs/{quote(job_id)}/log-batch", body)

    def end_run(
        self,
        job_id: str,
        status: JobStatus = JobStatus.COMPLETED,
        error: str | None = None,
        params: dict[str, str] | None = None,
        metrics: Sequence[Metric] = (),
        tags: dict[str, str] | None = None,
    ) -> None:
        body = {
            "status": status.value, "error": error, "params": params or {},
            "metrics": [m.to_dict() for m in metrics], "tags": tags or {},
        }  # fmt: skip
        self._session.post_json(f"jobs/{quote(job_id)}/end", body)

    def delete_tag(self, job_id: str, key: str) -> None:
        self._session.request("DELETE", f"jobs/{quote(job_id)}/tags/{quote(key)}")

    def log_artifact(self, job_id: str, local_path: Path, artifact_path: str | None = None) -> str:
        source = Path(local_path)
        if not source.exists():
            raise NotFound(f"artifact file {source} does not exist")
        target = _artifact_file(artifact_path, source.name)
        if source.is_dir():
            return self.log_artifacts(job_id, source, target)
        return self._put(job_id, source, target)

    def log_artifacts(self, job_id: str, local_dir: Path, artifact_path: str | None = None) -> str:
        source = Path(local_dir)
        if not source.is_dir():
            raise NotFound(f"artifact folder {source} does not exist or is not a folder")
        prefix = safe_relpath(artifact_path) if artifact_path else ""
        self.get(job_id)
        for file in sorted(p for p in source.rglob("*") if p.is_file()):
            self._put(job_id, file, _artifact_file(prefix, file.relative_to(source).as_posix()))
        return f"jobs/{job_id}/artifacts" + (f"/{prefix}" if prefix else "")

    def log_bytes(self, job_id: str, data: bytes, artifact_file: str) -> str:
        path = f"jobs/{quote(job_id)}/artifacts/{quote(safe_relpath(artifact_file))}"
        return str(self._session.request("PUT", path, content=data).json()["path"])

    def _put(self, job_id: str, file: Path, artifact_file: str) -> str:
        path = f"jobs/{quote(job_id)}/artifacts/{quote(safe_relpath(artifact_file))}"
        with open(file, "rb") as content:
            return str(self._session.request("PUT", path, content=content).json()["path"])

    def log_input(self, job_id: str, kind: str, name: str, version: str) -> None:
        self._session.post_json(
            f"jobs/{quote(job_id)}/inputs", {"kind": kind, "name": name, "version": version}
        )

    # --- submitted jobs ------------------------------------------------------------------------

    def _submit_spec(
        self,
        data: dict[str, Any],
        base_dir: Path,
        source: str,
        overrides: dict[str, str] | None,
        experiment: str | None,
        display_name: str | None,
    ) -> Job:

        apply_submission_options(data, source, overrides, experiment, display_name)
        closure = spec_closure(data, base_dir)
        upload = self._session.upload(closure.files) if closure.files else None
        body = {
            "spec": closure.spec, "upload": upload, "base": closure.base, "source": source,
            "submitted_from": os.environ.get(ENV_JOB_ID),  # set when a job's own process submits
        }  # fmt: skip
        return Job.model_validate(self._session.post_json("jobs/submit", body))

    def stream(self, job_id: str, write: LogWriter | None = None) -> Job:
        return self._follow(job_id, write or print_raw, None)

    def _follow(self, job_id: str, write: LogWriter | None, timeout: float | None) -> Job:
        started = time.monotonic()
        offset = 0
        pause = POLL_SECONDS
        while True:
            response = self._session.request("GET", f"jobs/{quote(job_id)}/log", params={"offset": offset})
            if response.content and write is not None:
                write(response.content.decode("utf-8", errors="replace"))
            offset += len(response.content)
            pause = POLL_SECONDS if response.content else min(pause * 1.5, MAX_POLL_SECONDS)
            status = JobStatus(response.headers["x-job-status"])
            if status.is_terminal and not response.content:
                return self.get(job_id)
            now = time.monotonic()
            if timeout is not None and now - started > timeout:
                raise TimeoutError(f"job {job_id} is still {status.value} after {timeout} s")
            if not response.content:
                time.sleep(FIRST_POLL_SECONDS if now - started < QUICK_POLLING_SECONDS else pause)

    def cancel(self, job_id: str) -> JobStatus:
        return JobStatus(self._session.post_json(f"jobs/{quote(job_id)}/cancel")["status"])

    def delete_permanently(self, job_id: str) -> list[str]:
        answer = self._session.request("DELETE", f"jobs/{quote(job_id)}", params={"permanent": "true"})
        return [str(job) for job in answer.json()["deleted"]]
