"""`MLClient`: the SDK entry point, one operations object per concept (as Azure ML's MLClient).

    MLClient()                                   ./.mlyard, or MLYARD_WORKSPACE, or MLYARD_URL
    MLClient(workspace="path/to/ws")             an existing workspace folder (SQLite, or its --db)
    MLClient(workspace="new/ws", create=True)    the same, created if missing
    MLClient(url="http://host:8080", key="…")    a team server; the key says which workspace
    MLClient(registry_name="shared")             a registry (models, environments, components,
                                                 data), as azure-ai-ml's MLClient(registry_name=…);
                                                 with url=…, the one that server serves

Local and remote clients have the same operations and behave the same; the remote one talks to
the server's REST API.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

if TYPE_CHECKING:
    from mlyard.client.access import AuditOperations, KeyOperations, SettingsOperations
    from mlyard.client.batch_endpoints import BatchDeploymentOperations, BatchEndpointOperations
    from mlyard.client.components import ComponentOperations
    from mlyard.client.computes import ComputeOperations
    from mlyard.client.data import DataOperations
    from mlyard.client.endpoint_deployments import OnlineDeploymentOperations
    from mlyard.client.endpoints import OnlineEndpointOperations
    from mlyard.client.environments import EnvironmentOperations
    from mlyard.client.events import EventOperations
    from mlyard.client.jobs import JobOperations
    from mlyard.client.maturity import MaturityOperations
    from mlyard.client.models import ModelOperations
    from mlyard.client.monitors import MonitorOperations
    from mlyard.client.schedules import ScheduleOperations

ENV_URL = "MLYARD_URL"
ENV_KEY = "MLYARD_KEY"
ENV_WORKSPACE_NAME = "MLYARD_WORKSPACE_NAME"
T = TypeVar("T")


class Operations(Generic[T]):
    """An operations attribute of `MLClient`, built on first use — local or remote — so a script
    that only logs metrics does not import the registry, environments or the remote client."""

    def __init__(self, local: str, remote: str, *needs: str) -> None:
        self.local, self.remote = local, remote  # "module:Class"
        self.needs = needs  # other operations it is built with (deployments need their endpoints)

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, client: None, owner: type) -> Operations[T]: ...

    @overload
    def __get__(self, client: MLClient, owner: type) -> T: ...

    def __get__(self, client: MLClient | None, owner: type) -> Operations[T] | T:
        if client is None:
            return self
        from importlib import import_module

        module, _, name = (self.remote if client._session is not None else self.local).partition(":")
        others = [getattr(client, need) for need in self.needs]
        built: T = getattr(import_module(module), name)(client._session or client._workspace, *others)
        client.__dict__[self.name] = built  # from now on the instance attribute answers
        return built


class MLClient:
    """Work with one workspace, in this process or through a team server."""

    jobs: Operations[JobOperations] = Operations(
        "mlyard.client.jobs:LocalJobOperations", "mlyard.client.remote.jobs:RemoteJobOperations"
    )
    data: Operations[DataOperations] = Operations(
        "mlyard.client.data:LocalDataOperations", "mlyard.client.remote.registry:RemoteDataOperations"
    )
    models: Operations[ModelOperations] = Operations(
        "mlyard.client.models:LocalModelOperations", "mlyard.client.remote.registry:RemoteModelOperations"
    )
    environments: Operations[EnvironmentOperations] = Operations(
        "mlyard.client.environments:LocalEnvironmentOperations",
        "mlyard.client.remote.assets:RemoteEnvironmentOperations",
    )
    components: Operations[ComponentOperations] = Operations(
        "mlyard.client.components:LocalComponentOperations",
        "mlyard.client.remote.assets:RemoteComponentOperations",
    )
    computes: Operations[ComputeOperations] = Operations(
        "mlyard.client.computes:LocalComputeOperations", "mlyard.client.remote.assets:RemoteComputeOperations"
    )
    keys: Operations[KeyOperations] = Operations(
        "mlyard.client.access:LocalKeyOperations", "mlyard.client.remote.access:RemoteKeyOperations"
    )
    audit: Operations[AuditOperations] = Operations(
        "mlyard.client.access:LocalAuditOperations", "mlyard.client.remote.access:RemoteAuditOperations"
    )
    settings: Operations[SettingsOperations] = Operations(
        "mlyard.client.access:LocalSettingsOperations", "mlyard.client.remote.access:RemoteSettingsOperations"
    )
    online_endpoints: Operations[OnlineEndpointOperations] = Operations(
        "mlyard.client.endpoints:LocalOnlineEndpointOperations",
        "mlyard.client.remote.endpoints:RemoteOnlineEndpointOperations",
    )
    online_deployments: Operations[OnlineDeploymentOperations] = Operations(
        "mlyard.client.endpoint_deployments:LocalOnlineDeploymentOperations",
        "mlyard.client.remote.endpoints:RemoteOnlineDeploymentOperations",
        "online_endpoints",
    )
    batch_endpoints: Operations[BatchEndpointOperations] = Operations(
        "mlyard.client.batch_endpoints:LocalBatchEndpointOperations",
        "mlyard.client.remote.batch_endpoints:RemoteBatchEndpointOperations",
    )
    batch_deployments: Operations[BatchDeploymentOperations] = Operations(
        "mlyard.client.batch_endpoints:LocalBatchDeploymentOperations",
        "mlyard.client.remote.batch_endpoints:RemoteBatchDeploymentOperations",
    )
    events: Operations[EventOperations] = Operations(
        "mlyard.client.events:LocalEventOperations", "mlyard.client.remote.events:RemoteEventOperations"
    )
    schedules: Operations[ScheduleOperations] = Operations(
        "mlyard.client.schedules:LocalScheduleOperations",
        "mlyard.client.remote.events:RemoteScheduleOperations",
    )
    monitors: Operations[MonitorOperations] = Operations(
        "mlyard.client.monitors:LocalMonitorOperations",
        "mlyard.client.remote.monitors:RemoteMonitorOperations",
    )
    maturity: Operations[MaturityOperations] = Operations(
        "mlyard.client.maturity:LocalMaturityOperations",
        "mlyard.client.remote.maturity:RemoteMaturityOperations",
    )

    def __init__(
        self,
        workspace: str | os.PathLike[str] | None = None,
        db: str | None = None,
        artifacts: str | None = None,
        *,
        url: str | None = None,
        key: str | None = None,
        workspace_name: str | None = None,
        create: bool | None = None,
        registry_name: str | None = None,
    ) -> None:
        """`create`: make the workspace if it does not exist. By default only the default one
        (./.mlyard or MLYARD_WORKSPACE) is made on first use, as a notebook expects; a folder named
        here must exist, so a misspelt path is an error naming it rather than a new, empty one."""
        self._session: Any = None
        self._workspace: Any = None
        if url is None and workspace is None and db is None and artifacts is None:
            url = os.environ.get(ENV_URL) or None
        if url is not None:
            from mlyard.client.remote.session import RemoteSession

            self._session = RemoteSession(
                url,
                key if key is not None else os.environ.get(ENV_KEY) or None,
                workspace_name or os.environ.get(ENV_WORKSPACE_NAME) or None,
                registry=registry_name,
            )
            return
        if registry_name is not None:
            from mlyard.services.registries.registries import open_registry

            self._workspace = open_registry(registry_name)
            return
        from mlyard.services.workspaces.workspace import open_workspace

        if create is None:
            create = workspace is None
        self._workspace = open_workspace(workspace, db=db, artifacts=artifacts, create=create)

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
        """Where this workspace keeps its records and artifacts, and what it holds (the server's
        view when remote)."""
        if self._session is not None:
            described: dict[str, Any] = self._session.get_json("")
            return described
        from mlyard.services.workspaces.stats import workspace_overview

        return workspace_overview(self._workspace)

    def list_registries(self) -> list[dict[str, Any]]:
        """The registries this client reaches: the server's (`GET /api/v1/registries`, names only),
        or this machine's index (name and where each is)."""
        if self._session is not None:
            served: list[dict[str, Any]] = self._session.get_json("/api/v1/registries")["value"]
            return served
        from mlyard.services.registries.registries import list_registries

        return list_registries()

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
        return MLClient(workspace=workspace, create=True)  # a run is a write: it may make the workspace
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
