"""`client.batch_endpoints` and `client.batch_deployments` over a team server.

A deployment's code folder and a local input go up through the server's staging area, as a
job's files do; the server stores them with what uses them.
"""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mlyard.client.batch_endpoints import (
    BatchDeploymentOperations,
    BatchEndpointOperations,
    PathLike,
    endpoint_spec,
)
from mlyard.client.remote.closure import spec_closure
from mlyard.client.remote.session import RemoteSession
from mlyard.entities.endpoints.batch_endpoint import BatchDeployment, BatchEndpoint, batch_endpoint_from_dict
from mlyard.entities.jobs.job import Job
from mlyard.services.batch.batch_jobs import check_local_has_items


def _endpoint(name: str) -> str:
    return f"batch-endpoints/{quote(name, safe='')}"


def _deployment(endpoint: str, name: str) -> str:
    return f"{_endpoint(endpoint)}/deployments/{quote(name, safe='')}"


class RemoteBatchEndpointOperations(BatchEndpointOperations):
    def __init__(self, session: RemoteSession) -> None:
        self._session = session

    def create(
        self,
        source: PathLike | None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> BatchEndpoint:
        data, where = endpoint_spec(source, name, description, tags)
        batch_endpoint_from_dict(data, where)  # errors name the local file
        body = {"spec": data, "source": where}
        return BatchEndpoint.model_validate(self._session.post_json("batch-endpoints", body))

    def get(self, name: str) -> BatchEndpoint:
        return BatchEndpoint.model_validate(self._session.get_json(_endpoint(name)))

    def list(self) -> builtins.list[BatchEndpoint]:
        found = self._session.get_json("batch-endpoints")
        return [BatchEndpoint.model_validate(item) for item in found["value"]]

    def update(self, name: str, changes: dict[str, str]) -> BatchEndpoint:
        response = self._session.request("PATCH", _endpoint(name), json={"set": changes})
        return BatchEndpoint.model_validate(response.json())

    def delete(self, name: str) -> None:
        self._session.request("DELETE", _endpoint(name))

    def _invoke(
        self, name: str, input: str | None, deployment_name: str | None, input_type: str | None,
        resume: str | None,
    ) -> Job:  # fmt: skip
        body: dict[str, Any] = {"input": input, "input_type": input_type,
                                "deployment_name": deployment_name, "resume": resume}  # fmt: skip
        local = Path(input).expanduser() if input else None
        if local is not None and local.exists():  # a local folder or file goes up with the request
            if local.is_dir() and input_type in (None, "uri_folder"):
                check_local_has_items(local, "uri_folder", str(input))  # an empty one cannot go up
            body["upload"], body["input"] = self._session.upload_path(local.resolve())
        return Job.model_validate(self._session.post_json(f"{_endpoint(name)}/jobs", body))

    def list_jobs(self, name: str, deployment_name: str | None = None) -> builtins.list[Job]:
        found = self._session.get_json(f"{_endpoint(name)}/jobs", deployment_name=deployment_name)
        return [Job.model_validate(item) for item in found["value"]]

    def _jobs(self) -> Any:
        from mlyard.client.remote.jobs import RemoteJobOperations

        return RemoteJobOperations(self._session)


class RemoteBatchDeploymentOperations(BatchDeploymentOperations):
    def __init__(self, session: RemoteSession) -> None:
        self._session = session

    def _create(
        self, data: dict[str, Any], base_dir: Path, source: str, set_default: bool, replace: bool
    ) -> BatchDeployment:
        closure = spec_closure(data, base_dir)
        upload = self._session.upload(closure.files) if closure.files else None
        body = {"spec": closure.spec, "upload": upload, "base": closure.base, "source": source,
                "set_default": set_default, "replace": replace}  # fmt: skip
        endpoint = str(data.get("endpoint_name", ""))
        return BatchDeployment.model_validate(
            self._session.post_json(f"{_endpoint(endpoint)}/deployments", body)
        )

    def _update(self, endpoint_name: str, name: str, changes: dict[str, str]) -> BatchDeployment:
        response = self._session.request("PATCH", _deployment(endpoint_name, name), json={"set": changes})
        return BatchDeployment.model_validate(response.json())

    def _set_default(self, endpoint_name: str, name: str) -> None:
        self._session.request(
            "PATCH", _endpoint(endpoint_name), json={"set": {"defaults.deployment_name": name}}
        )

    def get(self, endpoint_name: str, name: str) -> BatchDeployment:
        return BatchDeployment.model_validate(self._session.get_json(_deployment(endpoint_name, name)))

    def list(self, endpoint_name: str) -> builtins.list[BatchDeployment]:
        found = self._session.get_json(f"{_endpoint(endpoint_name)}/deployments")
        return [BatchDeployment.model_validate(item) for item in found["value"]]

    def delete(self, endpoint_name: str, name: str) -> None:
        self._session.request("DELETE", _deployment(endpoint_name, name))

    def list_jobs(self, endpoint_name: str, name: str) -> builtins.list[Job]:
        found = self._session.get_json(f"{_endpoint(endpoint_name)}/jobs", deployment_name=name)
        return [Job.model_validate(item) for item in found["value"]]
