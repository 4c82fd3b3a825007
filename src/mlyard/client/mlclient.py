"""`MLClient`: the SDK entry point, one operations object per concept (as Azure ML's MLClient).

    MLClient()                                   ./.mlyard, or MLYARD_WORKSPACE, or MLYARD_URL
    MLClient(workspace="path/to/ws")             a workspace folder (SQLite, or its recorded --db)
    MLClient(url="http://host:8080", key="…")    a team server; the key says which workspace

Local and remote clients have the same operations and behave the same; the remote one talks to
the server's REST API.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from mlyard.client.access import (
    AuditOperations,
    KeyOperations,
    LocalAuditOperations,
    LocalKeyOperations,
    LocalSettingsOperations,
    SettingsOperations,
)
from mlyard.client.batch_endpoints import (
    BatchDeploymentOperations,
    BatchEndpointOperations,
    LocalBatchDeploymentOperations,
    LocalBatchEndpointOperations,
)
from mlyard.client.components import ComponentOperations, LocalComponentOperations
from mlyard.client.computes import ComputeOperations, LocalComputeOperations
from mlyard.client.data import DataOperations, LocalDataOperations
from mlyard.client.environments import EnvironmentOperations, LocalEnvironmentOperations
from mlyard.client.jobs import JobOperations, LocalJobOperations
from mlyard.client.models import LocalModelOperations, ModelOperations

ENV_URL = "MLYARD_URL"
ENV_KEY = "MLYARD_KEY"
ENV_WORKSPACE_NAME = "MLYARD_WORKSPACE_NAME"


class MLClient:
    """Work with one workspace, in this process or through a team server."""

    jobs: JobOperations
    data: DataOperations
    models: ModelOperations
    environments: EnvironmentOperations
    components: ComponentOperations
    computes: ComputeOperations
    keys: KeyOperations
    audit: AuditOperations
    settings: SettingsOperations
    batch_endpoints: BatchEndpointOperations
    batch_deployments: BatchDeploymentOperations

    def __init__(
        self,
        workspace: str | os.PathLike[str] | None = None,
        db: str | None = None,
        artifacts: str | None = None,
        *,
        url: str | None = None,
        key: str | None = None,
        workspace_name: str | None = None,
    ) -> None:
        if url is None and workspace is None and db is None and artifacts is None:
            url = os.environ.get(ENV_URL) or None
        if url is not None:
            from mlyard.client.remote.session import RemoteSession

            session = RemoteSession(
                url,
                key if key is not None else os.environ.get(ENV_KEY) or None,
                workspace_name or os.environ.get(ENV_WORKSPACE_NAME) or None,
            )
            self._attach_remote(session)
            return
        from mlyard.services.workspace import open_workspace

        self._workspace = open_workspace(workspace, db=db, artifacts=artifacts)
        self._session = None
        self.jobs = LocalJobOperations(self._workspace)
        self.data = LocalDataOperations(self._workspace)
        self.models = LocalModelOperations(self._workspace)
        self.environments = LocalEnvironmentOperations(self._workspace)
        self.components = LocalComponentOperations(self._workspace)
        self.computes = LocalComputeOperations(self._workspace)
        self.keys = LocalKeyOperations(self._workspace)
        self.audit = LocalAuditOperations(self._workspace)
        self.settings = LocalSettingsOperations(self._workspace)
        self.batch_endpoints = LocalBatchEndpointOperations(self._workspace)
        self.batch_deployments = LocalBatchDeploymentOperations(self._workspace)

    def _attach_remote(self, session: Any) -> None:
        from mlyard.client.remote import operations

        self._session = session
        self.jobs = operations.RemoteJobOperations(session)
        self.data = operations.RemoteDataOperations(session)
        self.models = operations.RemoteModelOperations(session)
        self.environments = operations.RemoteEnvironmentOperations(session)
        self.components = operations.RemoteComponentOperations(session)
        self.computes = operations.RemoteComputeOperations(session)
        self.keys = operations.RemoteKeyOperations(session)
        self.audit = operations.RemoteAuditOperations(session)
        self.settings = operations.RemoteSettingsOperations(session)
        self.batch_endpoints = operations.RemoteBatchEndpointOperations(session)
        self.batch_deployments = operations.RemoteBatchDeploymentOperations(session)

    def close(self) -> None:
        """Close the connections to the server (a local client holds none of its own)."""
        if self._session is not None:
            self._session.close()

    def __enter__(self) -> MLClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def is_remote(self) -> bool:
        return self._session is not None

    @property
    def workspace(self) -> dict[str, Any]:
        """Where this workspace keeps its records and artifacts (the server's view when remote)."""
        if self._session is not None:
            described: dict[str, Any] = self._session.get_json("")
            return described
        return self._workspace.describe()

    def __repr__(self) -> str:
        if self._session is not None:
            return f"MLClient(url={self._session.base_url!r}, workspace_name={self._session.workspace!r})"
        return f"MLClient(workspace={str(self._workspace.path)!r})"


_remote_clients: dict[tuple[str | None, ...], MLClient] = {}
_clients_lock = threading.Lock()


def client_for(workspace: str | os.PathLike[str] | None = None) -> MLClient:
    """The client the active-run API uses: `workspace` if given, else the team server of
    MLYARD_URL, else the local workspace (MLYARD_WORKSPACE or ./.mlyard).

    Remote clients are kept per server and key (their connection pool is worth reusing); a local
    one is cheap, its workspace being cached by `open_workspace`.
    """
    url = None if workspace is not None else os.environ.get(ENV_URL) or None
    if url is None:
        return MLClient(workspace=workspace)
    cache_key = (url, os.environ.get(ENV_KEY), os.environ.get(ENV_WORKSPACE_NAME))
    with _clients_lock:
        client = _remote_clients.get(cache_key)
        if client is None:
            client = _remote_clients[cache_key] = MLClient(url=url)
        return client


def forget_clients() -> None:
    """Close and drop the cached remote clients (tests, forked workers)."""
    with _clients_lock:
        clients = list(_remote_clients.values())
        _remote_clients.clear()
    for client in clients:
        client.close()
