"""`client.online_endpoints`: endpoints, their traffic, credentials, scoring and metrics from Python.

    client.online_endpoints.create("endpoint.yml")                # or a dict, or an OnlineEndpointSpec
    client.online_endpoints.update("diabetes", traffic="blue=90 green=10", mirror_traffic={"green": 10})
    client.online_endpoints.invoke("diabetes", request_file="sample.json", deployment_name="green")
    client.online_endpoints.metrics("diabetes", window=60).total.latency_ms.p99
    client.online_endpoints.metrics("diabetes", since="24h", deployment="blue")   # persisted minutes

Endpoints are served by a team server (`mlyard server start`): a remote client invokes through the
server it talks to; a local one through the server recorded in its workspace folder (`server.json`).
"""

from __future__ import annotations

import builtins
import contextlib
import json
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from mlyard.entities.endpoints.endpoint import EndpointCredentials, EndpointMetrics, OnlineEndpoint
from mlyard.entities.endpoints.endpoint_spec import OnlineEndpointSpec, endpoint_spec_from_dict, parse_traffic
from mlyard.errors import InvalidArgument, NotReady, Unauthenticated, error_from_response
from mlyard.services.online import endpoints as endpoint_service
from mlyard.services.workspaces.server_file import ServerRecord, find_server, require_server
from mlyard.services.workspaces.workspace import Workspace

SpecSource = str | os.PathLike[str] | dict[str, Any] | OnlineEndpointSpec
Split = str | dict[str, int]
CREDENTIALS_CACHE_SECONDS = 60.0


def spec_data(
    spec: Any, what: str, overrides: dict[str, Any] | None = None
) -> tuple[dict[str, Any], Path, str]:
    """(the spec as the mapping its YAML holds, the folder its paths are relative to, its name in
    errors), with `overrides` (`--set instance_count=2`, dotted paths) applied."""
    from pydantic import BaseModel

    from mlyard.entities.specs.overrides import apply_override
    from mlyard.entities.specs.spec_files import load_yaml

    if isinstance(spec, BaseModel):
        data, base, source = spec.model_dump(mode="json", exclude_none=True), Path.cwd(), what
    elif isinstance(spec, dict):
        data, base, source = dict(spec), Path.cwd(), what
    else:
        path = Path(spec).expanduser()
        data, base, source = load_yaml(path), path.resolve().parent, str(path)
    for key, value in (overrides or {}).items():
        apply_override(data, key, str(value), source)
    return data, base, source


def as_split(value: Split | None, option: str) -> dict[str, int] | None:
    if value is None or isinstance(value, dict):
        return value
    return parse_traffic(value, option)


