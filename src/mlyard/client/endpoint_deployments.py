"""`client.online_deployments`: deployments behind an endpoint — create, roll, scale, read logs, package.

    client.online_deployments.create("blue.yml", all_traffic=True)      # waits until Succeeded
    client.online_deployments.update("blue", "diabetes", set={"instance_count": "2"})
    print(client.online_deployments.get_logs("blue", "diabetes", lines=50))

`create` and `update` wait (by default) until the team server's supervisor reports the new
generation Succeeded — or raise `NotReady` with the reason when it Failed (an `init()` traceback,
an environment that did not build). A local client whose workspace no server serves records the
deployment and returns at once: it starts when a server does (`mlyard server start`).
"""

from __future__ import annotations

import builtins
import os
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from mlyard.client.endpoints import OnlineEndpointOperations, spec_data, sync_server
from mlyard.entities.endpoints.endpoint import DeploymentState, OnlineDeployment
from mlyard.errors import InvalidArgument, NotReady
from mlyard.services.online import endpoint_deployments as deployments
from mlyard.services.workspaces.server_file import find_server
from mlyard.services.workspaces.workspace import Workspace

WAIT_SECONDS = 900.0
POLL_SECONDS = 0.2
Spec = str | os.PathLike[str] | dict[str, Any] | Any


class OnlineDeploymentOperations(ABC):
    def __init__(self, endpoints: OnlineEndpointOperations) -> None:
        self._endpoints = endpoints

    def create(
        self,
        deployment: Spec,
        endpoint_name: str | None = None,
        all_traffic: bool = False,
        wait: bool = True,
        timeout: float = WAIT_SECONDS,
        set: dict[str, Any] | None = None,
    ) -> OnlineDeployment:
        """Create a deployment from its YAML (path), a mapping or a spec, with `set` overrides
        (`{"instance_count": 2}`); with `all_traffic`, send it 100 % of the endpoint's traffic once
        it is ready."""
        data, base_dir, source = spec_data(deployment, "deployment", set)
        created = self._create(data, base_dir, source, endpoint_name)
        if wait and self._is_served():
            created = self.wait(created.name, created.endpoint_name, created.generation, timeout)
        if all_traffic:
            self._endpoints.update(created.endpoint_name, traffic={created.name: 100})
        return created

    def update(
        self,
        name: str,
        endpoint_name: str,
        deployment: Spec | None = None,
        set: dict[str, Any] | None = None,
        wait: bool = True,
        timeout: float = WAIT_SECONDS,
    ) -> OnlineDeployment:
        """A rolling update: from a whole new spec (with `set` overrides applied to it), or the current
        one with `set` overrides (`{"instance_count": 2, "request_settings.request_timeout_ms": 900}`).
        The old instances serve until the new ones are all ready."""
        if deployment is None and not set:
            raise InvalidArgument("nothing to update: give a new spec (--file) and/or --set FIELD=VALUE")
        overrides = {key: str(value) for key, value in (set or {}).items()}
        if deployment is not None:
            data, base_dir, source = spec_data(deployment, "deployment", overrides)
            updated = self._update(name, endpoint_name, data, base_dir, source, None)
        else:
            updated = self._update(name, endpoint_name, None, Path.cwd(), "--set", overrides)
        if wait and self._is_served():
            updated = self.wait(name, endpoint_name, updated.generation, timeout)
        return updated

    def wait(
        self, name: str, endpoint_name: str, generation: int, timeout: float = WAIT_SECONDS
    ) -> OnlineDeployment:
        """Until `generation` is Succeeded; `NotReady` with the reason if it Failed or took too long."""
        deadline = time.monotonic() + timeout
        while True:
            current = self.get(name, endpoint_name)
            if current.generation > generation:
                return current  # superseded by a newer update: nothing left to wait for here
            if current.provisioning_state == DeploymentState.SUCCEEDED:
                return current
            if current.provisioning_state == DeploymentState.FAILED:
                raise NotReady(
                    f"deployment {name!r} of endpoint {endpoint_name!r} failed: {current.error}\n"
                    f"(see: mlyard online-deployment get-logs --name {name} --endpoint-name {endpoint_name})"
                )
            if time.monotonic() > deadline:
                raise NotReady(
                    f"deployment {name!r} is still {current.provisioning_state.value} after {timeout:.0f} s; "
                    f"see: mlyard online-deployment get-logs --name {name} --endpoint-name {endpoint_name}"
                )
            time.sleep(POLL_SECONDS)

    @abstractmethod
    def get(self, name: str, endpoint_name: str) -> OnlineDeployment: ...

    @abstractmethod
    def list(self, endpoint_name: str) -> builtins.list[OnlineDeployment]: ...

    @abstractmethod
    def delete(self, name: str, endpoint_name: str) -> None:
        """Delete a deployment that takes no live or mirror traffic; its instances drain and stop."""

    @abstractmethod
    def get_logs(self, name: str, endpoint_name: str, lines: int | None = None) -> str:
        """The supervisor's events and what the instances printed (tracebacks of a failing init())."""

    def package(
        self, name: str, endpoint_name: str, output_path: str | os.PathLike[str], image: str | None = None
    ) -> Any:
        """A Docker build context and Kubernetes manifests for the deployment, in `output_path`."""
        from mlyard.entities.assets.environment_spec import ResolvedEnvironment
        from mlyard.serving.packaging import PackageSettings, Probe, package_deployment

        deployment = self.get(name, endpoint_name)
        model_dir, code_dir = self._local_files(deployment)
        settings = deployment.settings
        requests = settings.request_settings
        package_settings = PackageSettings(
            instance_count=settings.instance_count,
            max_concurrent_requests=requests.max_concurrent_requests_per_instance,
            request_timeout_ms=requests.request_timeout_ms,
            liveness_probe=Probe(**settings.liveness_probe.model_dump()),
            readiness_probe=Probe(**settings.readiness_probe.model_dump()),
        )
        environment = (
            ResolvedEnvironment.model_validate(deployment.environment) if deployment.environment else None
        )
        return package_deployment(
            model_dir, Path(output_path), name=f"{endpoint_name}-{name}".lower(), environment=environment,
            code_dir=code_dir, scoring_script=deployment.code.scoring_script if deployment.code else None,
            image=image, settings=package_settings,
            model_folder_name=deployment.model.folder_name if deployment.model else None,
        )  # fmt: skip

    @abstractmethod
    def _create(
        self, data: dict[str, Any], base_dir: Path, source: str, endpoint_name: str | None
    ) -> OnlineDeployment: ...

    @abstractmethod
    def _update(
        self,
        name: str,
        endpoint_name: str,
        data: dict[str, Any] | None,
        base_dir: Path,
        source: str,
        overrides: dict[str, str] | None,
    ) -> OnlineDeployment: ...

    @abstractmethod
    def _is_served(self) -> bool:
        """Whether a supervisor runs this workspace's deployments (else there is nothing to wait for)."""

    @abstractmethod
    def _local_files(self, deployment: OnlineDeployment) -> tuple[Path, Path | None]:
        """Local folders with the deployment's model and code (downloaded when remote)."""


