"""`client.online_endpoints` and `client.online_deployments` over a team server's REST API.

A deployment YAML's files (code, an inline model folder, a conda file) go up through the
server's staging area with the spec, as a job's do; `package` downloads the model and code into
the local cache and packages them here.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mlyard.client.endpoint_deployments import OnlineDeploymentOperations
from mlyard.client.endpoints import (
    OnlineEndpointOperations,
    SpecSource,
    Split,
    as_split,
    metrics_query,
    spec_data,
)
from mlyard.client.remote.closure import spec_closure
from mlyard.client.remote.session import RemoteSession
from mlyard.entities.endpoints.endpoint import (
    EndpointCredentials,
    EndpointMetrics,
    OnlineDeployment,
    OnlineEndpoint,
)


def _endpoint_path(name: str) -> str:
    return f"online-endpoints/{quote(name, safe='')}"


def _deployment_path(endpoint: str, name: str | None = None) -> str:
    path = f"{_endpoint_path(endpoint)}/deployments"
    return f"{path}/{quote(name, safe='')}" if name is not None else path


class RemoteOnlineEndpointOperations(OnlineEndpointOperations):
    def __init__(self, session: RemoteSession) -> None:
        super().__init__()
        self._session = session

    def create(self, endpoint: SpecSource) -> OnlineEndpoint:
        data, _, source = spec_data(endpoint, "endpoint")
        return OnlineEndpoint.model_validate(
            self._session.post_json("online-endpoints", {"spec": data, "source": source})
        )

    def get(self, name: str) -> OnlineEndpoint:
        return OnlineEndpoint.model_validate(self._session.get_json(_endpoint_path(name)))

    def list(self) -> builtins.list[OnlineEndpoint]:
        return [OnlineEndpoint.model_validate(e) for e in self._session.get_json("online-endpoints")["value"]]

    def update(
        self,
        name: str,
        traffic: Split | None = None,
        mirror_traffic: Split | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> OnlineEndpoint:
        body = {
            "traffic": as_split(traffic, "--traffic"),
            "mirror_traffic": as_split(mirror_traffic, "--mirror-traffic"),
            "description": description, "tags": tags,
        }  # fmt: skip
        response = self._session.request("PATCH", _endpoint_path(name), json=body)
        return OnlineEndpoint.model_validate(response.json())

    def delete(self, name: str) -> None:
        self._session.request("DELETE", _endpoint_path(name))

    def get_credentials(self, name: str, token_lifetime_seconds: float | None = None) -> EndpointCredentials:
        body = {"token_lifetime_seconds": token_lifetime_seconds}
        return EndpointCredentials.model_validate(
            self._session.post_json(f"{_endpoint_path(name)}/credentials", body)
        )

    def regenerate_keys(self, name: str, key_type: str = "primary") -> EndpointCredentials:
        self._credentials.pop(name, None)
        found = self._session.post_json(f"{_endpoint_path(name)}/regenerate-keys", {"key_type": key_type})
        return EndpointCredentials.model_validate(found)

    def metrics(
        self, name: str, window: int = 60, since: str | datetime | None = None, deployment: str | None = None
    ) -> EndpointMetrics:
        from mlyard.services.online.endpoint_metrics_history import parse_since

        start = parse_since(since) if since is not None else None
        query = metrics_query(window, start, deployment)
        return EndpointMetrics.model_validate(
            self._session.get_json(f"{_endpoint_path(name)}/metrics", **query)
        )


class RemoteOnlineDeploymentOperations(OnlineDeploymentOperations):
    def __init__(self, session: RemoteSession, endpoints: OnlineEndpointOperations) -> None:
        super().__init__(endpoints)
        self._session = session

    def get(self, name: str, endpoint_name: str) -> OnlineDeployment:
        return OnlineDeployment.model_validate(self._session.get_json(_deployment_path(endpoint_name, name)))

    def list(self, endpoint_name: str) -> builtins.list[OnlineDeployment]:
        found = self._session.get_json(_deployment_path(endpoint_name))["value"]
        return [OnlineDeployment.model_validate(item) for item in found]

    def delete(self, name: str, endpoint_name: str) -> None:
        self._session.request("DELETE", _deployment_path(endpoint_name, name))

    def get_logs(self, name: str, endpoint_name: str, lines: int | None = None) -> str:
        params = {"lines": lines} if lines is not None else {}
        response = self._session.request(
            "GET", f"{_deployment_path(endpoint_name, name)}/logs", params=params
        )
        return str(response.text)

    def _create(
        self, data: dict[str, Any], base_dir: Path, source: str, endpoint_name: str | None
    ) -> OnlineDeployment:
        endpoint = endpoint_name or data.get("endpoint_name")
        if not isinstance(endpoint, str):
            from mlyard.errors import InvalidSpec

            raise InvalidSpec(f"{source}: endpoint_name: required (in the file, or --endpoint-name)")
        body = self._staged(data, base_dir, source)
        return OnlineDeployment.model_validate(self._session.post_json(_deployment_path(endpoint), body))

    def _update(
        self,
        name: str,
        endpoint_name: str,
        data: dict[str, Any] | None,
        base_dir: Path,
        source: str,
        overrides: dict[str, str] | None,
    ) -> OnlineDeployment:
        body: dict[str, Any] = {"set": overrides, "source": source}
        if data is not None:
            body = {**self._staged(data, base_dir, source), "set": None}
        response = self._session.request("PATCH", _deployment_path(endpoint_name, name), json=body)
        return OnlineDeployment.model_validate(response.json())

    def _staged(self, data: dict[str, Any], base_dir: Path, source: str) -> dict[str, Any]:
        closure = spec_closure(data, base_dir)
        upload = self._session.upload(closure.files) if closure.files else None
        return {"spec": closure.spec, "upload": upload, "base": closure.base, "source": source}

    def _is_served(self) -> bool:
        return True

    def _local_files(self, deployment: OnlineDeployment) -> tuple[Path, Path | None]:
        from mlyard.client.endpoint_deployments import _empty_folder
        from mlyard.client.remote.registry import RemoteModelOperations

        model_dir = (
            RemoteModelOperations(self._session).local_path(deployment.model.ref)
            if deployment.model
            else None
        )
        code = deployment.code
        code_dir = self._session.cached_download(code.artifact_path, code.code_hash, "code") if code else None
        return model_dir or _empty_folder(), code_dir