class OnlineEndpointOperations(ABC):
    def __init__(self) -> None:
        self._credentials: dict[str, tuple[EndpointCredentials, float]] = {}

    @abstractmethod
    def create(self, endpoint: SpecSource) -> OnlineEndpoint:
        """Create an endpoint from its YAML (path), a mapping or a spec; `AlreadyExists` if taken."""

    @abstractmethod
    def get(self, name: str) -> OnlineEndpoint:
        """The endpoint, with `scoring_uri` when a server serves it."""

    @abstractmethod
    def list(self) -> builtins.list[OnlineEndpoint]: ...

    @abstractmethod
    def update(
        self,
        name: str,
        traffic: Split | None = None,
        mirror_traffic: Split | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> OnlineEndpoint:
        """Replace the traffic split (`"blue=90 green=10"` or a dict; sum 100, or all 0) and/or the
        mirror traffic (one deployment, at most 50 %)."""

    @abstractmethod
    def delete(self, name: str) -> None:
        """Delete the endpoint and all its deployments."""

    @abstractmethod
    def get_credentials(self, name: str, token_lifetime_seconds: float | None = None) -> EndpointCredentials:
        """The primary and secondary keys (`auth_mode: key`), or a new token (`aml_token`)."""

    @abstractmethod
    def regenerate_keys(self, name: str, key_type: str = "primary") -> EndpointCredentials: ...

    @abstractmethod
    def metrics(
        self, name: str, window: int = 60, since: str | datetime | None = None, deployment: str | None = None
    ) -> EndpointMetrics:
        """Requests/s, errors and P50/P95/P99 latency per deployment over the last `window` seconds of
        the server's live window, or, with `since` (`90m`, `24h`, `7d`, an ISO date/time or a
        datetime), over the persisted minutes since then, which outlive server restarts."""

    def invoke(
        self,
        name: str,
        request_file: str | os.PathLike[str] | None = None,
        data: Any = None,
        deployment_name: str | None = None,
        timeout: float = 60.0,
    ) -> str:
        """POST the request (a file, or `data`: JSON-able, str or bytes) to the endpoint's scoring URI
        and return the answer's text; a refusal raises the exception its error code stands for."""
        import httpx

        body = _request_body(request_file, data)
        uri = self.get(name).scoring_uri
        if uri is None:
            raise NotReady(
                f"online endpoint {name!r} is not served by a running server; start: mlyard server start"
            )
        headers = {"content-type": "application/json"}
        if deployment_name:
            headers["azureml-model-deployment"] = deployment_name
        for attempt in (1, 2):
            headers["authorization"] = f"Bearer {self._bearer(name, fresh=attempt == 2)}"
            try:
                response = httpx.post(uri, content=body, headers=headers, timeout=timeout)
            except httpx.TransportError as exc:
                raise NotReady(f"the server at {uri} does not answer: {exc}") from exc
            if response.status_code < 400:
                return response.text
            error = _error(response)
            if not isinstance(error, Unauthenticated) or attempt == 2:  # a key may just have been rotated
                raise error
        raise AssertionError("unreachable")

    def _bearer(self, name: str, fresh: bool) -> str:
        cached = self._credentials.get(name)
        if cached is not None and not fresh and time.monotonic() - cached[1] < CREDENTIALS_CACHE_SECONDS:
            return cached[0].bearer
        credentials = self.get_credentials(name)
        self._credentials[name] = (credentials, time.monotonic())
        return credentials.bearer


class LocalOnlineEndpointOperations(OnlineEndpointOperations):
    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self._workspace = workspace

    def create(self, endpoint: SpecSource) -> OnlineEndpoint:
        data, _, source = spec_data(endpoint, "endpoint")
        created = endpoint_service.create_endpoint(self._workspace, endpoint_spec_from_dict(data, source))
        sync_server(self._workspace)
        return self._with_uris(created)

    def get(self, name: str) -> OnlineEndpoint:
        return self._with_uris(endpoint_service.get_endpoint(self._workspace, name))

    def list(self) -> builtins.list[OnlineEndpoint]:
        server = find_server(self._workspace.path)
        return [self._with_uris(e, server) for e in endpoint_service.list_endpoints(self._workspace)]

    def update(
        self,
        name: str,
        traffic: Split | None = None,
        mirror_traffic: Split | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> OnlineEndpoint:
        updated = endpoint_service.update_endpoint(
            self._workspace, name, as_split(traffic, "--traffic"),
            as_split(mirror_traffic, "--mirror-traffic"), description, tags,
        )  # fmt: skip
        sync_server(self._workspace)
        return self._with_uris(updated)

    def delete(self, name: str) -> None:
        endpoint_service.delete_endpoint(self._workspace, name)
        sync_server(self._workspace)

    def get_credentials(self, name: str, token_lifetime_seconds: float | None = None) -> EndpointCredentials:
        return endpoint_service.get_credentials(self._workspace, name, token_lifetime_seconds)

    def regenerate_keys(self, name: str, key_type: str = "primary") -> EndpointCredentials:
        self._credentials.pop(name, None)
        credentials = endpoint_service.regenerate_keys(self._workspace, name, key_type)  # type: ignore[arg-type]
        sync_server(self._workspace)
        return credentials

    def metrics(
        self, name: str, window: int = 60, since: str | datetime | None = None, deployment: str | None = None
    ) -> EndpointMetrics:
        """Asked of the server running the gateway, which adds what it has not persisted yet; with
        `since` and no server running, read from the persisted minutes here."""
        from mlyard.services.online import endpoint_metrics_history as history

        endpoint_service.get_endpoint(self._workspace, name)
        start = history.parse_since(since) if since is not None else None
        if start is None:
            server = require_server(self._workspace.path)
        else:
            found_server = find_server(self._workspace.path)
            if found_server is None:
                return history.endpoint_history(self._workspace, name, start, deployment=deployment)
            server = found_server
        query = metrics_query(window, start, deployment)
        with _server_session(server) as session:
            found = session.get_json(f"online-endpoints/{name}/metrics", **query)
        return EndpointMetrics.model_validate(found)

    def _with_uris(
        self, endpoint: OnlineEndpoint, server: ServerRecord | None | bool = True
    ) -> OnlineEndpoint:
        record = find_server(self._workspace.path) if server is True else server
        if not isinstance(record, ServerRecord):
            return endpoint
        return endpoint.model_copy(
            update={
                "scoring_uri": record.scoring_uri(endpoint.name),
                "openapi_uri": record.openapi_uri(endpoint.name),
            }
        )


@contextmanager
def _server_session(server: ServerRecord) -> Iterator[Any]:
    """A REST session with the server running this workspace's endpoints, as the workspace's owner."""
    from mlyard.client.remote.session import RemoteSession

    session = RemoteSession(server.url, server.local_token, server.workspace)
    try:
        yield session
    finally:
        session.close()


def sync_server(workspace: Workspace) -> None:
    """After a change made here: wait until the server's gateway follows it, as a remote change does."""
    from mlyard.errors import MlyardError

    server = find_server(workspace.path)
    if server is None:
        return
    with contextlib.suppress(MlyardError), _server_session(server) as session:
        session.post_json("online-endpoints/sync")


def metrics_query(window: int, start: datetime | None, deployment: str | None) -> dict[str, Any]:
    """The metrics route's query: `since` as the ISO minute it was parsed to, so "24h" means the
    caller's now."""
    query: dict[str, Any] = {"window": window} if start is None else {"since": start.isoformat()}
    if deployment is not None:
        query["deployment"] = deployment
    return query


def _request_body(request_file: str | os.PathLike[str] | None, data: Any) -> bytes:
    if (request_file is None) == (data is None):
        raise InvalidArgument("give the request as request_file or as data (one of them)")
    if request_file is not None:
        path = Path(request_file).expanduser()
        if not path.is_file():
            from mlyard.errors import NotFound

            raise NotFound(f"request file {path} does not exist")
        return path.read_bytes()
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode()
    return json.dumps(data).encode()


def _error(response: Any) -> Exception:
    try:
        body = response.json()
    except ValueError:
        body = None
    return error_from_response(response.status_code, body)