class LocalOnlineDeploymentOperations(OnlineDeploymentOperations):
    def __init__(self, workspace: Workspace, endpoints: OnlineEndpointOperations) -> None:
        super().__init__(endpoints)
        self._workspace = workspace

    def get(self, name: str, endpoint_name: str) -> OnlineDeployment:
        return deployments.get_deployment(self._workspace, endpoint_name, name)

    def list(self, endpoint_name: str) -> builtins.list[OnlineDeployment]:
        return deployments.list_deployments(self._workspace, endpoint_name)

    def delete(self, name: str, endpoint_name: str) -> None:
        deployments.delete_deployment(self._workspace, endpoint_name, name)
        sync_server(self._workspace)

    def get_logs(self, name: str, endpoint_name: str, lines: int | None = None) -> str:
        return deployments.get_logs(self._workspace, endpoint_name, name, lines)

    def _create(
        self, data: dict[str, Any], base_dir: Path, source: str, endpoint_name: str | None
    ) -> OnlineDeployment:
        spec = deployments.spec_from_dict(data, source)
        created = deployments.create_deployment(self._workspace, spec, base_dir, source, endpoint_name)
        sync_server(self._workspace)
        return created

    def _update(
        self,
        name: str,
        endpoint_name: str,
        data: dict[str, Any] | None,
        base_dir: Path,
        source: str,
        overrides: dict[str, str] | None,
    ) -> OnlineDeployment:
        spec = deployments.spec_from_dict(data, source) if data is not None else None
        updated = deployments.update_deployment(
            self._workspace, endpoint_name, name, spec, base_dir, source, overrides
        )
        sync_server(self._workspace)
        return updated

    def _is_served(self) -> bool:
        return find_server(self._workspace.path) is not None

    def _local_files(self, deployment: OnlineDeployment) -> tuple[Path, Path | None]:
        from mlyard.services.assets.code_snapshots import code_folder
        from mlyard.services.model_registry import models

        model_dir = (
            models.model_local_path(
                self._workspace, models.get_model_version(self._workspace, deployment.model.ref)
            )
            if deployment.model
            else _empty_folder()
        )
        code = deployment.code
        code_dir = code_folder(self._workspace, code.artifact_path, code.code_hash) if code else None
        return model_dir, code_dir


def _empty_folder() -> Path:
    import tempfile

    return Path(tempfile.mkdtemp(prefix="mlyard-no-model-"))
