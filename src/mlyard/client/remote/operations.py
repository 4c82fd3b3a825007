"""Every remote operations class, for `MLClient` to attach in one import."""

from mlyard.client.remote.access import RemoteAuditOperations, RemoteKeyOperations, RemoteSettingsOperations
from mlyard.client.remote.assets import (
    RemoteComponentOperations,
    RemoteComputeOperations,
    RemoteEnvironmentOperations,
)
from mlyard.client.remote.batch_endpoints import (
    RemoteBatchDeploymentOperations,
    RemoteBatchEndpointOperations,
)
from mlyard.client.remote.jobs import RemoteJobOperations
from mlyard.client.remote.registry import RemoteDataOperations, RemoteModelOperations

__all__ = [
    "RemoteAuditOperations", "RemoteBatchDeploymentOperations", "RemoteBatchEndpointOperations",
    "RemoteComponentOperations", "RemoteComputeOperations", "RemoteDataOperations",
    "RemoteEnvironmentOperations", "RemoteJobOperations", "RemoteKeyOperations", "RemoteModelOperations",
    "RemoteSettingsOperations",
]  # fmt: skip
